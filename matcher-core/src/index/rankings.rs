//! Rankings of stored needs, memoized in the view they were computed on.
//!
//! Two answers read the ranking of *other* needs than the one asked about:
//! a company's opportunities (where it ranks in every open need) and the
//! reverse half of a mutual score (where the need's owner ranks in each
//! candidate's own needs). Computed per request, an opportunities call at
//! 100k companies ranked all ~2,000 open needs — a whole batch — and a
//! mutual match re-ran retrieval once per candidate and need.
//!
//! A ranking is a pure function of the view (its companies, the need, the
//! role's statistics) and of the engine's fixed configuration, so it can be
//! kept with the view and shared by every request that reads that view: a
//! view never changes, and the next commit starts an empty memo. What is
//! kept is the order and totals only — (slot, total), 8 bytes a candidate,
//! at most ~400 per need and role class, about 13 MB for 2,000 needs and
//! both classes — not the signal rows or explanations, which a caller
//! recomputes for the few needs it returns.
//!
//! Two requests that miss the same entry at once both compute it and store
//! equal values: no lock is held while ranking.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A need's candidates as (slot, total), best first.
pub(crate) type Ranking = Arc<[(u32, f32)]>;

/// Memoized rankings of a view's stored needs, by need slot and whether the
/// ranking is a portal's (public statistics and visibility) or staff's.
#[derive(Debug, Default)]
pub(crate) struct Rankings {
    map: Mutex<HashMap<(u32, bool), Ranking>>,
}

impl Rankings {
    /// The ranking of the need at `need_slot` for a portal (`public`) or
    /// staff, computed by `compute` on the first call.
    pub(crate) fn get_or_try<E>(
        &self,
        need_slot: u32,
        public: bool,
        compute: impl FnOnce() -> Result<Vec<(u32, f32)>, E>,
    ) -> Result<Ranking, E> {
        let key = (need_slot, public);
        if let Some(r) = self.lock().get(&key) {
            return Ok(r.clone());
        }
        let r: Ranking = compute()?.into();
        self.lock().insert(key, r.clone());
        Ok(r)
    }

    /// Entries held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(u32, bool), Ranking>> {
        // A panic while holding the lock cannot leave the map half-written
        // (an insert either happened or not): the data is still good.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_once_per_need_and_class() {
        let r = Rankings::default();
        let mut calls = 0;
        for _ in 0..3 {
            let got = r
                .get_or_try(7, true, || {
                    calls += 1;
                    Ok::<_, ()>(vec![(1, 0.9), (4, 0.5)])
                })
                .expect("ranking");
            assert_eq!(&got[..], &[(1, 0.9), (4, 0.5)]);
        }
        assert_eq!(calls, 1);
        // Staff's ranking of the same need is another entry.
        let staff = r.get_or_try(7, false, || Ok::<_, ()>(vec![(2, 1.0)]));
        assert_eq!(&staff.expect("staff")[..], &[(2, 1.0)]);
        assert_eq!(r.len(), 2);
        // A failed computation stores nothing.
        assert!(r.get_or_try(8, false, || Err::<Vec<_>, _>("no")).is_err());
        assert_eq!(r.len(), 2);
    }
}
