//! OPTIONS Object: a browser's CORS preflight, answered from the bucket's rules. It is
//! unsigned (the browser sends it by itself) and may name any resource of the bucket.
//! `Origin` and `Access-Control-Request-Method` are required; no configuration, or no rule
//! allowing the origin, the method and every requested header, is 403 (COS: "the browser
//! will stop the CORS request").

use super::{cors, load_bucket, Call, Context};
use crate::error::{Error, ErrorCode};
use crate::response::Response;

/// Runs OPTIONS Object.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    let bucket = load_bucket(ctx, &call).await?;
    let required = |name: &str| -> Result<String, Error> {
        call.req.header(name)?.map(str::to_owned).ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidRequest,
                format!("a CORS preflight needs the {name} header"),
            )
        })
    };
    let origin = required("Origin")?;
    let method = required("Access-Control-Request-Method")?;
    let headers = cors::header_list(
        call.req
            .header("access-control-request-headers")?
            .unwrap_or(""),
    );
    if bucket.cors.is_empty() {
        return Err(Error::new(
            ErrorCode::CorsForbidden,
            format!(
                "CORS is not enabled on bucket {}: PUT Bucket cors first",
                bucket.name
            ),
        ));
    }
    let Some(rule) = cors::matching_rule(&bucket.cors, &origin, &method, &headers) else {
        return Err(Error::new(
            ErrorCode::CorsForbidden,
            format!(
                "no CORS rule of bucket {} allows origin {origin} to send {method} with headers [{}]",
                bucket.name,
                headers.join(", ")
            ),
        ));
    };
    let mut r = Response::new(200);
    cors::set_headers(&mut r, rule, &origin);
    if !headers.is_empty() {
        // Every requested header matched a pattern of the rule: allow exactly those.
        r.set("access-control-allow-headers", &headers.join(","));
    }
    Ok(r)
}
