//! The IPADIC system dictionary, built offline from Debian's `mecab-ipadic`.
//!
//! lindera's `embed-ipadic` feature downloads an archive at build time, which
//! fails on machines that reach only package registries. The same IPADIC
//! source ships in Debian's `mecab-ipadic` package (EUC-JP CSV and .def
//! files); we convert it to UTF-8 and hand it to lindera's own
//! `DictionaryBuilder` with the ipadic `metadata.json` that `lindera-ipadic`
//! publishes. The build takes a couple of seconds and happens once, into a
//! cache folder; every later start memory-maps the result.
//!
//! Locations, each overridable by environment:
//! - `MATCHER_DICT_DIR`: the built dictionary (default
//!   `$XDG_CACHE_HOME/matcher/ipadic-v1`, else `$HOME/.cache/matcher/ipadic-v1`).
//! - `MATCHER_IPADIC_SRC`: the IPADIC source (default `/usr/share/mecab/dic/ipadic`).

use std::fs;
use std::path::{Path, PathBuf};

use lindera::dictionary::Dictionary;
use lindera_dictionary::builder::DictionaryBuilder;
use lindera_dictionary::dictionary::metadata::Metadata;

/// The ipadic schema published by the `lindera-ipadic` crate (MIT).
const IPADIC_METADATA: &str = include_str!("ipadic_metadata.json");
/// Debian's `mecab-ipadic` installs its source here.
pub const DEFAULT_SOURCE: &str = "/usr/share/mecab/dic/ipadic";
/// Bump when the build recipe changes, so old caches are not reused.
const CACHE_NAME: &str = "ipadic-v1";

/// Why the IPADIC system dictionary could not be built or opened; every message
/// says what to install or which variable to set.
#[derive(Debug, thiserror::Error)]
pub enum DictionaryError {
    #[error(
        "IPADIC source not found at {0}: install it with `apt-get install mecab-ipadic` \
         (or run `scripts/setup.sh`), or set MATCHER_IPADIC_SRC to a folder with the \
         mecab-ipadic *.csv and *.def files, or set MATCHER_DICT_DIR to an already built \
         lindera dictionary"
    )]
    /// The mecab-ipadic source is not at this folder (Debian's package is not installed).
    SourceMissing(PathBuf),
    /// A file of the source, the build or the cache could not be read or written.
    #[error("cannot read or write the dictionary at {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// lindera refused the source or the built dictionary.
    #[error("lindera could not {action} the dictionary at {path}: {message}")]
    Lindera {
        /// What was being done: "build", "open", "parse the metadata of".
        action: &'static str,
        /// The dictionary or source folder.
        path: PathBuf,
        /// lindera's message.
        message: String,
    },
    /// There is nowhere to cache the built dictionary.
    #[error("no cache folder: set MATCHER_DICT_DIR (neither XDG_CACHE_HOME nor HOME is set)")]
    NoCacheDir,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DictionaryError + '_ {
    move |source| DictionaryError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Where the built dictionary lives (does not create it).
pub fn dictionary_dir() -> Result<PathBuf, DictionaryError> {
    if let Some(dir) = std::env::var_os("MATCHER_DICT_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let base = match (std::env::var_os("XDG_CACHE_HOME"), std::env::var_os("HOME")) {
        (Some(x), _) if !x.is_empty() => PathBuf::from(x),
        (_, Some(h)) if !h.is_empty() => PathBuf::from(h).join(".cache"),
        _ => return Err(DictionaryError::NoCacheDir),
    };
    Ok(base.join("matcher").join(CACHE_NAME))
}

/// Where the IPADIC source is read from.
pub fn source_dir() -> PathBuf {
    std::env::var_os("MATCHER_IPADIC_SRC")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_SOURCE))
}

/// The ipadic metadata (schema, default costs) used for the build and for user dictionaries.
pub fn ipadic_metadata() -> Result<Metadata, DictionaryError> {
    serde_json::from_str(IPADIC_METADATA).map_err(|e| DictionaryError::Lindera {
        action: "parse the metadata of",
        path: PathBuf::from("ipadic_metadata.json"),
        message: e.to_string(),
    })
}

/// Open the system dictionary, building it from the IPADIC source first if needed.
pub fn load_or_build() -> Result<Dictionary, DictionaryError> {
    let dir = dictionary_dir()?;
    if !dir.join("metadata.json").exists() {
        build(&source_dir(), &dir)?;
    }
    lindera::dictionary::load_fs_dictionary(&dir).map_err(|e| DictionaryError::Lindera {
        action: "open",
        path: dir.clone(),
        message: e.to_string(),
    })
}

/// Build a lindera dictionary from mecab-ipadic source `src` into `out`.
///
/// Atomic: the build goes to a sibling temporary folder renamed into place, so
/// concurrent test processes never see a half-built dictionary.
pub fn build(src: &Path, out: &Path) -> Result<(), DictionaryError> {
    if !src.join("matrix.def").is_file() {
        return Err(DictionaryError::SourceMissing(src.to_path_buf()));
    }
    let parent = out.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(io(parent))?;
    let stamp = format!(
        "{}.{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    let utf8_src = parent.join(format!(".ipadic-src-{stamp}"));
    let tmp_out = parent.join(format!(".ipadic-build-{stamp}"));
    let result = (|| {
        convert_source_to_utf8(src, &utf8_src)?;
        let builder = DictionaryBuilder::new(ipadic_metadata()?);
        builder
            .build_dictionary(&utf8_src, &tmp_out)
            .map_err(|e| DictionaryError::Lindera {
                action: "build",
                path: src.to_path_buf(),
                message: e.to_string(),
            })?;
        match fs::rename(&tmp_out, out) {
            Ok(()) => Ok(()),
            // Another process finished first: its dictionary is as good as ours.
            Err(_) if out.join("metadata.json").exists() => Ok(()),
            Err(e) => Err(io(out)(e)),
        }
    })();
    let _ = fs::remove_dir_all(&utf8_src);
    let _ = fs::remove_dir_all(&tmp_out);
    result
}

/// Copy the *.csv and *.def files, converting EUC-JP to UTF-8.
fn convert_source_to_utf8(src: &Path, dst: &Path) -> Result<(), DictionaryError> {
    fs::create_dir_all(dst).map_err(io(dst))?;
    for entry in fs::read_dir(src).map_err(io(src))? {
        let path = entry.map_err(io(src))?.path();
        let keep = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("csv") | Some("def")
        );
        let Some(name) = path.file_name().filter(|_| keep) else {
            continue;
        };
        let bytes = fs::read(&path).map_err(io(&path))?;
        let text = match std::str::from_utf8(&bytes) {
            Ok(s) => s.to_owned(),
            Err(_) => encoding_rs::EUC_JP.decode(&bytes).0.into_owned(),
        };
        let target = dst.join(name);
        fs::write(&target, text).map_err(io(&target))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_source_names_the_fix() {
        let tmp = tempfile::tempdir().unwrap();
        let err = build(&tmp.path().join("nowhere"), &tmp.path().join("out")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("apt-get install mecab-ipadic"), "{msg}");
        assert!(msg.contains("MATCHER_IPADIC_SRC"), "{msg}");
        assert!(!tmp.path().join("out").exists());
    }
}
