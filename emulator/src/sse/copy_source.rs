//! The copy source's SSE-C key (COPY-SOURCE-KEY, COPY-DIFFERENT-KEYS):
//! `x-cos-copy-source-server-side-encryption-customer-*`, under the same rules as the
//! request's own SSE-C headers (SSEC-ALG, SSEC-KEY, SSEC-MD5, SSEC-HEADERS-TOGETHER).
//! Whether the source needs it, and whether it is the right key, is decided against the
//! stored source ([`super::context::check_copy_source`]).

use super::customer::{first_present_of, parse_with, CustomerSse, KeyHeaders};
use super::error::SseError;
use super::fields::NamedValues;
use super::names;
use crate::behaviour::Behaviours;

/// The copy-source SSE-C headers.
const HEADERS: KeyHeaders = KeyHeaders {
    algorithm: names::COPY_SOURCE_CUSTOMER_ALGORITHM,
    key: names::COPY_SOURCE_CUSTOMER_KEY,
    key_md5: names::COPY_SOURCE_CUSTOMER_KEY_MD5,
};

/// Parses the copy source's SSE-C key; `None` when none of its headers is present.
pub fn parse<F: NamedValues + ?Sized>(
    fields: &F,
    behaviours: &Behaviours,
) -> Result<Option<CustomerSse>, SseError> {
    match first_present_of(fields, &HEADERS)? {
        None => Ok(None),
        Some(_) => parse_with(fields, &HEADERS, behaviours).map(Some),
    }
}

/// The first copy-source SSE-C header present (for SSEC-HTTPS and for refusing them on
/// requests that are not copies).
pub fn first_present<F: NamedValues + ?Sized>(
    fields: &F,
) -> Result<Option<&'static str>, SseError> {
    first_present_of(fields, &HEADERS)
}
