//! An append-only journal: one JSON object per line in a file of the data
//! folder, each line on disk (`fsync`) before [`Journal::append`] returns.
//!
//! Why a journal and not the tantivy index: outcome events and audit entries
//! are facts with a time and an author that are never edited, read back in
//! order and folded into a current state. A line per event is the simplest
//! durable form of that, greppable by an operator, and cheap to append
//! (one `write` and one `fdatasync`).
//!
//! Crash rules (what a SIGKILL or a power cut can leave):
//! - an acknowledged line is complete and ends with `\n` (it was written in
//!   one `write_all` and synced before the acknowledgement);
//! - the last line may be torn (no `\n`, or not valid JSON): it was never
//!   acknowledged, so opening cuts it off and logs a warning;
//! - any other line that does not parse is damage, not a crash: opening
//!   fails naming the file, the line and the reason, instead of dropping it.
//! - a failed append (disk full) cuts the file back to its last good length,
//!   so a half line can never end up in the middle.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Why a journal could not be opened or appended to.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The journal file could not be opened, read, written or synced.
    #[error("cannot use the journal {path}: {source}")]
    Io {
        /// The journal file.
        path: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    #[error(
        "{path}:{line}: {reason} — the journal is damaged there (not a torn last line); \
         fix or remove that line, or move the file away to start an empty journal"
    )]
    /// A line before the last does not parse: damage a torn write cannot
    /// explain, so it is not cut away silently.
    Damaged {
        /// The journal file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// Why it does not parse.
        reason: String,
    },
    /// An entry could not be serialized (a bug, not data).
    #[error("cannot encode a journal entry: {0}")]
    Encode(String),
}

/// An open journal of `T`s. In memory only when it has no file (tests,
/// embedders without a data folder).
#[derive(Debug)]
pub struct Journal<T> {
    file: Option<(File, PathBuf)>,
    /// Length of the file up to its last complete line.
    len: u64,
    _t: PhantomData<fn(T) -> T>,
}

impl<T: Serialize + DeserializeOwned> Journal<T> {
    /// A journal that keeps nothing on disk.
    pub fn in_memory() -> Self {
        Journal {
            file: None,
            len: 0,
            _t: PhantomData,
        }
    }

    /// Open (or create) the journal at `path` and read every entry in it.
    pub fn open(path: &Path) -> Result<(Self, Vec<T>), JournalError> {
        let shown = path.display().to_string();
        let io = |source| JournalError::Io {
            path: shown.clone(),
            source,
        };
        let existed = path.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(io)?;
        if !existed {
            // The new file's directory entry must survive a crash too.
            if let Some(dir) = path.parent() {
                if let Ok(d) = File::open(dir) {
                    let _ = d.sync_all();
                }
            }
        }
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.read_to_end(&mut bytes).map_err(io)?;
        let (entries, good_len) = parse(&bytes, &shown)?;
        if good_len < bytes.len() as u64 {
            tracing::warn!(
                journal = %shown,
                cut_bytes = bytes.len() as u64 - good_len,
                "cutting off a torn last line (it was never acknowledged)"
            );
            file.set_len(good_len).map_err(io)?;
            file.sync_data().map_err(io)?;
        }
        Ok((
            Journal {
                file: Some((file, path.to_owned())),
                len: good_len,
                _t: PhantomData,
            },
            entries,
        ))
    }

    /// Append `entry` and return once it is on disk.
    pub fn append(&mut self, entry: &T) -> Result<(), JournalError> {
        let mut line =
            serde_json::to_vec(entry).map_err(|e| JournalError::Encode(e.to_string()))?;
        line.push(b'\n');
        let Some((file, path)) = &mut self.file else {
            return Ok(());
        };
        let written = file.write_all(&line).and_then(|()| file.sync_data());
        if let Err(source) = written {
            // Never leave half a line for the next append to bury.
            let _ = file.set_len(self.len);
            return Err(JournalError::Io {
                path: path.display().to_string(),
                source,
            });
        }
        self.len += line.len() as u64;
        Ok(())
    }
}

/// The Unix time now, in seconds (the time stamp of journal entries).
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Entries of `bytes` and the length of its complete, valid part.
fn parse<T: DeserializeOwned>(bytes: &[u8], path: &str) -> Result<(Vec<T>, u64), JournalError> {
    let mut out = Vec::new();
    let mut at = 0usize;
    let mut line_no = 0usize;
    while at < bytes.len() {
        line_no += 1;
        let end = bytes[at..].iter().position(|b| *b == b'\n');
        let (line, next, complete) = match end {
            Some(e) => (&bytes[at..at + e], at + e + 1, true),
            None => (&bytes[at..], bytes.len(), false),
        };
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            if complete {
                at = next;
                continue;
            }
            return Ok((out, at as u64));
        }
        if !complete {
            // A last line without its newline was never acknowledged
            // (the newline is the last byte of every append).
            return Ok((out, at as u64));
        }
        match serde_json::from_slice::<T>(line) {
            Ok(v) => out.push(v),
            Err(e) => {
                return Err(JournalError::Damaged {
                    path: path.to_owned(),
                    line: line_no,
                    reason: e.to_string(),
                })
            }
        }
        at = next;
    }
    Ok((out, at as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct E {
        n: u32,
        s: String,
    }

    fn e(n: u32) -> E {
        E {
            n,
            s: format!("成約{n}"),
        }
    }

    #[test]
    fn appended_entries_are_read_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j.jsonl");
        let (mut j, old) = Journal::<E>::open(&p).unwrap();
        assert!(old.is_empty());
        for n in 0..5 {
            j.append(&e(n)).unwrap();
        }
        drop(j);
        let (_, back) = Journal::<E>::open(&p).unwrap();
        assert_eq!(back, (0..5).map(e).collect::<Vec<_>>());
    }

    #[test]
    fn a_torn_last_line_is_cut_and_later_appends_stay_readable() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j.jsonl");
        let (mut j, _) = Journal::<E>::open(&p).unwrap();
        j.append(&e(1)).unwrap();
        drop(j);
        // A crash in the middle of the second write.
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(r#"{"n":2,"s":"途"#.as_bytes()).unwrap();
        drop(f);
        let (mut j, back) = Journal::<E>::open(&p).unwrap();
        assert_eq!(back, vec![e(1)]);
        j.append(&e(3)).unwrap();
        drop(j);
        let (_, back) = Journal::<E>::open(&p).unwrap();
        assert_eq!(back, vec![e(1), e(3)]);
    }

    #[test]
    fn damage_in_the_middle_is_an_error_naming_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j.jsonl");
        std::fs::write(
            &p,
            "{\"n\":1,\"s\":\"a\"}\n{\"n\":\"two\",\"s\":\"b\"}\n{\"n\":3,\"s\":\"c\"}\n",
        )
        .unwrap();
        let err = Journal::<E>::open(&p).unwrap_err().to_string();
        assert!(err.contains("j.jsonl:2:"), "{err}");
        assert!(err.contains("damaged"), "{err}");
        // Nothing was cut: the file is as it was.
        assert_eq!(std::fs::read_to_string(&p).unwrap().lines().count(), 3);
    }
}
