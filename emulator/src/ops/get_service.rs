//! GET Service: the caller's buckets (all, or those of the region the Host names).

use super::{iso_date, write_owner, Call, Context};
use crate::body::{blocking, store_error};
use crate::error::{Error, ErrorCode};
use crate::response::Response;
use crate::store::BucketRecord;
use crate::xml::XmlWriter;

/// GET Service, parsed.
#[derive(Debug)]
pub struct GetService {
    appid: String,
    region: Option<String>,
}

impl GetService {
    /// Listing buckets needs a signature: an anonymous caller owns nothing.
    pub fn parse(call: &Call) -> Result<Self, Error> {
        let appid = call.authn.principal.appid().ok_or_else(|| {
            Error::new(
                ErrorCode::AccessDenied,
                "GET Service needs a signed request",
            )
        })?;
        Ok(GetService {
            appid: appid.to_string(),
            region: call.target.region.clone(),
        })
    }

    /// Reads the bucket list.
    pub async fn apply(self, ctx: &Context) -> Result<Response, Error> {
        let store = ctx.store.clone();
        let all = blocking(move || store.buckets().map_err(store_error)).await?;
        let mine: Vec<BucketRecord> = all
            .into_iter()
            .filter(|b| b.appid == self.appid)
            .filter(|b| self.region.as_ref().is_none_or(|r| *r == b.region))
            .collect();
        Ok(Response::xml(self.document(&mine)))
    }

    fn document(&self, buckets: &[BucketRecord]) -> String {
        let mut w = XmlWriter::new();
        w.open("ListAllMyBucketsResult");
        write_owner(&mut w, "Owner", &self.appid);
        w.open("Buckets");
        for b in buckets {
            w.open("Bucket");
            w.leaf("Name", &b.name);
            w.leaf("Location", &b.region);
            w.leaf("CreationDate", &iso_date(b.created_ms));
            w.leaf("BucketType", "cos");
            w.close("Bucket");
        }
        w.close("Buckets");
        w.close("ListAllMyBucketsResult");
        w.finish()
    }
}

/// Runs GET Service.
pub async fn handle(ctx: &Context, call: Call) -> Result<crate::response::Response, Error> {
    GetService::parse(&call)?.apply(ctx).await
}
