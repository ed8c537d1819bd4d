//! The `AccessControlPolicy` document of GET/PUT Bucket acl and Object acl, mapped to and
//! from the canned ACLs the emulator stores.

use super::owner_id;
use crate::error::{Error, ErrorCode};
use crate::request::Request;
use crate::store::Acl;
use crate::xml::{self, XmlWriter};

/// The group COS uses for "everyone".
const ALL_USERS: &str = "http://cam.qcloud.com/groups/global/AllUsers";

fn grant_user(w: &mut XmlWriter, id: &str, permission: &str) {
    w.open("Grant");
    w.raw("<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\">");
    w.leaf("ID", id);
    w.leaf("DisplayName", id);
    w.close("Grantee");
    w.leaf("Permission", permission);
    w.close("Grant");
}

fn grant_all(w: &mut XmlWriter, permission: &str) {
    w.open("Grant");
    w.raw("<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"Group\">");
    w.leaf("URI", ALL_USERS);
    w.close("Grantee");
    w.leaf("Permission", permission);
    w.close("Grant");
}

/// The policy document of a canned ACL owned by `appid`.
pub fn document(appid: &str, acl: Acl) -> String {
    let owner = owner_id(appid);
    let mut w = XmlWriter::new();
    w.open("AccessControlPolicy");
    w.open("Owner");
    w.leaf("ID", &owner);
    w.leaf("DisplayName", &owner);
    w.close("Owner");
    w.open("AccessControlList");
    grant_user(&mut w, &owner, "FULL_CONTROL");
    match acl {
        Acl::PublicRead => grant_all(&mut w, "READ"),
        Acl::PublicReadWrite => {
            grant_all(&mut w, "READ");
            grant_all(&mut w, "WRITE");
        }
        Acl::Private | Acl::Default => {}
    }
    w.close("AccessControlList");
    w.close("AccessControlPolicy");
    w.finish()
}

/// Reads a policy document into the canned ACL it expresses. Grants to other accounts
/// cannot be stored as a canned ACL and are `NotImplemented`.
pub fn parse(doc: &[u8]) -> Result<Acl, Error> {
    let root = xml::parse(doc)?;
    let malformed = |why: &str| {
        Error::new(
            ErrorCode::MalformedXml,
            format!("AccessControlPolicy: {why}"),
        )
    };
    if root.name != "AccessControlPolicy" {
        return Err(malformed("the root element must be AccessControlPolicy"));
    }
    let list = root
        .child("AccessControlList")
        .ok_or_else(|| malformed("AccessControlList is missing"))?;
    let (mut read, mut write) = (false, false);
    for grant in list.children_named("Grant") {
        let grantee = grant
            .child("Grantee")
            .ok_or_else(|| malformed("Grant without Grantee"))?;
        let permission = grant
            .child("Permission")
            .map(|p| p.text.as_str())
            .ok_or_else(|| malformed("Grant without Permission"))?;
        if !matches!(
            permission,
            "READ" | "WRITE" | "FULL_CONTROL" | "READ_ACP" | "WRITE_ACP"
        ) {
            return Err(malformed(&format!("unknown Permission {permission}")));
        }
        match grantee.child("URI").map(|u| u.text.as_str()) {
            Some(ALL_USERS) => match permission {
                "READ" => read = true,
                "WRITE" => write = true,
                other => return Err(not_canned(&format!("{other} for AllUsers"))),
            },
            Some(other) => return Err(not_canned(&format!("grantee group {other}"))),
            None => {
                let is_owner = grantee.child("ID").is_some() && permission == "FULL_CONTROL";
                if !is_owner {
                    return Err(not_canned("grants to individual accounts"));
                }
            }
        }
    }
    Ok(match (read, write) {
        (true, true) => Acl::PublicReadWrite,
        (true, false) => Acl::PublicRead,
        (false, false) => Acl::Private,
        (false, true) => return Err(not_canned("WRITE without READ for AllUsers")),
    })
}

fn not_canned(what: &str) -> Error {
    Error::new(
        ErrorCode::NotImplemented,
        format!("the emulator stores canned ACLs only; {what} is not implemented"),
    )
}

/// The ACL a PUT ?acl request asks for: `x-cos-acl`, or else the policy body.
pub async fn requested(req: Request, object: bool) -> Result<Acl, Error> {
    if req
        .headers
        .keys()
        .any(|k| k.as_str().starts_with("x-cos-grant-"))
    {
        return Err(not_canned("x-cos-grant-* headers"));
    }
    if let Some(v) = req.header("x-cos-acl")? {
        return Acl::parse(v, object).ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("x-cos-acl {v:?} is not a canned ACL"),
            )
        });
    }
    let doc = super::read_document(req.body, xml::MAX_DOCUMENT).await?;
    if doc.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::new(
            ErrorCode::InvalidRequest,
            "PUT acl needs x-cos-acl or an AccessControlPolicy body",
        ));
    }
    parse(&doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_of_canned_acls() {
        for acl in [Acl::Private, Acl::PublicRead, Acl::PublicReadWrite] {
            assert_eq!(parse(document("1250000000", acl).as_bytes()).unwrap(), acl);
        }
    }

    #[test]
    fn bad_documents() {
        assert_eq!(parse(b"<A/>").unwrap_err().code, ErrorCode::MalformedXml);
        assert_eq!(
            parse(b"<AccessControlPolicy>").unwrap_err().code,
            ErrorCode::MalformedXml
        );
        let other = b"<AccessControlPolicy><AccessControlList><Grant><Grantee><ID>x</ID></Grantee><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>";
        assert_eq!(parse(other).unwrap_err().code, ErrorCode::NotImplemented);
    }
}
