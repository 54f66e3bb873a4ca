//! The features snapshot: in-memory records saved with bincode 2.x.
//!
//! Layout: `MATCHSNP` magic, format version (u32 LE), the two index
//! opstamps it was taken at (u64 LE each), payload length (u64 LE), CRC32 of
//! the payload (u32 LE), payload. Written to a temporary file, synced and
//! renamed into place, so a crash leaves either the old or the new
//! snapshot. A snapshot whose checksum, version or opstamps do not match
//! is refused (the engine then rebuilds from the index and logs why) — it is
//! never loaded silently.

use std::io::Write;
use std::path::Path;

use crate::index::records::Records;

const MAGIC: &[u8; 8] = b"MATCHSNP";
/// Bump when `Records` changes shape.
pub const SNAPSHOT_VERSION: u32 = 2;
const HEADER: usize = 8 + 4 + 8 + 8 + 8 + 4;

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("no snapshot")]
    Missing,
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a matcher snapshot (bad magic or truncated header)")]
    BadHeader,
    #[error("snapshot version {found}, expected {SNAPSHOT_VERSION}")]
    Version { found: u32 },
    #[error("snapshot was taken at index opstamps {found:?}, the index is at {want:?}")]
    Stale { found: (u64, u64), want: (u64, u64) },
    #[error("checksum mismatch: the snapshot is corrupt")]
    Checksum,
    #[error("encode/decode: {0}")]
    Codec(String),
}

fn config() -> impl bincode::config::Config {
    bincode::config::standard()
}

/// Save `records` taken at index opstamps `stamps`, atomically.
pub fn save(path: &Path, records: &Records, stamps: (u64, u64)) -> Result<(), SnapshotError> {
    let payload = bincode::serde::encode_to_vec(records, config())
        .map_err(|e| SnapshotError::Codec(e.to_string()))?;
    let mut buf = Vec::with_capacity(HEADER + payload.len());
    buf.extend_from_slice(MAGIC);
    buf.extend_from_slice(&SNAPSHOT_VERSION.to_le_bytes());
    buf.extend_from_slice(&stamps.0.to_le_bytes());
    buf.extend_from_slice(&stamps.1.to_le_bytes());
    buf.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    buf.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    buf.extend_from_slice(&payload);
    let tmp = path.with_extension("bin.tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&buf)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    Ok(())
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Load a snapshot, checking it against the current index opstamps.
pub fn load(path: &Path, want: (u64, u64)) -> Result<Records, SnapshotError> {
    let buf = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(SnapshotError::Missing),
        Err(e) => return Err(e.into()),
    };
    if buf.len() < HEADER || &buf[..8] != MAGIC {
        return Err(SnapshotError::BadHeader);
    }
    let version = u32_at(&buf, 8);
    if version != SNAPSHOT_VERSION {
        return Err(SnapshotError::Version { found: version });
    }
    let found = (u64_at(&buf, 12), u64_at(&buf, 20));
    if found != want {
        return Err(SnapshotError::Stale { found, want });
    }
    let len = u64_at(&buf, 28) as usize;
    let crc = u32_at(&buf, 36);
    let payload = buf
        .get(HEADER..)
        .filter(|p| p.len() == len)
        .ok_or(SnapshotError::Checksum)?;
    if crc32fast::hash(payload) != crc {
        return Err(SnapshotError::Checksum);
    }
    let (records, _) = bincode::serde::decode_from_slice(payload, config())
        .map_err(|e| SnapshotError::Codec(e.to_string()))?;
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_old_and_stale_snapshots_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("snapshot.bin");
        assert!(matches!(load(&p, (1, 1)), Err(SnapshotError::Missing)));
        save(&p, &Records::default(), (3, 4)).unwrap();
        assert!(load(&p, (3, 4)).is_ok());
        assert!(matches!(load(&p, (5, 4)), Err(SnapshotError::Stale { .. })));
        let mut b = std::fs::read(&p).unwrap();
        let last = b.len() - 1;
        b[last] ^= 0xff;
        std::fs::write(&p, &b).unwrap();
        assert!(matches!(
            load(&p, (3, 4)),
            Err(SnapshotError::Checksum | SnapshotError::Codec(_))
        ));
        b[8] = 99;
        std::fs::write(&p, &b).unwrap();
        assert!(matches!(
            load(&p, (3, 4)),
            Err(SnapshotError::Version { found: 99 })
        ));
    }
}
