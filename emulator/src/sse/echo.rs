//! The SSE headers a response carries (COS-ECHO, SSEC-ECHO, KMS-VALUE, KMS-KEY-ID): built
//! from the stored object's record, plus the request's key MD5 for SSE-C (the MD5 is never
//! stored, SSEC-NOT-STORED, so it can only come from the request that carried the key).

use cos_emulator_crypto::{EncryptionRecord, KeyRecord};

use super::cos::KMS_VALUE;
use super::customer::CustomerSse;
use super::names;

/// Response headers for an object encrypted as `record` (none for a plain object).
///
/// - SSE-COS: `x-cos-server-side-encryption: AES256|SM4`;
/// - SSE-KMS: `x-cos-server-side-encryption: cos/kms` and the CMK id used;
/// - SSE-C: the customer algorithm and, when the request carried the key, its MD5. An
///   SSE-C object is not also reported as SSE-COS (`x-cos-server-side-encryption` absent).
pub fn response_headers(
    record: Option<&EncryptionRecord>,
    customer: Option<&CustomerSse>,
) -> Vec<(&'static str, String)> {
    let Some(record) = record else {
        return Vec::new();
    };
    let algorithm = record.algorithm.as_str().to_owned();
    match &record.key {
        KeyRecord::Cos { .. } => vec![(names::SSE, algorithm)],
        KeyRecord::Kms { key_id, .. } => vec![
            (names::SSE, KMS_VALUE.to_owned()),
            (names::KMS_KEY_ID, key_id.clone()),
        ],
        KeyRecord::Customer { .. } => {
            let mut h = vec![(names::CUSTOMER_ALGORITHM, algorithm)];
            if let Some(c) = customer {
                h.push((names::CUSTOMER_KEY_MD5, c.key_md5.clone()));
            }
            h
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cos_emulator_crypto::{Algorithm, CustomerKey, Keys, ObjectRef, Protection};
    use std::collections::BTreeMap;

    const OBJ: ObjectRef<'static> = ObjectRef {
        bucket: "b-1250000000",
        key: "k",
        version: "1",
    };

    #[test]
    fn each_mode_echoes_its_own_headers_only() {
        let keys = Keys::in_memory().unwrap();
        let (_, cos) = keys
            .new_object(Algorithm::Sm4, Protection::Cos, &OBJ)
            .unwrap();
        assert_eq!(
            response_headers(Some(&cos), None),
            [(names::SSE, "SM4".to_string())]
        );

        let ctx = BTreeMap::new();
        let kms = Protection::Kms {
            appid: "1250000000",
            key_id: None,
            context: &ctx,
        };
        let (_, rec) = keys.new_object(Algorithm::Aes256, kms, &OBJ).unwrap();
        let h = response_headers(Some(&rec), None);
        assert_eq!(h[0], (names::SSE, "cos/kms".to_string()));
        assert_eq!(h[1].0, names::KMS_KEY_ID);
        assert_eq!(Some(h[1].1.as_str()), rec.kms_key_id());

        let key = CustomerKey::from_bytes([1; 32]);
        let (_, rec) = keys
            .new_object(Algorithm::Aes256, Protection::Customer(&key), &OBJ)
            .unwrap();
        let request = CustomerSse {
            algorithm: Algorithm::Aes256,
            key,
            key_md5: "md5".into(),
        };
        let h = response_headers(Some(&rec), Some(&request));
        assert_eq!(
            h,
            [
                (names::CUSTOMER_ALGORITHM, "AES256".to_string()),
                (names::CUSTOMER_KEY_MD5, "md5".to_string())
            ]
        );
        assert!(h.iter().all(|(n, _)| *n != names::SSE));
        assert!(response_headers(None, Some(&request)).is_empty());
    }
}
