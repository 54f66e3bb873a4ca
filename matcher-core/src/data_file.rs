//! Errors, reading and the bundled copy of the project's data files
//! (dictionary, synonyms, tables, ontology): every problem names the file
//! and, where it has one, the line, so whoever maintains the data can fix it.
//!
//! The same files exist twice: compiled into the crate (see [`DataSource::Bundled`]),
//! so that a program depending on matcher-core needs no folder beside it,
//! and in a folder an operator may edit ([`DataSource::Dir`]). Both go through
//! one parser per file, which is handed a [`DataText`]: the text and the name
//! its errors give.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

/// What is wrong with a data file: where, and why.
#[derive(Debug, thiserror::Error)]
pub enum DataFileError {
    /// A line that does not validate; fix that line.
    #[error("{}:{line}: {reason}", path.display())]
    Line {
        /// The file (for bundled data, its path in the repository: `fixtures/…`).
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with the line, in words an editor of the file can act on.
        reason: String,
    },
    /// The file could not be read at all.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file that was read.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The file as a whole is wrong (no single line to blame).
    #[error("{}: {reason}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

impl DataFileError {
    /// An error on line `line` (1-based) of `path`.
    pub fn line(path: &Path, line: usize, reason: impl Into<String>) -> Self {
        DataFileError::Line {
            path: path.to_path_buf(),
            line,
            reason: reason.into(),
        }
    }
}

/// The whole file as text.
pub(crate) fn read(path: &Path) -> Result<String, DataFileError> {
    std::fs::read_to_string(path).map_err(|source| DataFileError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Where the reference data (tables, ontology, the analyzer's word lists)
/// comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataSource {
    /// The copy compiled into matcher-core from the repository's `fixtures/`
    /// when the crate was built: always there, never out of step with the
    /// code that reads it. Errors name the file as `fixtures/…`.
    Bundled,
    /// A folder laid out like `fixtures/` (`jsic.tsv`, …, `dict/synonyms.tsv`),
    /// for an operator who edits the data without rebuilding.
    Dir(PathBuf),
}

impl fmt::Display for DataSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataSource::Bundled => f.write_str("the data bundled with matcher-core"),
            DataSource::Dir(dir) => write!(f, "the folder {}", dir.display()),
        }
    }
}

/// The reference files compiled into the crate, by their path under `fixtures/`.
/// Only what [`crate::Context`] reads: companies, needs and judgments are
/// sample data, not reference data, and stay in the repository.
const BUNDLED: &[(&str, &str)] = &[
    ("jsic.tsv", include_str!("../../fixtures/jsic.tsv")),
    (
        "jsic_clusters.tsv",
        include_str!("../../fixtures/jsic_clusters.tsv"),
    ),
    (
        "municipalities.tsv",
        include_str!("../../fixtures/municipalities.tsv"),
    ),
    (
        "certifications.tsv",
        include_str!("../../fixtures/certifications.tsv"),
    ),
    (
        "concepts.jsonl",
        include_str!("../../fixtures/concepts.jsonl"),
    ),
    (
        "dict/user_dict.csv",
        include_str!("../../fixtures/dict/user_dict.csv"),
    ),
    (
        "dict/stopwords.txt",
        include_str!("../../fixtures/dict/stopwords.txt"),
    ),
    (
        "dict/synonyms.tsv",
        include_str!("../../fixtures/dict/synonyms.tsv"),
    ),
];

impl DataSource {
    /// The file `name` (a path under the fixtures layout, e.g.
    /// `dict/synonyms.tsv`) from this source.
    pub(crate) fn read(&self, name: &str) -> Result<DataText, DataFileError> {
        match self {
            DataSource::Bundled => {
                let path = Path::new("fixtures").join(name);
                match BUNDLED.iter().find(|(n, _)| *n == name) {
                    Some((_, text)) => Ok(DataText {
                        path,
                        text: Cow::Borrowed(text),
                    }),
                    // A caller asked for a file the list above lacks: a bug
                    // here, reported rather than panicked on.
                    None => Err(DataFileError::Invalid {
                        path,
                        reason: "not among the files bundled with matcher-core \
                                 (data_file::BUNDLED)"
                            .into(),
                    }),
                }
            }
            DataSource::Dir(dir) => DataText::file(&dir.join(name)),
        }
    }
}

/// One data file's text and the path its errors name.
pub(crate) struct DataText {
    /// The file on disk, or `fixtures/…` for bundled data.
    pub path: PathBuf,
    /// The whole file.
    pub text: Cow<'static, str>,
}

impl DataText {
    /// Read a file from disk.
    pub fn file(path: &Path) -> Result<DataText, DataFileError> {
        Ok(DataText {
            path: path.to_path_buf(),
            text: Cow::Owned(read(path)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every bundled file is the repository's file of the same name, byte
    /// for byte: a name paired with the wrong `include_str!` fails here.
    #[test]
    fn bundled_files_are_the_fixtures() {
        let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures"));
        for (name, text) in BUNDLED {
            let on_disk = std::fs::read_to_string(dir.join(name)).expect("fixture file");
            assert!(on_disk == *text, "{name} differs from the bundled copy");
            assert!(!text.is_empty(), "{name} is empty");
        }
    }

    #[test]
    fn bundled_errors_name_the_repository_path() {
        let t = DataSource::Bundled
            .read("dict/synonyms.tsv")
            .expect("bundled");
        assert_eq!(t.path, Path::new("fixtures/dict/synonyms.tsv"));
        let err = DataSource::Bundled
            .read("companies_wards.jsonl")
            .err()
            .expect("sample data is not bundled");
        assert!(
            err.to_string().contains("not among the files bundled"),
            "{err}"
        );
    }

    #[test]
    fn a_folder_names_the_file_on_disk() {
        let tmp = tempfile::tempdir().expect("tmp");
        let err = DataSource::Dir(tmp.path().to_path_buf())
            .read("jsic.tsv")
            .err()
            .expect("missing file");
        let msg = err.to_string();
        assert!(msg.starts_with("cannot read "), "{msg}");
        assert!(
            msg.contains(&*tmp.path().join("jsic.tsv").to_string_lossy()),
            "{msg}"
        );
    }
}
