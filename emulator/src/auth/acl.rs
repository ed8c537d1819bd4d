//! ACL decisions: what a principal may do with a bucket or object, from the canned ACLs
//! and the explicit grants beside them. The owner (the account whose appid the bucket
//! carries) may do everything; anyone else — another account or an anonymous request — gets
//! what `public-read` / `public-read-write` grant, plus what a grant names it (by account id)
//! or everyone (`AllUsers`) for: READ, WRITE, READ_ACP, WRITE_ACP or FULL_CONTROL (all four).
//! An object whose canned ACL is `default` inherits the bucket's reading rights (canned and
//! granted). SSE-specific limits on anonymous reads (COS-ANON, KMS-ANON, SSEC-ANON) and
//! SSE-C's key requirement apply on top of this, in the object operations: a grant lets an
//! account ask, never read an SSE-KMS object anonymously or an SSE-C object without its key.

use super::Principal;
use crate::store::{Acl, BucketRecord, Grant, Grantee, ObjectMeta, Permission};

/// What the caller wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// List objects, HEAD Bucket.
    ReadBucket,
    /// Create, replace or delete objects.
    WriteObjects,
    /// GET or HEAD an object.
    ReadObject,
    /// Read the ACL of the bucket (no object given) or of the object given; the bucket's
    /// location.
    ReadAcp,
    /// Replace the ACL of the bucket or of the object given.
    WriteAcp,
    /// Delete the bucket, change its CORS: owner only.
    OwnerOnly,
}

/// The canonical id COS writes and grants name for an account (`qcs::cam::uin/<appid>:
/// uin/<appid>`; the emulator's accounts are root accounts, whose uin is their appid).
pub fn canonical_id(appid: &str) -> String {
    format!("qcs::cam::uin/{appid}:uin/{appid}")
}

/// Whether `principal` owns `bucket`.
pub fn is_owner(principal: &Principal, bucket: &BucketRecord) -> bool {
    principal.appid() == Some(bucket.appid.as_str())
}

/// Whether `principal` is the owner of the bucket named `bucket`, from the name alone: a
/// bucket's name ends with its owner's appid, since only that account can create it (PUT
/// Bucket). Known before the bucket's record is read.
pub fn owns_bucket_named(principal: &Principal, bucket: &str) -> bool {
    let suffix = bucket.rsplit_once('-').map(|(_, appid)| appid);
    principal.appid().is_some_and(|appid| suffix == Some(appid))
}

fn readable(acl: Acl) -> bool {
    matches!(acl, Acl::PublicRead | Acl::PublicReadWrite)
}

/// Whether `grants` give `principal` the permission `wanted` (FULL_CONTROL gives all).
fn granted(principal: &Principal, grants: &[Grant], wanted: Permission) -> bool {
    grants.iter().any(|g| {
        (g.permission == wanted || g.permission == Permission::FullControl)
            && match &g.grantee {
                Grantee::AllUsers => true,
                Grantee::Account(id) => principal.appid().is_some_and(|a| *id == canonical_id(a)),
            }
    })
}

/// The decision: may `principal` do `action` on `bucket` (and `object`, for object reads
/// and object ACLs)?
pub fn allows(
    principal: &Principal,
    bucket: &BucketRecord,
    object: Option<&ObjectMeta>,
    action: Action,
) -> bool {
    if is_owner(principal, bucket) {
        return true;
    }
    let bucket_reads =
        || readable(bucket.acl) || granted(principal, &bucket.grants, Permission::Read);
    match action {
        Action::ReadBucket => bucket_reads(),
        Action::WriteObjects => {
            bucket.acl == Acl::PublicReadWrite
                || granted(principal, &bucket.grants, Permission::Write)
        }
        Action::ReadObject => match object {
            Some(o) if granted(principal, &o.grants, Permission::Read) => true,
            Some(o) if o.acl != Acl::Default => readable(o.acl),
            _ => bucket_reads(),
        },
        Action::ReadAcp | Action::WriteAcp => {
            let wanted = if action == Action::ReadAcp {
                Permission::ReadAcp
            } else {
                Permission::WriteAcp
            };
            let grants = object.map_or(&bucket.grants, |o| &o.grants);
            granted(principal, grants, wanted)
        }
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
            grants: Vec::new(),
            cors: Vec::new(),
            encryption: None,
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
            grants: Vec::new(),
            owner: "1250000000".into(),
            write_id: "w".into(),
            sse: None,
            mac: String::new(),
        }
    }

    #[test]
    fn the_owner_of_a_bucket_is_known_from_its_name() {
        let owner = Principal::Account(Account::development());
        let appid = owner.appid().unwrap().to_string();
        assert!(owns_bucket_named(&owner, &format!("photos-{appid}")));
        assert!(owns_bucket_named(&owner, &format!("my-photos-{appid}")));
        assert!(!owns_bucket_named(&owner, "photos-1250000009"));
        assert!(!owns_bucket_named(&owner, &format!("photos-{appid}0")));
        assert!(!owns_bucket_named(&owner, &appid));
        assert!(!owns_bucket_named(
            &Principal::Anonymous,
            &format!("photos-{appid}")
        ));
    }

    #[test]
    fn grants_allow_the_named_account_or_everyone() {
        let other = Principal::Account(Account {
            secret_id: "x".into(),
            secret_key: "y".into(),
            appid: "1250000001".into(),
        });
        let third = Principal::Account(Account {
            secret_id: "z".into(),
            secret_key: "w".into(),
            appid: "1250000002".into(),
        });
        let grant = |grantee: Grantee, permission| Grant {
            grantee,
            permission,
        };
        let mut o = object(Acl::Private);
        o.grants = vec![grant(
            Grantee::Account(canonical_id("1250000001")),
            Permission::Read,
        )];
        let b = bucket(Acl::Private);
        assert!(allows(&other, &b, Some(&o), Action::ReadObject));
        assert!(!allows(&third, &b, Some(&o), Action::ReadObject));
        assert!(!allows(
            &Principal::Anonymous,
            &b,
            Some(&o),
            Action::ReadObject
        ));
        assert!(!allows(&other, &b, Some(&o), Action::ReadAcp));
        o.grants = vec![grant(Grantee::AllUsers, Permission::FullControl)];
        for action in [Action::ReadObject, Action::ReadAcp, Action::WriteAcp] {
            assert!(allows(&Principal::Anonymous, &b, Some(&o), action));
        }
        let mut b = bucket(Acl::Private);
        b.grants = vec![grant(
            Grantee::Account(canonical_id("1250000001")),
            Permission::Write,
        )];
        assert!(allows(&other, &b, None, Action::WriteObjects));
        assert!(!allows(&other, &b, None, Action::ReadBucket));
        assert!(!allows(&other, &b, None, Action::OwnerOnly));
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
