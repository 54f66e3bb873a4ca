//! Errors and reading for the project's data files (dictionary, synonyms,
//! tables, ontology): every problem names the file and, where it has one,
//! the line, so whoever maintains the data can fix it.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum DataFileError {
    #[error("{}:{line}: {reason}", path.display())]
    Line {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {reason}", path.display())]
    Invalid { path: PathBuf, reason: String },
}

impl DataFileError {
    pub fn line(path: &Path, line: usize, reason: impl Into<String>) -> Self {
        DataFileError::Line {
            path: path.to_path_buf(),
            line,
            reason: reason.into(),
        }
    }
}

/// The whole file as text.
pub fn read(path: &Path) -> Result<String, DataFileError> {
    std::fs::read_to_string(path).map_err(|source| DataFileError::Io {
        path: path.to_path_buf(),
        source,
    })
}
