//! The audit trail of restricted profiles: who read a restricted company's
//! full profile, when, and through what (`console` or `api`). Portals never
//! read one (they get a 404), so every entry is a coordinator or an admin.
//! Kept in `DATA/audit.jsonl`, an append-only [`crate::journal`]; admins
//! read it in the console.

use std::collections::VecDeque;
use std::path::Path;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::journal::{Journal, JournalError};

/// The journal's file name in the data folder.
pub const FILE_NAME: &str = "audit.jsonl";

/// Entries kept in memory for the admin page (the file keeps all).
const KEPT: usize = 10_000;

/// One read of a restricted profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AuditEntry {
    /// Unix time, seconds.
    pub at: i64,
    /// The API key's name.
    pub who: String,
    /// `admin` or `coordinator`.
    pub role: String,
    /// The restricted company whose profile was read.
    pub company_id: String,
    /// `console` or `api`.
    pub via: String,
}

/// The audit trail.
pub struct Audit {
    inner: Mutex<(Journal<AuditEntry>, VecDeque<AuditEntry>)>,
}

impl Audit {
    /// Open (or create) `DIR/audit.jsonl`.
    pub fn open(data_dir: &Path) -> Result<Audit, JournalError> {
        let (j, all) = Journal::open(&data_dir.join(FILE_NAME))?;
        let skip = all.len().saturating_sub(KEPT);
        Ok(Audit {
            inner: Mutex::new((j, all.into_iter().skip(skip).collect())),
        })
    }

    /// A trail that keeps nothing on disk.
    pub fn in_memory() -> Audit {
        Audit {
            inner: Mutex::new((Journal::in_memory(), VecDeque::new())),
        }
    }

    /// Record one read, on disk before it returns.
    pub fn record(&self, entry: AuditEntry) -> Result<(), JournalError> {
        let mut g = self.inner.lock();
        g.0.append(&entry)?;
        if g.1.len() == KEPT {
            g.1.pop_front();
        }
        g.1.push_back(entry);
        Ok(())
    }

    /// The newest entries first, at most `limit`, optionally of one company.
    pub fn recent(&self, company_id: Option<&str>, limit: usize) -> Vec<AuditEntry> {
        let g = self.inner.lock();
        g.1.iter()
            .rev()
            .filter(|e| company_id.is_none_or(|c| e.company_id == c))
            .take(limit)
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_kept_across_reopening_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let a = Audit::open(dir.path()).unwrap();
        for (i, c) in ["zz-1", "zz-2", "zz-1"].iter().enumerate() {
            a.record(AuditEntry {
                at: 100 + i as i64,
                who: "tama-center".into(),
                role: "coordinator".into(),
                company_id: (*c).into(),
                via: "console".into(),
            })
            .unwrap();
        }
        drop(a);
        let a = Audit::open(dir.path()).unwrap();
        let at: Vec<i64> = a.recent(Some("zz-1"), 10).iter().map(|e| e.at).collect();
        assert_eq!(at, [102, 100]);
        assert_eq!(a.recent(None, 2).len(), 2);
    }
}
