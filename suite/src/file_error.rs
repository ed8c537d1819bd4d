//! One error for a YAML file the suite loads (profiles, the rule catalog): it could not be
//! read, or it is invalid at a line; and the two helpers every loader uses to find that
//! line. The bottom of the model layer: it imports nothing of the crate.

use std::path::Path;

/// Why a YAML file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Malformed YAML, an unknown field, or an inconsistent entry.
    #[error("{path}:{line}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// 1-based line (0 when the problem is not on one line).
        line: usize,
        /// What is wrong.
        message: String,
    },
}

impl FileError {
    /// Reads `path` as text.
    pub fn read_text(path: &Path) -> Result<String, FileError> {
        std::fs::read_to_string(path).map_err(|source| FileError::Read {
            path: path.display().to_string(),
            source,
        })
    }

    /// Parses `text` (the file `path`) as YAML into `T`, with the line of any error.
    pub fn parse_yaml<T: serde::de::DeserializeOwned>(
        path: &str,
        text: &str,
    ) -> Result<T, FileError> {
        serde_norway::from_str(text).map_err(|e| {
            let (line, message) = yaml_error(&e);
            FileError::Invalid {
                path: path.to_string(),
                line,
                message,
            }
        })
    }
}

/// Line and message of a serde_norway error, without its trailing " at line L column C".
pub(crate) fn yaml_error(e: &serde_norway::Error) -> (usize, String) {
    let (line, col) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
    let text = e.to_string();
    let suffix = format!(" at line {line} column {col}");
    let message = text.strip_suffix(&suffix).unwrap_or(&text).to_string();
    (line, message)
}

/// The 1-based line of the first line containing `needle`, or 0.
pub(crate) fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map_or(0, |i| i + 1)
}
