//! HEAD Object: the headers GET would send, no body.

use super::{get_object, object_headers, Call, Context};
use crate::error::Error;
use crate::response::{Response, ResponseBody};

/// Runs HEAD Object.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    let opened = get_object::open(ctx, &call).await?;
    let meta = &opened.record.meta;
    let mut r = Response::new(200);
    object_headers::write(&mut r, meta, &call.req.query);
    r.body = ResponseBody::Head { len: meta.size };
    Ok(r)
}
