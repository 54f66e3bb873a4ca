//! The features snapshot: in-memory records saved with bincode 2.x.
//!
//! Layout: `MATCHSNP` magic, format version (u32 LE), the [`CommitId`] of
//! each index it was taken at (companies, needs: opstamp, a hash of the
//! live documents' slots, live documents; u64 LE each), payload length (u64 LE),
//! CRC32 of the payload (u32 LE), payload. Written to a temporary file,
//! synced and renamed into place, so a crash leaves either the old or the
//! new snapshot. A snapshot is refused — the engine then rebuilds from the
//! stored records and logs why; it is never loaded silently — when its
//! checksum or version is off, when it was taken at another commit of
//! either index (a different opstamp or another set of live documents), or
//! when the records it holds do not count the index's live documents.

use std::io::Write;
use std::path::Path;

use crate::index::postings::SegmentPostings;
use crate::index::records::Records;

const MAGIC: &[u8; 8] = b"MATCHSNP";
/// Bump when `Records` changes shape.
pub const SNAPSHOT_VERSION: u32 = 4;
/// Magic, version, two commit ids, the ontology fingerprint, the payload's
/// length and CRC.
const HEADER: usize = 8 + 4 + 6 * 8 + 4 + 8 + 4;

/// Which commit of one index a view (and a snapshot of it) describes.
///
/// Merge-invariant on purpose: tantivy merges segments in the background
/// after a commit (new segment ids, same documents, same opstamp), and a
/// snapshot must stay valid through that; what it must not survive is any
/// change of *which* documents are live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CommitId {
    /// The commit's opstamp.
    pub opstamp: u64,
    /// An order-independent hash of the live documents' slots.
    pub slots: u64,
    /// Live documents.
    pub docs: u64,
}

impl CommitId {
    /// The commit a searcher reads, at index opstamp `opstamp`.
    pub fn of(searcher: &tantivy::Searcher, opstamp: u64) -> CommitId {
        let mut slots = 0u64;
        for seg in searcher.segment_readers() {
            let Ok(col) = seg.fast_fields().u64("slot") else {
                continue;
            };
            for doc in seg.doc_ids_alive() {
                if let Some(s) = col.first(doc) {
                    slots = slots.wrapping_add(mix(s));
                }
            }
        }
        CommitId {
            opstamp,
            slots,
            docs: searcher.num_docs(),
        }
    }
}

/// A 64-bit finalizer (splitmix64): spreads each slot over all bits, so the
/// sum over a set of slots changes when any member does.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Why a snapshot was not loaded. None of these is fatal: the engine then
/// rebuilds the features from the stored records and logs why.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// There is no snapshot file (a new folder, or one never saved).
    #[error("no snapshot")]
    Missing,
    /// The file could not be read or written.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// Not a snapshot file, or cut short.
    #[error("not a matcher snapshot (bad magic or truncated header)")]
    BadHeader,
    /// Written by another version of the file's format.
    #[error("format version {found}, this build reads {expected}")]
    Version {
        /// The file's version.
        found: u32,
        /// The version this build reads.
        expected: u32,
    },
    /// Taken at other commits than the indexes are at (a crash between a
    /// commit and the next save, or a folder copied piecemeal).
    #[error("snapshot was taken at another commit ({found:?}); the indexes are at {want:?}")]
    Stale {
        /// The commits (companies, needs) the snapshot names.
        found: [CommitId; 2],
        /// The commits of the indexes.
        want: [CommitId; 2],
    },
    /// Taken with another ontology or other extraction rules: its concept
    /// sets name concepts by their number in the ontology it was taken
    /// with, which an edit of `concepts.jsonl` renumbers.
    #[error(
        "snapshot was taken with another ontology (fingerprint {found:08x}, now {want:08x}); \
         the features are rebuilt from the stored records: run `matcher reindex` so that the \
         index's concept ids and stored evidence follow"
    )]
    Ontology {
        /// The fingerprint the snapshot names.
        found: u32,
        /// The current ontology's.
        want: u32,
    },
    /// Its record counts differ from the indexes'.
    #[error("snapshot lists {found:?} companies and needs, the indexes hold {want:?}")]
    Count {
        /// (companies, needs) in the snapshot.
        found: (usize, usize),
        /// Live documents (companies, needs) in the indexes.
        want: (u64, u64),
    },
    /// The body does not match its CRC32: damaged on disk.
    #[error("checksum mismatch: the snapshot is corrupt")]
    Checksum,
    /// bincode could not encode or decode the body.
    #[error("encode/decode: {0}")]
    Codec(String),
}

fn config() -> impl bincode::config::Config {
    bincode::config::standard()
}

/// Save `records` taken at the commits `ids` (companies, needs), atomically.
/// `ontology` is the fingerprint of the ontology the concept sets were
/// extracted with (`Ontology::fingerprint`).
pub fn save(
    path: &Path,
    records: &Records,
    ids: [CommitId; 2],
    ontology: u32,
) -> Result<(), SnapshotError> {
    let payload = bincode::serde::encode_to_vec(records, config())
        .map_err(|e| SnapshotError::Codec(e.to_string()))?;
    let mut buf = Vec::with_capacity(HEADER + payload.len());
    buf.extend_from_slice(MAGIC);
    buf.extend_from_slice(&SNAPSHOT_VERSION.to_le_bytes());
    for id in ids {
        buf.extend_from_slice(&id.opstamp.to_le_bytes());
        buf.extend_from_slice(&id.slots.to_le_bytes());
        buf.extend_from_slice(&id.docs.to_le_bytes());
    }
    buf.extend_from_slice(&ontology.to_le_bytes());
    buf.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    buf.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    buf.extend_from_slice(&payload);
    write_atomic(path, &buf)
}

/// Write `buf` to a temporary file, sync it and rename it into place, so a
/// crash leaves either the old file or the new one.
fn write_atomic(path: &Path, buf: &[u8]) -> Result<(), SnapshotError> {
    let tmp = path.with_extension("bin.tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(buf)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    Ok(())
}

const MATCHING_MAGIC: &[u8; 8] = b"MATCHPST";
/// Bump when `SegmentPostings` changes shape.
const MATCHING_VERSION: u32 = 1;
const MATCHING_HEADER: usize = 8 + 4 + 8 + 4;

/// Save the matching index's postings, per segment (`index::postings`).
///
/// Layout: `MATCHPST` magic, version (u32 LE), payload length (u64 LE),
/// CRC32 of the payload (u32 LE), payload (bincode). Bound to no commit:
/// each segment's postings carry the segment's id and document count, and a
/// segment never changes, so at open the postings of every segment still in
/// the index are used and the others (merged away) ignored.
pub(crate) fn save_matching(
    path: &Path,
    segments: &[std::sync::Arc<SegmentPostings>],
) -> Result<(), SnapshotError> {
    let payload = bincode::serde::encode_to_vec(segments, config())
        .map_err(|e| SnapshotError::Codec(e.to_string()))?;
    let mut buf = Vec::with_capacity(MATCHING_HEADER + payload.len());
    buf.extend_from_slice(MATCHING_MAGIC);
    buf.extend_from_slice(&MATCHING_VERSION.to_le_bytes());
    buf.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    buf.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    buf.extend_from_slice(&payload);
    write_atomic(path, &buf)
}

/// Load what [`save_matching`] wrote. A damaged or other-version file is an
/// error (the caller decodes the postings from the index again).
pub(crate) fn load_matching(
    path: &Path,
) -> Result<Vec<std::sync::Arc<SegmentPostings>>, SnapshotError> {
    let buf = read_versioned(path, MATCHING_MAGIC, MATCHING_VERSION, MATCHING_HEADER)?;
    let payload = checked_payload(&buf, MATCHING_HEADER, 12)?;
    let (segments, _): (Vec<SegmentPostings>, _) =
        bincode::serde::decode_from_slice(payload, config())
            .map_err(|e| SnapshotError::Codec(e.to_string()))?;
    Ok(segments
        .into_iter()
        .map(|mut s| {
            s.from_file = true;
            std::sync::Arc::new(s)
        })
        .collect())
}

/// The file at `path` if it starts with `magic` and `version` (u32 LE)
/// and holds at least a `header`.
fn read_versioned(
    path: &Path,
    magic: &[u8; 8],
    version: u32,
    header: usize,
) -> Result<Vec<u8>, SnapshotError> {
    let buf = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(SnapshotError::Missing),
        Err(e) => return Err(e.into()),
    };
    if buf.len() < header || buf.get(..8) != Some(&magic[..]) {
        return Err(SnapshotError::BadHeader);
    }
    let found = u32_at(&buf, 8);
    if found != version {
        return Err(SnapshotError::Version {
            found,
            expected: version,
        });
    }
    Ok(buf)
}

/// The payload after a `header` whose payload length (u64 LE) and CRC32
/// (u32 LE) stand at `at`, checked against both.
fn checked_payload(buf: &[u8], header: usize, at: usize) -> Result<&[u8], SnapshotError> {
    let len = u64_at(buf, at) as usize;
    let crc = u32_at(buf, at + 8);
    let payload = buf
        .get(header..)
        .filter(|p| p.len() == len)
        .ok_or(SnapshotError::Checksum)?;
    if crc32fast::hash(payload) != crc {
        return Err(SnapshotError::Checksum);
    }
    Ok(payload)
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
#[cfg(any(test, feature = "testkit"))]
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
        slots: u64_at(buf, at + 8),
        docs: u64_at(buf, at + 16),
    }
}

/// Load a snapshot, checking it against the indexes' current commits and
/// the current ontology's fingerprint.
pub fn load(path: &Path, want: [CommitId; 2], ontology: u32) -> Result<Records, SnapshotError> {
    let buf = read_versioned(path, MAGIC, SNAPSHOT_VERSION, HEADER)?;
    let found = [commit_at(&buf, 12), commit_at(&buf, 36)];
    if found != want {
        return Err(SnapshotError::Stale { found, want });
    }
    let taken_with = u32_at(&buf, 60);
    if taken_with != ontology {
        return Err(SnapshotError::Ontology {
            found: taken_with,
            want: ontology,
        });
    }
    let payload = checked_payload(&buf, HEADER, 64)?;
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

    /// A background merge (new segments, same documents) keeps the id;
    /// deleting a document changes it.
    #[test]
    fn commit_ids_survive_merges_not_deletes() {
        use tantivy::schema::{Schema, FAST, STRING};
        use tantivy::{doc, Index, Term};
        let mut b = Schema::builder();
        let slot = b.add_u64_field("slot", FAST);
        let id = b.add_text_field("id", STRING);
        let index = Index::create_in_ram(b.build());
        let mut w: tantivy::IndexWriter = index.writer(15_000_000).unwrap();
        for i in 0..4u64 {
            w.add_document(doc!(slot => i, id => format!("c{i}")))
                .unwrap();
            w.commit().unwrap();
        }
        let reader = index.reader().unwrap();
        reader.reload().unwrap();
        let before = CommitId::of(&reader.searcher(), 4);
        assert_eq!(reader.searcher().segment_readers().len(), 4);
        let segments = index.searchable_segment_ids().unwrap();
        w.merge(&segments).wait().unwrap();
        reader.reload().unwrap();
        assert_eq!(reader.searcher().segment_readers().len(), 1);
        assert_eq!(CommitId::of(&reader.searcher(), 4), before);
        w.delete_term(Term::from_field_text(id, "c2"));
        w.commit().unwrap();
        reader.reload().unwrap();
        let after = CommitId::of(&reader.searcher(), 4);
        assert_ne!(after.slots, before.slots);
        assert_eq!(after.docs, 3);
    }

    fn id(opstamp: u64, docs: u64) -> CommitId {
        CommitId {
            opstamp,
            slots: 7,
            docs,
        }
    }

    /// An ontology fingerprint.
    const ONT: u32 = 0x5eed;

    #[test]
    fn corrupt_old_stale_and_miscounted_snapshots_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("snapshot.bin");
        let at = [id(3, 0), id(4, 0)];
        assert!(matches!(load(&p, at, ONT), Err(SnapshotError::Missing)));
        save(&p, &Records::default(), at, ONT).unwrap();
        assert!(load(&p, at, ONT).is_ok());
        // taken with another ontology: its concept numbers mean nothing now
        assert!(matches!(
            load(&p, at, ONT + 1),
            Err(SnapshotError::Ontology { found: ONT, .. })
        ));
        assert!(matches!(
            load(&p, [id(5, 0), id(4, 0)], ONT),
            Err(SnapshotError::Stale { .. })
        ));
        let other_documents = CommitId { slots: 8, ..at[0] };
        assert!(matches!(
            load(&p, [other_documents, at[1]], ONT),
            Err(SnapshotError::Stale { .. })
        ));
        // Bound to a commit whose index holds documents the records lack.
        save(&p, &Records::default(), [id(3, 2), id(4, 0)], ONT).unwrap();
        assert!(matches!(
            load(&p, [id(3, 2), id(4, 0)], ONT),
            Err(SnapshotError::Count { .. })
        ));
        save(&p, &Records::default(), at, ONT).unwrap();
        let mut b = std::fs::read(&p).unwrap();
        let last = b.len() - 1;
        b[last] ^= 0xff;
        std::fs::write(&p, &b).unwrap();
        assert!(matches!(
            load(&p, at, ONT),
            Err(SnapshotError::Checksum | SnapshotError::Codec(_))
        ));
        b[8] = 99;
        std::fs::write(&p, &b).unwrap();
        assert!(matches!(
            load(&p, at, ONT),
            Err(SnapshotError::Version { found: 99, .. })
        ));
    }
}
