//! The features snapshot: in-memory records saved with bincode 2.x.
//!
//! Layout: `MATCHSNP` magic, format version (u32 LE), the [`CommitId`] of
//! each index it was taken at (companies, needs: opstamp, segment
//! fingerprint, live documents; u64 LE each), payload length (u64 LE),
//! CRC32 of the payload (u32 LE), payload. Written to a temporary file,
//! synced and renamed into place, so a crash leaves either the old or the
//! new snapshot. A snapshot is refused — the engine then rebuilds from the
//! stored records and logs why; it is never loaded silently — when its
//! checksum or version is off, when it was taken at another commit of
//! either index (a different opstamp, other segments or other deletes), or
//! when the records it holds do not count the index's live documents.

use std::io::Write;
use std::path::Path;

use crate::index::records::Records;

const MAGIC: &[u8; 8] = b"MATCHSNP";
/// Bump when `Records` changes shape.
pub const SNAPSHOT_VERSION: u32 = 3;
const HEADER: usize = 8 + 4 + 6 * 8 + 8 + 4;

/// Which commit of one index a view (and a snapshot of it) describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CommitId {
    /// The commit's opstamp.
    pub opstamp: u64,
    /// A hash of the segments the commit holds, with their deletes.
    pub segments: u64,
    /// Live documents.
    pub docs: u64,
}

impl CommitId {
    /// The commit a searcher reads, at index opstamp `opstamp`.
    pub fn of(searcher: &tantivy::Searcher, opstamp: u64) -> CommitId {
        let mut segs: Vec<(String, u32, u32, u64)> = searcher
            .segment_readers()
            .iter()
            .map(|s| {
                let id = s.segment_id().uuid_string();
                (
                    id,
                    s.max_doc(),
                    s.num_deleted_docs(),
                    s.delete_opstamp().unwrap_or(0),
                )
            })
            .collect();
        segs.sort_unstable();
        let mut h = crc32fast::Hasher::new();
        let mut h2 = crc32fast::Hasher::new_with_initial(0x9e37_79b9);
        for (id, max, del, op) in segs {
            for hh in [&mut h, &mut h2] {
                hh.update(id.as_bytes());
                hh.update(&max.to_le_bytes());
                hh.update(&del.to_le_bytes());
                hh.update(&op.to_le_bytes());
            }
        }
        CommitId {
            opstamp,
            segments: (u64::from(h.finalize()) << 32) | u64::from(h2.finalize()),
            docs: searcher.num_docs(),
        }
    }
}

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
    #[error("snapshot was taken at another commit ({found:?}); the indexes are at {want:?}")]
    Stale {
        found: [CommitId; 2],
        want: [CommitId; 2],
    },
    #[error("snapshot lists {found:?} companies and needs, the indexes hold {want:?}")]
    Count {
        found: (usize, usize),
        want: (u64, u64),
    },
    #[error("checksum mismatch: the snapshot is corrupt")]
    Checksum,
    #[error("encode/decode: {0}")]
    Codec(String),
}

fn config() -> impl bincode::config::Config {
    bincode::config::standard()
}

/// Save `records` taken at the commits `ids` (companies, needs), atomically.
pub fn save(path: &Path, records: &Records, ids: [CommitId; 2]) -> Result<(), SnapshotError> {
    let payload = bincode::serde::encode_to_vec(records, config())
        .map_err(|e| SnapshotError::Codec(e.to_string()))?;
    let mut buf = Vec::with_capacity(HEADER + payload.len());
    buf.extend_from_slice(MAGIC);
    buf.extend_from_slice(&SNAPSHOT_VERSION.to_le_bytes());
    for id in ids {
        buf.extend_from_slice(&id.opstamp.to_le_bytes());
        buf.extend_from_slice(&id.segments.to_le_bytes());
        buf.extend_from_slice(&id.docs.to_le_bytes());
    }
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

/// The commits a snapshot file says it was taken at (its header only).
pub fn commits(path: &Path) -> Result<[CommitId; 2], SnapshotError> {
    let buf = std::fs::read(path)?;
    if buf.len() < HEADER || &buf[..8] != MAGIC {
        return Err(SnapshotError::BadHeader);
    }
    Ok([commit_at(&buf, 12), commit_at(&buf, 36)])
}

fn commit_at(buf: &[u8], at: usize) -> CommitId {
    CommitId {
        opstamp: u64_at(buf, at),
        segments: u64_at(buf, at + 8),
        docs: u64_at(buf, at + 16),
    }
}

/// Load a snapshot, checking it against the indexes' current commits.
pub fn load(path: &Path, want: [CommitId; 2]) -> Result<Records, SnapshotError> {
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
    let found = [commit_at(&buf, 12), commit_at(&buf, 36)];
    if found != want {
        return Err(SnapshotError::Stale { found, want });
    }
    let len = u64_at(&buf, 60) as usize;
    let crc = u32_at(&buf, 68);
    let payload = buf
        .get(HEADER..)
        .filter(|p| p.len() == len)
        .ok_or(SnapshotError::Checksum)?;
    if crc32fast::hash(payload) != crc {
        return Err(SnapshotError::Checksum);
    }
    let (records, _): (Records, _) = bincode::serde::decode_from_slice(payload, config())
        .map_err(|e| SnapshotError::Codec(e.to_string()))?;
    let counts = (records.companies.len(), records.needs.len());
    if counts.0 as u64 != want[0].docs || counts.1 as u64 != want[1].docs {
        return Err(SnapshotError::Count {
            found: counts,
            want: (want[0].docs, want[1].docs),
        });
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(opstamp: u64, docs: u64) -> CommitId {
        CommitId {
            opstamp,
            segments: 7,
            docs,
        }
    }

    #[test]
    fn corrupt_old_stale_and_miscounted_snapshots_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("snapshot.bin");
        let at = [id(3, 0), id(4, 0)];
        assert!(matches!(load(&p, at), Err(SnapshotError::Missing)));
        save(&p, &Records::default(), at).unwrap();
        assert!(load(&p, at).is_ok());
        assert!(matches!(
            load(&p, [id(5, 0), id(4, 0)]),
            Err(SnapshotError::Stale { .. })
        ));
        let other_segments = CommitId {
            segments: 8,
            ..at[0]
        };
        assert!(matches!(
            load(&p, [other_segments, at[1]]),
            Err(SnapshotError::Stale { .. })
        ));
        // Bound to a commit whose index holds documents the records lack.
        save(&p, &Records::default(), [id(3, 2), id(4, 0)]).unwrap();
        assert!(matches!(
            load(&p, [id(3, 2), id(4, 0)]),
            Err(SnapshotError::Count { .. })
        ));
        save(&p, &Records::default(), at).unwrap();
        let mut b = std::fs::read(&p).unwrap();
        let last = b.len() - 1;
        b[last] ^= 0xff;
        std::fs::write(&p, &b).unwrap();
        assert!(matches!(
            load(&p, at),
            Err(SnapshotError::Checksum | SnapshotError::Codec(_))
        ));
        b[8] = 99;
        std::fs::write(&p, &b).unwrap();
        assert!(matches!(
            load(&p, at),
            Err(SnapshotError::Version { found: 99 })
        ));
    }
}
