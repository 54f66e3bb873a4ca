//! A consistent copy of a data folder, safe while a server writes to it.
//!
//! Why a copy can be consistent without stopping the writer: tantivy never
//! changes a segment file once written. A commit writes new segment files
//! (and per-commit `.del` files) and then replaces `meta.json` atomically;
//! only afterwards may the writer delete the files no commit refers to any
//! more. So `meta.json`, read first, names a set of immutable files that
//! together are exactly that commit; if every one of them is copied whole,
//! the copy is that commit, whatever the writer did meanwhile. The one race
//! is a file deleted between reading `meta.json` and opening it (a merge
//! committed in between): the copy of that index starts again from a fresh
//! `meta.json`, a bounded number of times.
//!
//! The rest of the folder: `FORMAT` and `keys.tsv` are copied as they are;
//! the journals (`outcomes.jsonl`, `audit.jsonl`) are append-only and each
//! line is written whole before it is acknowledged, so a copy is a prefix of
//! acknowledged events (a line being appended during the copy may be cut;
//! opening the journal cuts a torn last line, see `journal.rs`); the features
//! snapshot (`snapshot.bin`) is bound to the commits it was taken at and is
//! refused and rebuilt at open if the copied indexes are at other commits,
//! so any version of it is safe; so is the matching index's `matching.bin`,
//! whose postings are used only for segments the copied indexes still hold
//! (segments never change). `writer.lock` is not copied.
//!
//! Restoring is opening the copy: `matcher serve --data COPY` (or moving it
//! in place of the data folder while no server runs).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Attempts per index before giving up (each one lost a race with a merge).
const ATTEMPTS: usize = 20;

/// What was copied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackupReport {
    /// Files copied.
    pub files: usize,
    /// Their bytes.
    pub bytes: u64,
    /// Index copies started again because the writer committed a merge
    /// during the copy.
    pub retries: usize,
}

/// Why a backup failed. What the destination holds then is not a copy to
/// restore from: start again into a new or empty folder.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The source has no `FORMAT` file: not a data folder, or a wrong path.
    #[error("{} is not a matcher data folder (no FORMAT file)", .0.display())]
    NotADataFolder(PathBuf),
    /// The destination has files in it; a backup never mixes with them.
    #[error("the backup folder {} exists and is not empty; give a new or empty folder", .0.display())]
    DestinationNotEmpty(PathBuf),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// An index's `meta.json` (which names the commit's files) does not parse.
    #[error("{}: meta.json: {message}", path.display())]
    Meta {
        /// The index folder.
        path: PathBuf,
        /// Why it does not parse.
        message: String,
    },
    /// The writer kept merging segments away under the copy; try again later.
    #[error(
        "{}: the index changed under the copy {ATTEMPTS} times in a row (merges); try again",
        .0.display()
    )]
    Busy(PathBuf),
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Copy the data folder `src` into `dest` (created; must be new or empty).
pub fn backup(src: &Path, dest: &Path) -> Result<BackupReport, BackupError> {
    if !src.join("FORMAT").is_file() {
        return Err(BackupError::NotADataFolder(src.to_path_buf()));
    }
    if dest.exists() {
        let mut entries = fs::read_dir(dest).map_err(io_at(dest))?;
        if entries.next().is_some() {
            return Err(BackupError::DestinationNotEmpty(dest.to_path_buf()));
        }
    }
    fs::create_dir_all(dest).map_err(io_at(dest))?;
    let mut report = BackupReport::default();
    for index in ["companies", "needs"] {
        let from = src.join(index);
        if from.is_dir() {
            copy_index(&from, &dest.join(index), &mut report)?;
        }
    }
    // The snapshot after the indexes: if it is newer than their copies it
    // is refused at open and rebuilt, never loaded wrongly.
    for name in [
        "keys.tsv",
        crate::outcomes::FILE_NAME,
        crate::audit::FILE_NAME,
        "snapshot.bin",
        "matching.bin",
    ] {
        let from = src.join(name);
        match fs::copy(&from, dest.join(name)) {
            Ok(n) => {
                report.files += 1;
                report.bytes += n;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_at(&from)(e)),
        }
    }
    // FORMAT last: a copy cut short by a crash is not a data folder.
    let format = src.join("FORMAT");
    report.bytes += fs::copy(&format, dest.join("FORMAT")).map_err(io_at(&format))?;
    report.files += 1;
    sync_dir(dest)?;
    Ok(report)
}

/// The segment ids a `meta.json` names.
fn segment_ids(meta: &[u8], path: &Path) -> Result<Vec<String>, BackupError> {
    let err = |message: String| BackupError::Meta {
        path: path.to_path_buf(),
        message,
    };
    let v: serde_json::Value = serde_json::from_slice(meta).map_err(|e| err(e.to_string()))?;
    let segments = v["segments"]
        .as_array()
        .ok_or_else(|| err("no segments list".into()))?;
    segments
        .iter()
        .map(|s| {
            s["segment_id"]
                .as_str()
                // Files are named by the id without hyphens.
                .map(|id| id.replace('-', ""))
                .ok_or_else(|| err("a segment without segment_id".into()))
        })
        .collect()
}

/// Copy one tantivy index: its `meta.json` and the files of the segments
/// it names, again from the start when one of them vanished meanwhile.
fn copy_index(src: &Path, dest: &Path, report: &mut BackupReport) -> Result<(), BackupError> {
    let meta_path = src.join("meta.json");
    for _ in 0..ATTEMPTS {
        let meta = match fs::read(&meta_path) {
            Ok(m) => m,
            // An index never committed: nothing to copy but the folder.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir_all(dest).map_err(io_at(dest))?;
                return Ok(());
            }
            Err(e) => return Err(io_at(&meta_path)(e)),
        };
        let ids = segment_ids(&meta, &meta_path)?;
        if dest.exists() {
            fs::remove_dir_all(dest).map_err(io_at(dest))?;
        }
        fs::create_dir_all(dest).map_err(io_at(dest))?;
        let mut copied = (0usize, 0u64);
        let mut vanished = false;
        for entry in fs::read_dir(src).map_err(io_at(src))? {
            let entry = entry.map_err(io_at(src))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let stem = name.split('.').next().unwrap_or("");
            if !ids.iter().any(|id| id == stem) {
                continue;
            }
            let to = dest.join(name);
            match fs::copy(entry.path(), &to) {
                Ok(n) => {
                    fs::File::open(&to)
                        .and_then(|f| f.sync_all())
                        .map_err(io_at(&to))?;
                    copied.0 += 1;
                    copied.1 += n;
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    vanished = true;
                    break;
                }
                Err(e) => return Err(io_at(&entry.path())(e)),
            }
        }
        // A segment named by meta.json but absent from the listing was
        // deleted before we got to it: start again.
        let present = ids.iter().all(|id| {
            fs::read_dir(dest)
                .map(|rd| {
                    rd.filter_map(Result::ok).any(|e| {
                        e.file_name()
                            .to_str()
                            .is_some_and(|n| n.starts_with(id.as_str()))
                    })
                })
                .unwrap_or(false)
        });
        if vanished || !present {
            report.retries += 1;
            continue;
        }
        let meta_dest = dest.join("meta.json");
        write_synced(&meta_dest, &meta)?;
        report.files += copied.0 + 1;
        report.bytes += copied.1 + meta.len() as u64;
        sync_dir(dest)?;
        return Ok(());
    }
    Err(BackupError::Busy(src.to_path_buf()))
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), BackupError> {
    use std::io::Write;
    let mut f = fs::File::create(path).map_err(io_at(path))?;
    f.write_all(bytes).map_err(io_at(path))?;
    f.sync_all().map_err(io_at(path))
}

/// Flush a folder's entries (Unix; elsewhere a no-op).
fn sync_dir(dir: &Path) -> Result<(), BackupError> {
    #[cfg(unix)]
    {
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_at(dir))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder whose `meta.json` names a segment with no files: what a
    /// copier sees when a merge deleted the segment after `meta.json` was
    /// read. Every attempt starts again, then the copy gives up, naming the
    /// index, instead of writing a backup that cannot be opened.
    #[test]
    fn a_segment_gone_under_the_copy_is_retried_then_refused() {
        let src = tempfile::tempdir().unwrap();
        let dest = tempfile::tempdir().unwrap();
        fs::write(src.path().join("FORMAT"), "matcher-data 3\n").unwrap();
        let idx = src.path().join("companies");
        fs::create_dir_all(&idx).unwrap();
        fs::write(
            idx.join("meta.json"),
            r#"{"segments":[{"segment_id":"0123abcd-0000-0000-0000-000000000000","max_doc":1,"deletes":null}],"opstamp":1}"#,
        )
        .unwrap();
        match backup(src.path(), &dest.path().join("copy")) {
            Err(BackupError::Busy(p)) => assert_eq!(p, idx),
            other => panic!("expected Busy, got {other:?}"),
        }
        // Once the segment's files are there, the copy goes through.
        fs::write(idx.join("0123abcd000000000000000000000000.idx"), b"x").unwrap();
        let r = backup(src.path(), &dest.path().join("copy2")).unwrap();
        assert_eq!(r.retries, 0);
        assert!(dest.path().join("copy2/companies/meta.json").is_file());
        assert!(dest
            .path()
            .join("copy2/companies/0123abcd000000000000000000000000.idx")
            .is_file());
        // Not a data folder, or a destination in use: refused.
        assert!(matches!(
            backup(dest.path(), &dest.path().join("x")),
            Err(BackupError::NotADataFolder(_))
        ));
        assert!(matches!(
            backup(src.path(), &dest.path().join("copy2")),
            Err(BackupError::DestinationNotEmpty(_))
        ));
    }
}
