//! Cryptography of the COS SSE emulator: the chunked AEAD at-rest format, data-key
//! sealing, versioned master keys, the emulated KMS and SSE-C key derivation.
#![forbid(unsafe_code)]
