//! `cos-emulator`: a reference emulator of Tencent Cloud Object Storage with server-side
//! encryption.
#![forbid(unsafe_code)]
