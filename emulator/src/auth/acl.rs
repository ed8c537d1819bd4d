//! ACL decisions: what a principal may do with a bucket or object, from the canned ACLs.
//! The owner (the account whose appid the bucket carries) may do everything; anyone else —
//! another account or an anonymous request — gets only what `public-read` /
//! `public-read-write` grant. SSE-specific limits on anonymous reads (COS-ANON, KMS-ANON,
//! SSEC-ANON) are applied by the object operations on top of this.

use super::Principal;
use crate::store::{Acl, BucketRecord, ObjectMeta};

/// What the caller wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// List objects, HEAD Bucket.
    ReadBucket,
    /// Create, replace or delete objects.
    WriteObjects,
    /// GET or HEAD an object.
    ReadObject,
    /// Read or change ACLs, delete the bucket: owner only.
    OwnerOnly,
}

/// Whether `principal` owns `bucket`.
pub fn is_owner(principal: &Principal, bucket: &BucketRecord) -> bool {
    principal.appid() == Some(bucket.appid.as_str())
}

fn readable(acl: Acl) -> bool {
    matches!(acl, Acl::PublicRead | Acl::PublicReadWrite)
}

/// The decision: may `principal` do `action` on `bucket` (and `object`, for object reads)?
pub fn allows(
    principal: &Principal,
    bucket: &BucketRecord,
    object: Option<&ObjectMeta>,
    action: Action,
) -> bool {
    if is_owner(principal, bucket) {
        return true;
    }
    match action {
        Action::ReadBucket => readable(bucket.acl),
        Action::WriteObjects => bucket.acl == Acl::PublicReadWrite,
        Action::ReadObject => match object.map(|o| o.acl) {
            Some(Acl::Default) | None => readable(bucket.acl),
            Some(acl) => readable(acl),
        },
        Action::OwnerOnly => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Account;

    fn bucket(acl: Acl) -> BucketRecord {
        BucketRecord {
            name: "b-1250000000".into(),
            appid: "1250000000".into(),
            region: "ap-beijing".into(),
            created_ms: 0,
            acl,
            cors: Vec::new(),
        }
    }

    fn object(acl: Acl) -> ObjectMeta {
        ObjectMeta {
            key: "k".into(),
            size: 0,
            etag: String::new(),
            crc64: 0,
            modified_ms: 0,
            content_type: String::new(),
            headers: Default::default(),
            user_meta: Default::default(),
            storage_class: "STANDARD".into(),
            acl,
            owner: "1250000000".into(),
            write_id: "w".into(),
            sse: None,
            mac: String::new(),
        }
    }

    #[test]
    fn owner_may_do_everything_others_what_acls_grant() {
        let owner = Principal::Account(Account::development());
        let other = Principal::Account(Account {
            secret_id: "x".into(),
            secret_key: "y".into(),
            appid: "1250000001".into(),
        });
        let anon = Principal::Anonymous;
        let private = bucket(Acl::Private);
        assert!(allows(&owner, &private, None, Action::OwnerOnly));
        for p in [&other, &anon] {
            assert!(!allows(p, &private, None, Action::ReadBucket));
            assert!(!allows(
                p,
                &private,
                Some(&object(Acl::Default)),
                Action::ReadObject
            ));
            assert!(allows(
                p,
                &private,
                Some(&object(Acl::PublicRead)),
                Action::ReadObject
            ));
            assert!(!allows(
                p,
                &bucket(Acl::PublicRead),
                Some(&object(Acl::Private)),
                Action::ReadObject
            ));
            assert!(allows(
                p,
                &bucket(Acl::PublicRead),
                Some(&object(Acl::Default)),
                Action::ReadObject
            ));
            assert!(!allows(
                p,
                &bucket(Acl::PublicRead),
                None,
                Action::WriteObjects
            ));
            assert!(allows(
                p,
                &bucket(Acl::PublicReadWrite),
                None,
                Action::WriteObjects
            ));
            assert!(!allows(
                p,
                &bucket(Acl::PublicReadWrite),
                None,
                Action::OwnerOnly
            ));
        }
    }
}
