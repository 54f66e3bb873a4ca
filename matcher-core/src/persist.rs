//! The features snapshot: in-memory records saved with bincode 2.x.
//!
//! Layout: `MATCHSNP` magic, format version (u32 LE), the two index
//! opstamps it was taken at (u64 LE each), payload length (u64 LE), CRC32 of
//! the payload (u32 LE), payload. Written to a temporary file, synced and
//! renamed into place, so a crash leaves either the old or the new
//! snapshot. A snapshot whose checksum, version or opstamps do not match
//! is refused (the engine then rebuilds from the index and logs why) — it is
//! never loaded silently.
//!
//! The payload keeps the company features in chunks of [`CHUNK`] slots,
//! each encoded on its own, so opening decodes them on every core: decoding
//! one object graph per company is almost all of a cold open.

use std::io::Write;
use std::path::Path;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::index::records::{CompanyFeatures, NeedEntry, Records, Slots};

const MAGIC: &[u8; 8] = b"MATCHSNP";
/// Bump when `Records` changes shape.
pub const SNAPSHOT_VERSION: u32 = 3;
/// Company slots per separately encoded chunk.
const CHUNK: usize = 8_192;

/// What is encoded (borrowing the records).
#[derive(Serialize)]
struct PayloadOut<'a> {
    companies: Vec<Vec<u8>>,
    needs: &'a Slots<NeedEntry>,
    concept_df: &'a [u32],
}

/// What is decoded.
#[derive(Deserialize)]
struct PayloadIn {
    companies: Vec<Vec<u8>>,
    needs: Slots<NeedEntry>,
    concept_df: Vec<u32>,
}
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
    save_chunked(path, records, stamps, CHUNK)
}

fn save_chunked(
    path: &Path,
    records: &Records,
    stamps: (u64, u64),
    chunk: usize,
) -> Result<(), SnapshotError> {
    let companies = records
        .companies
        .entries
        .par_chunks(chunk.max(1))
        .map(|c| bincode::serde::encode_to_vec(c, config()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| SnapshotError::Codec(e.to_string()))?;
    let out = PayloadOut {
        companies,
        needs: &records.needs,
        concept_df: &records.concept_df,
    };
    let payload = bincode::serde::encode_to_vec(&out, config())
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
    let codec = |e: bincode::error::DecodeError| SnapshotError::Codec(e.to_string());
    let (p, _): (PayloadIn, usize) =
        bincode::serde::decode_from_slice(payload, config()).map_err(codec)?;
    let chunks = p
        .companies
        .par_iter()
        .map(|c| {
            bincode::serde::decode_from_slice::<Vec<Option<CompanyFeatures>>, _>(c, config())
                .map(|(v, _)| v)
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(codec)?;
    let mut companies = Slots::default();
    companies.entries = chunks.into_iter().flatten().collect();
    companies.reindex(|f| f.id.clone());
    let mut records = Records {
        companies,
        needs: p.needs,
        concept_df: p.concept_df,
        filter_keys: Vec::new(),
    };
    records.rebuild_filter_keys();
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn company_chunks_round_trip_with_holes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("snapshot.bin");
        let mut records = Records::default();
        for i in 0..7u32 {
            let f: CompanyFeatures = serde_json::from_value(serde_json::json!({
                "id": format!("c{i}"), "name": format!("会社{i}"), "municipality": "131016",
                "location": {"lat": 35.69, "lon": 139.75}, "jsic": ["2451"],
                "certifications": ["ISO9001"], "equipment": [], "concepts": [[3, 0.5]],
                "updated_at": "2025-01-01", "employees": 12, "visibility": "restricted"
            }))
            .unwrap();
            let slot = records.companies.reserve(&f.id);
            records.companies.set(slot, f);
        }
        let gone = records.companies.entries[2].as_ref().unwrap().id.clone();
        records.companies.remove(&gone);
        records.rebuild_filter_keys();
        // chunks of 3 slots: three chunks, one with a hole
        save_chunked(&p, &records, (1, 2), 3).unwrap();
        let back = load(&p, (1, 2)).unwrap();
        assert_eq!(back.companies.entries, records.companies.entries);
        assert_eq!(back.companies.slot_of("c6"), Some(6));
        assert_eq!(back.companies.slot_of("c2"), None);
        assert_eq!(back.filter_keys, records.filter_keys);
        assert!(!back.filter_keys[2].live && back.filter_keys[3].live);
    }

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
