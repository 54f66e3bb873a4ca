//! The best `limit` slots of a retrieval channel that pass a filter, as
//! (slot, score).
//!
//! Why a filter inside the selection rather than a post-filter: privacy and
//! a need's hard constraints (region, certifications) must be applied
//! *before* the cut, or a region-restricted need would keep only the few of
//! its top hits that lie in the region. The filter reads a packed
//! [`super::records::FilterKey`] and runs only for a slot whose score can
//! still enter the best `limit`.
//!
//! Not block-max WAND (`Weight::for_each_pruning`): a need is 20–40 terms
//! over four fields, and WAND re-sorts that many cursors at every pivot; on
//! 100k generated companies a batch of all needs took 2–3× longer with it
//! (`matcher batch`, same data, back to back). The scores come from
//! term-at-a-time accumulation (`taat.rs`).

use std::cmp::Ordering;

use tantivy::Score;

/// (score, slot) ordered by score, then the lower slot first.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Entry(Score, u32);

impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0
            .total_cmp(&other.0)
            .then_with(|| other.1.cmp(&self.1))
    }
}

/// The best `limit` entries, kept TopNComputer-style: a buffer of up to
/// `2 × limit` that is cut back to the best `limit` when full, which makes
/// a push O(1) amortized (a binary heap's sift was a tenth of a match).
/// `threshold` is the score to reach once a cut has happened.
struct TopN {
    limit: usize,
    buf: Vec<Entry>,
    threshold: Score,
}

impl TopN {
    fn new(limit: usize) -> Self {
        TopN {
            limit,
            buf: Vec::with_capacity(limit.saturating_mul(2)),
            threshold: Score::MIN,
        }
    }
    fn push(&mut self, e: Entry) {
        if self.limit == 0 || e.0 < self.threshold {
            return;
        }
        self.buf.push(e);
        if self.buf.len() >= self.limit.saturating_mul(2) {
            self.cut();
        }
    }
    /// Keep the best `limit`; the worst of them becomes the threshold.
    fn cut(&mut self) {
        if self.buf.len() > self.limit {
            self.buf
                .select_nth_unstable_by(self.limit - 1, |a, b| b.cmp(a));
            self.buf.truncate(self.limit);
            self.threshold = self.buf.iter().map(|e| e.0).fold(Score::MAX, f32::min);
        }
    }
    /// Below this a document cannot enter.
    fn threshold(&self) -> Score {
        self.threshold
    }
    fn into_sorted(mut self) -> Vec<(u32, Score)> {
        self.cut();
        let mut v = self.buf;
        v.sort_by(|a, b| b.cmp(a));
        v.into_iter().map(|Entry(s, slot)| (slot, s)).collect()
    }
}

/// The best `limit` (slot, score) pairs of a per-slot score array (see
/// `taat.rs`) among the slots with a positive score that pass `keep`,
/// best first, ties to the lower slot. `keep` runs only for a slot whose
/// score can still enter: after the first cut, most slots cost one
/// comparison.
pub(crate) fn best(scores: &[f32], limit: usize, keep: impl Fn(u32) -> bool) -> Vec<(u32, Score)> {
    let mut top = TopN::new(limit);
    if limit == 0 {
        return Vec::new();
    }
    for (slot, &score) in scores.iter().enumerate() {
        if score > 0.0 && score >= top.threshold() && keep(slot as u32) {
            top.push(Entry(score, slot as u32));
        }
    }
    top.into_sorted()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_best_and_breaks_ties_by_slot() {
        let mut t = TopN::new(3);
        for (s, slot) in [(1.0, 9), (5.0, 1), (3.0, 4), (3.0, 2), (0.5, 7), (4.0, 3)] {
            t.push(Entry(s, slot));
        }
        // six pushes fill the 2 × 3 buffer: cut to the best three
        assert_eq!(t.threshold(), 3.0);
        t.push(Entry(2.0, 8)); // below the threshold: ignored
        assert_eq!(t.into_sorted(), vec![(1, 5.0), (3, 4.0), (2, 3.0)]);
    }

    #[test]
    fn threshold_is_open_until_the_first_cut() {
        let mut t = TopN::new(2);
        t.push(Entry(7.0, 1));
        t.push(Entry(2.0, 2));
        t.push(Entry(1.0, 3));
        assert_eq!(t.threshold(), Score::MIN);
        t.push(Entry(9.0, 4));
        assert_eq!(t.threshold(), 7.0);
        assert_eq!(t.into_sorted(), vec![(4, 9.0), (1, 7.0)]);
    }

    #[test]
    fn best_filters_before_the_cut_and_skips_unscored_slots() {
        let scores = [0.0, 5.0, 3.0, 9.0, 4.0, 0.0, 8.0];
        // slot 3 is filtered out: the next best take its place
        assert_eq!(
            best(&scores, 3, |s| s != 3),
            vec![(6, 8.0), (1, 5.0), (4, 4.0)]
        );
        assert_eq!(
            best(&scores, 10, |_| true).len(),
            5,
            "zero scores never enter"
        );
        assert!(best(&scores, 0, |_| true).is_empty());
    }

    /// The selection equals a plain filtered scan and sort, for filters
    /// that pass most slots, few, or none.
    #[test]
    fn best_equals_a_filtered_scan() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let scores: Vec<f32> = (0..20_000)
            .map(|_| match next() % 4 {
                0 => 0.0,
                // many ties
                1 => (next() % 50) as f32,
                _ => (next() % 1_000_000) as f32 / 1000.0,
            })
            .collect();
        let plain = |limit: usize, keep: &dyn Fn(u32) -> bool| {
            let mut v: Vec<(u32, f32)> = scores
                .iter()
                .enumerate()
                .filter(|(s, &x)| x > 0.0 && keep(*s as u32))
                .map(|(s, &x)| (s as u32, x))
                .collect();
            v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            v.truncate(limit);
            v
        };
        let filters: [&dyn Fn(u32) -> bool; 4] =
            [&|_| true, &|s| s % 3 != 0, &|s| s % 97 == 0, &|_| false];
        for keep in filters {
            for limit in [1, 10, 800, 30_000] {
                assert_eq!(
                    best(&scores, limit, keep),
                    plain(limit, keep),
                    "limit {limit}"
                );
            }
        }
    }

    #[test]
    fn zero_limit_keeps_nothing() {
        let mut t = TopN::new(0);
        t.push(Entry(1.0, 1));
        assert!(t.into_sorted().is_empty());
    }
}
