//! Where the bundled data lives.

use std::path::PathBuf;

/// The fixtures folder: `MATCHER_FIXTURES` if set, else the repository's `fixtures/`.
pub fn fixtures_dir() -> PathBuf {
    std::env::var_os("MATCHER_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures")))
}

/// The analyzer's dictionary folder inside the fixtures.
pub fn dict_dir() -> PathBuf {
    fixtures_dir().join("dict")
}
