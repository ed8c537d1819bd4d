//! HEAD Object: the headers GET would send, no body. The same SSE checks as GET apply
//! (SSEC-GET-NEEDS-KEY, SSEC-WRONG-KEY, KMS-NOT-ON-GET, the anonymous rules), and the
//! response echoes the mode (COS-ECHO, SSEC-ECHO) with the plaintext size (SIZE-UNCHANGED),
//! and an archived object's restore state (`x-cos-restore`).

use super::{encryption, get_object, object_headers, restore_object, Call, Context};
use crate::error::Error;
use crate::response::{Response, ResponseBody};

/// Runs HEAD Object.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    let opened = get_object::open_record(ctx, &call).await?;
    let meta = &opened.record.meta;
    let mut r = Response::new(200);
    object_headers::write(&mut r, meta, &call.req.query);
    encryption::echo(&mut r, meta.sse.as_ref(), &opened.sse);
    let restore = restore_object::status(ctx, &opened.bucket.name, meta).await?;
    restore_object::write_header(&mut r, restore);
    r.body = ResponseBody::Head { len: meta.size };
    Ok(r)
}
