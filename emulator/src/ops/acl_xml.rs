//! The ACL of PUT/GET Bucket acl and Object acl: the `AccessControlPolicy` document and the
//! `x-cos-acl` / `x-cos-grant-*` headers, to and from what the emulator stores — a canned
//! ACL and the explicit grants beside it (`store::Grant`).
//!
//! A grant names an account by its canonical id (`id="qcs::cam::uin/<uin>:uin/<uin>"`) or
//! everyone (`uri="http://cam.qcloud.com/groups/global/AllUsers"`). PUT replaces the whole
//! ACL: `x-cos-acl` and/or `x-cos-grant-*` headers (the canned part `private` when only
//! grants are given), or else the document. In a document, the owner's FULL_CONTROL is
//! implied, AllUsers READ (and WRITE) is the canned `public-read` (`public-read-write`),
//! every other grant is kept as given; GET writes the same document back.

use super::owner_id;
use crate::error::{Error, ErrorCode};
use crate::request::Request;
use crate::store::{Acl, Grant, Grantee, Permission};
use crate::xml::{self, XmlWriter};

/// The group COS uses for "everyone".
const ALL_USERS: &str = "http://cam.qcloud.com/groups/global/AllUsers";

/// The grant headers and the permission each gives.
pub const GRANT_HEADERS: [(&str, Permission); 5] = [
    ("x-cos-grant-read", Permission::Read),
    ("x-cos-grant-write", Permission::Write),
    ("x-cos-grant-full-control", Permission::FullControl),
    ("x-cos-grant-read-acp", Permission::ReadAcp),
    ("x-cos-grant-write-acp", Permission::WriteAcp),
];

fn write_grant(w: &mut XmlWriter, grantee: &Grantee, permission: Permission) {
    w.open("Grant");
    match grantee {
        Grantee::Account(id) => {
            w.raw("<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\">");
            w.leaf("ID", id);
            w.leaf("DisplayName", id);
        }
        Grantee::AllUsers => {
            w.raw("<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"Group\">");
            w.leaf("URI", ALL_USERS);
        }
    }
    w.close("Grantee");
    w.leaf("Permission", permission.as_str());
    w.close("Grant");
}

/// The policy document of a canned ACL and grants, owned by `appid`.
pub fn document(appid: &str, acl: Acl, grants: &[Grant]) -> String {
    let owner = owner_id(appid);
    let mut w = XmlWriter::new();
    w.open("AccessControlPolicy");
    w.open("Owner");
    w.leaf("ID", &owner);
    w.leaf("DisplayName", &owner);
    w.close("Owner");
    w.open("AccessControlList");
    write_grant(
        &mut w,
        &Grantee::Account(owner.clone()),
        Permission::FullControl,
    );
    match acl {
        Acl::PublicRead => write_grant(&mut w, &Grantee::AllUsers, Permission::Read),
        Acl::PublicReadWrite => {
            write_grant(&mut w, &Grantee::AllUsers, Permission::Read);
            write_grant(&mut w, &Grantee::AllUsers, Permission::Write);
        }
        Acl::Private | Acl::Default => {}
    }
    for g in grants {
        write_grant(&mut w, &g.grantee, g.permission);
    }
    w.close("AccessControlList");
    w.close("AccessControlPolicy");
    w.finish()
}

/// Checks an account grantee's canonical id: `qcs::cam::uin/<digits>:uin/<digits>`.
fn account(id: &str) -> Result<Grantee, Error> {
    let ok = id
        .strip_prefix("qcs::cam::uin/")
        .and_then(|rest| rest.split_once(":uin/"))
        .is_some_and(|(a, b)| {
            !a.is_empty()
                && !b.is_empty()
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        });
    if ok {
        Ok(Grantee::Account(id.to_string()))
    } else {
        Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("grantee id {id:?} is not qcs::cam::uin/<uin>:uin/<uin>"),
        ))
    }
}

fn group(uri: &str) -> Result<Grantee, Error> {
    if uri == ALL_USERS {
        Ok(Grantee::AllUsers)
    } else {
        Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("grantee group {uri:?} is not {ALL_USERS}"),
        ))
    }
}

/// Reads a policy document owned by `appid` into the canned ACL and grants it expresses.
pub fn parse(doc: &[u8], appid: &str) -> Result<(Acl, Vec<Grant>), Error> {
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
    let owner = owner_id(appid);
    let mut grants: Vec<Grant> = Vec::new();
    for grant in list.children_named("Grant") {
        let grantee = grant
            .child("Grantee")
            .ok_or_else(|| malformed("Grant without Grantee"))?;
        let text = grant
            .child("Permission")
            .map(|p| p.text.as_str())
            .ok_or_else(|| malformed("Grant without Permission"))?;
        let permission = Permission::parse(text)
            .ok_or_else(|| malformed(&format!("unknown Permission {text}")))?;
        let grantee = match (grantee.child("URI"), grantee.child("ID")) {
            (Some(uri), _) => group(&uri.text)?,
            (None, Some(id)) => account(&id.text)?,
            (None, None) => return Err(malformed("Grantee without ID or URI")),
        };
        if grantee == Grantee::Account(owner.clone()) && permission == Permission::FullControl {
            continue;
        }
        let g = Grant {
            grantee,
            permission,
        };
        if !grants.contains(&g) {
            grants.push(g);
        }
    }
    let all = |p: Permission| Grant {
        grantee: Grantee::AllUsers,
        permission: p,
    };
    let acl = match (
        grants.contains(&all(Permission::Read)),
        grants.contains(&all(Permission::Write)),
    ) {
        (true, true) => Acl::PublicReadWrite,
        (true, false) => Acl::PublicRead,
        _ => Acl::Private,
    };
    grants.retain(|g| match acl {
        Acl::PublicReadWrite => *g != all(Permission::Read) && *g != all(Permission::Write),
        Acl::PublicRead => *g != all(Permission::Read),
        _ => true,
    });
    Ok((acl, grants))
}

/// Parses one `x-cos-grant-*` value: grantees separated by commas, each `id="…"` or
/// `uri="…"` (quotes optional).
fn header_grantees(name: &str, value: &str) -> Result<Vec<Grantee>, Error> {
    let bad = |why: &str| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("{name} {value:?}: {why}"),
        )
    };
    if value.trim().is_empty() {
        return Err(bad("no grantee"));
    }
    value
        .split(',')
        .map(|item| {
            let (kind, v) = item
                .trim()
                .split_once('=')
                .ok_or_else(|| bad("a grantee is not id=\"…\" or uri=\"…\""))?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            match kind.trim() {
                "id" => account(v),
                "uri" => group(v),
                _ => Err(bad("a grantee is not id=\"…\" or uri=\"…\"")),
            }
        })
        .collect()
}

/// The grants the `x-cos-grant-*` headers of a request name, in header order.
pub fn header_grants(req: &Request) -> Result<Vec<Grant>, Error> {
    grants_from(|name| req.header(name))
}

/// The grants `x-cos-grant-*` values name, each read by `value` (a request header, a POST
/// form field).
pub fn grants_from<'a>(
    value: impl Fn(&str) -> Result<Option<&'a str>, Error>,
) -> Result<Vec<Grant>, Error> {
    let mut grants = Vec::new();
    for (name, permission) in GRANT_HEADERS {
        let Some(value) = value(name)? else {
            continue;
        };
        for grantee in header_grantees(name, value)? {
            let g = Grant {
                grantee,
                permission,
            };
            if !grants.contains(&g) {
                grants.push(g);
            }
        }
    }
    Ok(grants)
}

/// The ACL a PUT ?acl request on a resource owned by `appid` asks for: `x-cos-acl` and
/// `x-cos-grant-*`, or else the policy body.
pub async fn requested(
    req: Request,
    appid: &str,
    object: bool,
) -> Result<(Acl, Vec<Grant>), Error> {
    let grants = header_grants(&req)?;
    let canned = match req.header("x-cos-acl")? {
        None => None,
        Some(v) => Some(Acl::parse(v, object).ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("x-cos-acl {v:?} is not a canned ACL"),
            )
        })?),
    };
    if canned.is_some() || !grants.is_empty() {
        return Ok((canned.unwrap_or(Acl::Private), grants));
    }
    let doc = super::read_document(req.body, xml::MAX_DOCUMENT).await?;
    if doc.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::new(
            ErrorCode::InvalidRequest,
            "PUT acl needs x-cos-acl, x-cos-grant-* or an AccessControlPolicy body",
        ));
    }
    parse(&doc, appid)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: &str = "1250000000";

    #[test]
    fn round_trip_of_canned_acls_and_grants() {
        for acl in [Acl::Private, Acl::PublicRead, Acl::PublicReadWrite] {
            assert_eq!(
                parse(document(OWNER, acl, &[]).as_bytes(), OWNER).unwrap(),
                (acl, vec![])
            );
        }
        let grants = vec![
            Grant {
                grantee: Grantee::Account(owner_id("1250000001")),
                permission: Permission::Read,
            },
            Grant {
                grantee: Grantee::AllUsers,
                permission: Permission::ReadAcp,
            },
        ];
        let doc = document(OWNER, Acl::PublicRead, &grants);
        assert_eq!(
            parse(doc.as_bytes(), OWNER).unwrap(),
            (Acl::PublicRead, grants)
        );
    }

    #[test]
    fn bad_documents() {
        assert_eq!(
            parse(b"<A/>", OWNER).unwrap_err().code,
            ErrorCode::MalformedXml
        );
        assert_eq!(
            parse(b"<AccessControlPolicy>", OWNER).unwrap_err().code,
            ErrorCode::MalformedXml
        );
        let bad_id = b"<AccessControlPolicy><AccessControlList><Grant><Grantee><ID>x</ID></Grantee><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>";
        assert_eq!(
            parse(bad_id, OWNER).unwrap_err().code,
            ErrorCode::InvalidArgument
        );
        let bad_permission = b"<AccessControlPolicy><AccessControlList><Grant><Grantee><URI>http://cam.qcloud.com/groups/global/AllUsers</URI></Grantee><Permission>ALL</Permission></Grant></AccessControlList></AccessControlPolicy>";
        assert_eq!(
            parse(bad_permission, OWNER).unwrap_err().code,
            ErrorCode::MalformedXml
        );
    }

    #[test]
    fn grant_header_values() {
        let g = header_grantees(
            "x-cos-grant-read",
            "id=\"qcs::cam::uin/1:uin/2\", uri=\"http://cam.qcloud.com/groups/global/AllUsers\"",
        )
        .unwrap();
        assert_eq!(
            g,
            vec![
                Grantee::Account("qcs::cam::uin/1:uin/2".into()),
                Grantee::AllUsers
            ]
        );
        for v in [
            "",
            "id=\"x\"",
            "uri=\"http://a\"",
            "who=\"qcs::cam::uin/1:uin/1\"",
        ] {
            assert_eq!(
                header_grantees("x-cos-grant-read", v).unwrap_err().code,
                ErrorCode::InvalidArgument,
                "{v}"
            );
        }
    }
}
