//! The best `limit` documents of a query that pass a filter, as (slot, score).
//!
//! Why not `TopDocs` plus a post-filter: privacy and a need's hard
//! constraints (region, certifications) must be applied *before* the cut, or
//! a region-restricted need would keep only the few of its top hits that lie
//! in the region. Why not collect every hit and filter (what
//! [`super::search::SlotCollector`] does for search, which needs totals and
//! facets): a need of 30 terms matches most of a 100k corpus, and visiting
//! every hit was half of a match's time.
//!
//! This collector scores every hit (tantivy's buffered union, which is fast
//! at that) but looks a hit up and filters it only when its score can still
//! enter the best `limit`: after the first cut, most hits cost one
//! comparison. The result is the set the collect-everything-then-filter
//! path keeps, up to ties at the cut.
//!
//! Not block-max WAND (`Weight::for_each_pruning`): a need is 20–40 terms
//! over four fields, and WAND re-sorts that many cursors at every pivot; on
//! 100k generated companies a batch of all needs took 2–3× longer with it
//! (`matcher batch`, same data, back to back).

use std::cmp::Ordering;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::query::Weight;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

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

/// Best `limit` (slot, score) pairs among the documents whose slot passes `keep`.
pub(crate) struct TopSlots<F> {
    pub limit: usize,
    pub keep: F,
}

impl<F: Fn(u32) -> bool + Send + Sync> Collector for TopSlots<F> {
    type Fruit = Vec<(u32, Score)>;
    type Child = Unused;

    fn for_segment(&self, _: SegmentOrdinal, _: &SegmentReader) -> tantivy::Result<Unused> {
        Ok(Unused)
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<Vec<(u32, Score)>>) -> tantivy::Result<Self::Fruit> {
        let mut top = TopN::new(self.limit);
        for (slot, score) in fruits.into_iter().flatten() {
            top.push(Entry(score, slot));
        }
        Ok(top.into_sorted())
    }

    fn collect_segment(
        &self,
        weight: &dyn Weight,
        _: u32,
        reader: &SegmentReader,
    ) -> tantivy::Result<Vec<(u32, Score)>> {
        if self.limit == 0 {
            return Ok(Vec::new());
        }
        let mut top = TopN::new(self.limit);
        let slots = reader.fast_fields().u64("slot")?;
        let alive = reader.alive_bitset();
        weight.for_each(reader, &mut |doc: DocId, score| {
            if score < top.threshold() || alive.is_some_and(|a| !a.is_alive(doc)) {
                return;
            }
            if let Some(slot) = slots.first(doc) {
                let slot = slot as u32;
                if (self.keep)(slot) {
                    top.push(Entry(score, slot));
                }
            }
        })?;
        Ok(top.into_sorted())
    }
}

/// The per-segment collector is never used: [`TopSlots`] overrides
/// `collect_segment`.
pub(crate) struct Unused;

impl SegmentCollector for Unused {
    type Fruit = Vec<(u32, Score)>;
    fn collect(&mut self, _: DocId, _: Score) {}
    fn harvest(self) -> Vec<(u32, Score)> {
        Vec::new()
    }
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
    fn zero_limit_keeps_nothing() {
        let mut t = TopN::new(0);
        t.push(Entry(1.0, 1));
        assert!(t.into_sorted().is_empty());
    }
}
