//! The region capability table: which regions exist and which SSE modes each offers
//! (REGION-KMS, REGION-SSE). Data, not code: the default is `data/regions.yaml`, embedded at
//! build time, and a config file may replace it.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The embedded default table.
const DEFAULT_TABLE: &str = include_str!("../data/regions.yaml");

/// What one region offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    /// SSE-KMS is offered (REGION-KMS).
    pub sse_kms: bool,
    /// SSE-COS and SSE-C are offered when REGION-SSE is `enforced`.
    pub sse_cos_c: bool,
}

/// Every known region with its capabilities.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionTable {
    /// Region name → capabilities.
    pub regions: BTreeMap<String, Capabilities>,
}

impl Default for RegionTable {
    fn default() -> Self {
        // The embedded file is part of the source and covered by a unit test, so it parses.
        Self::from_yaml(DEFAULT_TABLE).unwrap_or_else(|e| panic!("data/regions.yaml: {e}"))
    }
}

impl RegionTable {
    /// Parses a table in the format of `data/regions.yaml`.
    pub fn from_yaml(text: &str) -> Result<Self, serde_norway::Error> {
        serde_norway::from_str(text)
    }

    /// The capabilities of `region`, or `None` for a region this emulator does not know.
    pub fn get(&self, region: &str) -> Option<Capabilities> {
        self.regions.get(region).copied()
    }

    /// Whether buckets may be created in `region`.
    pub fn is_known(&self, region: &str) -> bool {
        self.regions.contains_key(region)
    }

    /// Every known region, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.regions.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_table_matches_contract() {
        let t = RegionTable::default();
        assert_eq!(t.regions.len(), 18);
        assert_eq!(t.regions.values().filter(|c| c.sse_kms).count(), 11);
        let cos: Vec<_> = t
            .regions
            .iter()
            .filter(|(_, c)| c.sse_cos_c)
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(cos, ["ap-beijing", "ap-guangzhou", "ap-shanghai"]);
        assert_eq!(
            t.get("ap-hongkong"),
            Some(Capabilities {
                sse_kms: true,
                sse_cos_c: false
            })
        );
        assert!(!t.get("ap-chengdu").unwrap().sse_kms);
        assert!(t.get("mars-1").is_none());
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(
            RegionTable::from_yaml("regions: {x: {sse_kms: true, sse_cos_c: true, z: 1}}").is_err()
        );
    }
}
