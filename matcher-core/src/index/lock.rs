//! The data folder's writer lock: one writing process at a time.
//!
//! Every writer of a data folder — `matcher serve`, `matcher import`, an
//! embedding program — takes an exclusive OS lock on `DIR/writer.lock`
//! before its first write and holds it until it exits. Without it, an
//! import beside a live server assigned slots the server did not know of,
//! and the server then reused them for other companies. The lock is
//! advisory (flock on Unix) and dies with the process, so a crash never
//! leaves a folder locked; the file holds the holder's pid, for the error a
//! second writer gets.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Held while this process may write the folder; released on drop.
#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds it: one writer per data folder.
    #[error(
        "the data folder {} is being written by another process{}; \
         write through that server's REST API (or stop it first)",
        path.display(),
        holder.map(|p| format!(" (pid {p}, probably `matcher serve`)")).unwrap_or_default()
    )]
    Held {
        /// The lock file.
        path: PathBuf,
        /// The holder's pid, if the lock file names one.
        holder: Option<u32>,
    },
    /// The lock file could not be opened or locked.
    #[error("cannot lock the data folder ({}): {source}", path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
}

impl DirLock {
    /// Take the lock of data folder `dir`, or say who holds it.
    pub(crate) fn acquire(dir: &Path) -> Result<DirLock, LockError> {
        let path = dir.join("writer.lock");
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut s = String::new();
                let holder = file
                    .read_to_string(&mut s)
                    .ok()
                    .and_then(|_| s.trim().parse().ok());
                return Err(LockError::Held {
                    path: dir.to_path_buf(),
                    holder,
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(DirLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_with_the_holders_pid() {
        let dir = tempfile::tempdir().unwrap();
        let first = DirLock::acquire(dir.path()).unwrap();
        let err = DirLock::acquire(dir.path()).unwrap_err();
        match &err {
            LockError::Held { holder, .. } => assert_eq!(*holder, Some(std::process::id())),
            other => panic!("unexpected {other:?}"),
        }
        let msg = err.to_string();
        assert!(msg.contains("REST API"), "{msg}");
        assert!(msg.contains(&std::process::id().to_string()), "{msg}");
        drop(first);
        assert!(DirLock::acquire(dir.path()).is_ok(), "released on drop");
    }
}
