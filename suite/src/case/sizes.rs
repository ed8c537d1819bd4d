//! Size matrices (cases/README.md, "Size matrices"): the body sizes that break encrypting
//! stores (chunk edges, part edges) are listed ONCE, in `cases/sizes.yaml`, and a case
//! that says `sizes: <set>` is expanded into one case per size, so a new edge is added in
//! one place and every matrix case runs at it.
//!
//! Expansion is textual and happens before the case is parsed: `{{size}}` becomes the
//! size and `{{size_last}}` the index of the last byte (size − 1), anywhere in the file.
//! The expanded case's id is `<id>-<size>`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::LoadError;
use crate::file_error::{line_of, yaml_error};

/// The file of named size lists, next to rules.yaml.
pub const SIZES_FILE: &str = "sizes.yaml";

/// The named size lists of `cases/sizes.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SizeSets {
    sets: BTreeMap<String, Vec<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SizesFile {
    sets: BTreeMap<String, Vec<u64>>,
}

/// A case's `sizes:` line: a set name, or `{set: NAME, min: N, max: N}` to keep only the
/// sizes in that (inclusive) window, e.g. `min: 1` for cases that read the last byte.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
enum SizesSpec {
    Name(String),
    Window {
        set: String,
        #[serde(default)]
        min: Option<u64>,
        #[serde(default)]
        max: Option<u64>,
    },
}

impl SizeSets {
    /// Parses the sizes file; an empty set, a duplicate size or an unknown field is an
    /// error with its line.
    pub fn parse(file: &Path, text: &str) -> Result<Self, LoadError> {
        let err = |line: usize, message: String| LoadError {
            file: file.to_path_buf(),
            line,
            column: 0,
            message,
        };
        let parsed: SizesFile = serde_norway::from_str(text).map_err(|e| {
            let (line, message) = yaml_error(&e);
            err(line, message)
        })?;
        for (name, sizes) in &parsed.sets {
            let line = line_of(text, &format!("{name}:"));
            if sizes.is_empty() {
                return Err(err(line, format!("size set `{name}` is empty")));
            }
            let mut sorted = sizes.clone();
            sorted.sort_unstable();
            sorted.dedup();
            if sorted.len() != sizes.len() {
                return Err(err(line, format!("size set `{name}` lists a size twice")));
            }
        }
        Ok(SizeSets { sets: parsed.sets })
    }

    /// Loads `<cases dir>/sizes.yaml`; a catalog without one has no sets.
    pub fn load(cases_dir: &Path) -> Result<Self, LoadError> {
        let path = cases_dir.join(SIZES_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SizeSets::default()),
            Err(e) => Err(LoadError {
                file: path,
                line: 0,
                column: 0,
                message: e.to_string(),
            }),
        }
    }

    /// The sizes of one set, in file order.
    pub fn get(&self, name: &str) -> Option<&[u64]> {
        self.sets.get(name).map(Vec::as_slice)
    }
}

/// One case text after expansion: the size it was expanded for (`None`: the file has no
/// `sizes:`) and the text to parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expanded {
    /// The size, for a matrix case.
    pub size: Option<u64>,
    /// The case text with `{{size}}` and `{{size_last}}` filled in.
    pub text: String,
}

/// Expands a case file's text by its top-level `sizes:` line; a file without one is
/// returned unchanged. An unknown set, a window that keeps no size, or `{{size_last}}`
/// with a size of 0 is an error with the line of `sizes:`.
pub fn expand(file: &Path, text: &str, sets: &SizeSets) -> Result<Vec<Expanded>, LoadError> {
    let Some((line, value)) = text
        .lines()
        .enumerate()
        .find_map(|(i, l)| l.strip_prefix("sizes:").map(|v| (i + 1, v.trim())))
    else {
        return Ok(vec![Expanded {
            size: None,
            text: text.to_string(),
        }]);
    };
    let err = |message: String| LoadError {
        file: PathBuf::from(file),
        line,
        column: 1,
        message,
    };
    let spec: SizesSpec = serde_norway::from_str(value).map_err(|e| {
        err(format!(
            "sizes: expected a set name or {{set, min, max}}: {e}"
        ))
    })?;
    let (name, min, max) = match spec {
        SizesSpec::Name(n) => (n, None, None),
        SizesSpec::Window { set, min, max } => (set, min, max),
    };
    let all = sets.get(&name).ok_or_else(|| {
        err(format!(
            "sizes: no size set `{name}` in cases/{SIZES_FILE} (sets: {})",
            sets.sets.keys().cloned().collect::<Vec<_>>().join(", ")
        ))
    })?;
    let chosen: Vec<u64> = all
        .iter()
        .copied()
        .filter(|s| min.is_none_or(|m| *s >= m) && max.is_none_or(|m| *s <= m))
        .collect();
    if chosen.is_empty() {
        return Err(err(format!(
            "sizes: the window keeps no size of set `{name}`"
        )));
    }
    if !text.contains("{{size}}") && !text.contains("{{size_last}}") {
        return Err(err(
            "sizes: the case never uses {{size}} or {{size_last}}, so every expansion would be the same".into(),
        ));
    }
    chosen
        .into_iter()
        .map(|size| {
            if size == 0 && text.contains("{{size_last}}") {
                return Err(err(format!(
                    "sizes: set `{name}` has 0, which has no last byte for {{{{size_last}}}}; add `min: 1`"
                )));
            }
            Ok(Expanded {
                size: Some(size),
                text: text
                    .replace("{{size_last}}", &size.saturating_sub(1).to_string())
                    .replace("{{size}}", &size.to_string()),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sets() -> SizeSets {
        SizeSets::parse(Path::new("sizes.yaml"), "sets:\n  edges: [0, 1, 65536]\n").unwrap()
    }

    #[test]
    fn a_case_without_sizes_is_unchanged() {
        let out = expand(Path::new("c.yaml"), "id: a/b\n", &sets()).unwrap();
        assert_eq!(
            out,
            vec![Expanded {
                size: None,
                text: "id: a/b\n".into()
            }]
        );
    }

    #[test]
    fn every_size_of_the_window_is_filled_in() {
        let text =
            "id: a/b\nsizes: {set: edges, min: 1}\nbody: {random: {{size}}}\nlast: {{size_last}}\n";
        let out = expand(Path::new("c.yaml"), text, &sets()).unwrap();
        let sizes: Vec<_> = out.iter().map(|e| e.size).collect();
        assert_eq!(sizes, [Some(1), Some(65536)]);
        assert!(out[1].text.contains("{random: 65536}"));
        assert!(out[1].text.contains("last: 65535"));
    }

    #[test]
    fn mistakes_name_the_line() {
        let unknown = expand(Path::new("c.yaml"), "id: x\nsizes: edge\n{{size}}", &sets());
        let e = unknown.unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("no size set `edge`"), "{}", e.message);
        let zero = expand(Path::new("c.yaml"), "sizes: edges\n{{size_last}}", &sets());
        assert!(zero.unwrap_err().message.contains("add `min: 1`"));
        let unused = expand(Path::new("c.yaml"), "sizes: edges\n", &sets());
        assert!(unused.unwrap_err().message.contains("never uses"));
        let empty = SizeSets::parse(Path::new("s.yaml"), "sets:\n  none: []\n");
        assert_eq!(empty.unwrap_err().line, 2);
        let twice = SizeSets::parse(Path::new("s.yaml"), "sets:\n  a: [1, 1]\n");
        assert!(twice.unwrap_err().message.contains("twice"));
    }
}
