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
//! This collector drives the query with [`Weight::for_each_pruning`], so a
//! disjunction of term queries runs block-max WAND: only documents whose
//! score can beat the current `limit`-th best are scored, and only those are
//! looked up and filtered. The result is the same set the
//! collect-everything-then-filter path keeps, up to ties at the cut.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

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

/// A min-heap of the best `limit` entries; `threshold` is the score to beat.
struct TopN {
    limit: usize,
    heap: BinaryHeap<Reverse<Entry>>,
}

impl TopN {
    fn new(limit: usize) -> Self {
        TopN {
            limit,
            heap: BinaryHeap::with_capacity(limit + 1),
        }
    }
    fn push(&mut self, e: Entry) {
        if self.heap.len() < self.limit {
            self.heap.push(Reverse(e));
        } else if let Some(mut min) = self.heap.peek_mut() {
            if e > min.0 {
                *min = Reverse(e);
            }
        }
    }
    /// Below this a document cannot enter (block-WAND skips it unscored).
    fn threshold(&self) -> Score {
        if self.heap.len() < self.limit {
            Score::MIN
        } else {
            self.heap.peek().map_or(Score::MIN, |m| m.0 .0)
        }
    }
    fn into_sorted(self) -> Vec<(u32, Score)> {
        let mut v: Vec<Entry> = self.heap.into_iter().map(|r| r.0).collect();
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
        let mut top = TopN::new(self.limit);
        if self.limit == 0 {
            return Ok(Vec::new());
        }
        let slots = reader.fast_fields().u64("slot")?;
        let alive = reader.alive_bitset();
        weight.for_each_pruning(Score::MIN, reader, &mut |doc: DocId, score| {
            let live = alive.is_none_or(|a| a.is_alive(doc));
            if live {
                if let Some(slot) = slots.first(doc) {
                    let slot = slot as u32;
                    if (self.keep)(slot) {
                        top.push(Entry(score, slot));
                    }
                }
            }
            top.threshold()
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
        assert_eq!(t.threshold(), 3.0);
        assert_eq!(t.into_sorted(), vec![(1, 5.0), (3, 4.0), (2, 3.0)]);
    }

    #[test]
    fn threshold_is_open_until_full() {
        let mut t = TopN::new(2);
        t.push(Entry(7.0, 1));
        assert_eq!(t.threshold(), Score::MIN);
        t.push(Entry(2.0, 2));
        assert_eq!(t.threshold(), 2.0);
    }
}
