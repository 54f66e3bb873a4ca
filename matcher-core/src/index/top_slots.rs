//! The best `limit` slots of a retrieval channel that pass a filter, as
//! (slot, score).
//!
//! Why a filter inside the selection rather than a post-filter: privacy and
//! a need's hard constraints (region, certifications) must be applied
//! *before* the cut, or a region-restricted need would keep only the few of
//! its top hits that lie in the region. What may enter is resolved once per
//! need ([`Admit`]: a short exclusion list, or the list of admitted slots),
//! so the selection itself is a scan of scores.
//!
//! Not block-max WAND (`Weight::for_each_pruning`): a need is 20–40 terms
//! over four fields, and WAND re-sorts that many cursors at every pivot; on
//! 100k generated companies a batch of all needs took 2–3× longer with it
//! (`matcher batch`, same data, back to back). The scores come from
//! term-at-a-time accumulation (`taat.rs`).

use std::borrow::Cow;
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

/// Which slots may enter a channel's selection: privacy and a need's hard
/// constraints, resolved once per need and shared by both channels.
///
/// Why two shapes: most needs constrain nothing but privacy, and what
/// privacy removes is a short list (restricted companies for a portal, the
/// need's own company), zeroed in the accumulator so the selection is a
/// plain scan. A need limited to a region or a certification admits a
/// minority of the slots: listing them once lets both channels read only
/// those, instead of running the filter on every slot twice (that filter
/// was a third of a match in `perf`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Admit<'a> {
    /// Every slot with a positive score except these (in any order).
    AllBut(&'a [u32], Option<u32>),
    /// Only these slots, ascending.
    Only(Cow<'a, [u32]>),
}

/// The best `limit` (slot, score) pairs of a per-slot score array (see
/// `taat.rs`) among the slots with a positive score that `admit` lets in,
/// best first, ties to the lower slot. `scores` is scratch: excluded slots
/// are zeroed in it.
pub(crate) fn select(scores: &mut [f32], limit: usize, admit: &Admit) -> Vec<(u32, Score)> {
    match admit {
        Admit::AllBut(hidden, also) => {
            for &s in hidden.iter().chain(also) {
                if let Some(x) = scores.get_mut(s as usize) {
                    *x = 0.0;
                }
            }
            let scores = &*scores;
            best_of(
                || scores.iter().enumerate().map(|(s, &x)| (s as u32, x)),
                |stride| scores.iter().step_by(stride).copied(),
                scores.len(),
                limit,
            )
        }
        Admit::Only(slots) => {
            let score = |s: u32| scores.get(s as usize).copied().unwrap_or(0.0);
            best_of(
                || slots.iter().map(|&s| (s, score(s))),
                |stride| slots.iter().step_by(stride).map(|&s| score(s)),
                slots.len(),
                limit,
            )
        }
    }
}

/// How many times the expected number of hits above a sampled threshold
/// exceeds `limit`: the margin that makes the fallback scan rare (about
/// three standard deviations of the sample's count at 100k slots).
const SAMPLE_MARGIN: f32 = 1.5;

/// The best `limit` of `items()` (an iterator over `n` (slot, score)
/// pairs, slots ascending, that can be walked more than once) with a
/// positive score, best first.
///
/// Two passes instead of one bounded heap: a strided sample of the scores
/// gives a threshold that about `SAMPLE_MARGIN × limit` of them reach,
/// then one comparison per slot collects exactly those (a branch that is
/// almost never taken), and only they are selected and sorted. If fewer
/// than `limit` reach it (an unlucky sample, or few positive scores), a
/// bounded scan does the work. Either way the result is the exact top
/// `limit` — `best_equals_a_filtered_scan` checks it against a sort.
///
/// `sample(stride)` yields every `stride`-th score of `items()`, from the
/// first: given separately so that striding skips the items instead of
/// walking them (a `step_by` over a mapped iterator calls the map for
/// every item it skips).
fn best_of<I, S>(
    items: impl Fn() -> I,
    sample: impl FnOnce(usize) -> S,
    n: usize,
    limit: usize,
) -> Vec<(u32, Score)>
where
    I: Iterator<Item = (u32, Score)>,
    S: Iterator<Item = Score>,
{
    if limit == 0 {
        return Vec::new();
    }
    if let Some(t) = sampled_threshold(sample, n, limit) {
        let mut hits: Vec<Entry> = Vec::with_capacity(limit.saturating_mul(2));
        for (slot, s) in items() {
            if s >= t {
                hits.push(Entry(s, slot));
            }
        }
        if hits.len() >= limit {
            hits.select_nth_unstable_by(limit - 1, |a, b| b.cmp(a));
            hits.truncate(limit);
            hits.sort_unstable_by(|a, b| b.cmp(a));
            return hits.into_iter().map(|Entry(s, slot)| (slot, s)).collect();
        }
    }
    let mut top = TopN::new(limit);
    for (slot, s) in items() {
        if s > 0.0 && s >= top.threshold() {
            top.push(Entry(s, slot));
        }
    }
    top.into_sorted()
}

/// A positive score that about `SAMPLE_MARGIN × limit` of the `n` items
/// reach, estimated from every `stride`-th item; `None` when the sample is
/// too small to say (small arrays, or few positive scores).
fn sampled_threshold<S: Iterator<Item = Score>>(
    sample: impl FnOnce(usize) -> S,
    n: usize,
    limit: usize,
) -> Option<Score> {
    // A sample of about 8 × limit items: its selection costs a few
    // percent of the scan.
    let stride = n / limit.saturating_mul(8).max(1);
    if stride < 4 {
        return None;
    }
    let mut sample: Vec<Score> = sample(stride).filter(|&s| s > 0.0).collect();
    let rank = ((limit as f32 * SAMPLE_MARGIN) / stride as f32).ceil() as usize;
    if rank == 0 || sample.len() <= rank {
        return None;
    }
    let (_, t, _) = sample.select_nth_unstable_by(rank - 1, |a, b| b.total_cmp(a));
    Some(*t)
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

    /// The admitted slots of `keep` over `n` slots, as a match lists them.
    fn only(n: usize, keep: &dyn Fn(u32) -> bool) -> Admit<'static> {
        Admit::Only(
            (0..n as u32)
                .filter(|&s| keep(s))
                .collect::<Vec<_>>()
                .into(),
        )
    }

    #[test]
    fn select_filters_before_the_cut_and_skips_unscored_slots() {
        let scores = [0.0, 5.0, 3.0, 9.0, 4.0, 0.0, 8.0];
        // slot 3 is excluded: the next best take its place, both ways
        let want = vec![(6, 8.0), (1, 5.0), (4, 4.0)];
        assert_eq!(select(&mut scores.clone(), 3, &only(7, &|s| s != 3)), want);
        assert_eq!(
            select(&mut scores.clone(), 3, &Admit::AllBut(&[3], None)),
            want
        );
        assert_eq!(
            select(&mut scores.clone(), 3, &Admit::AllBut(&[], Some(3))),
            want
        );
        assert_eq!(
            select(&mut scores.clone(), 10, &Admit::AllBut(&[], None)).len(),
            5,
            "zero scores never enter"
        );
        assert!(select(&mut scores.clone(), 0, &Admit::AllBut(&[], None)).is_empty());
    }

    /// The selection equals a plain filtered scan and sort, for filters
    /// that pass most slots, few, or none, on arrays large enough for the
    /// sampled threshold and small enough for the bounded scan.
    #[test]
    fn best_equals_a_filtered_scan() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let scores: Vec<f32> = (0..120_000)
            .map(|_| match next() % 4 {
                0 => 0.0,
                // many ties
                1 => (next() % 50) as f32,
                _ => (next() % 1_000_000) as f32 / 1000.0,
            })
            .collect();
        let plain = |n: usize, limit: usize, keep: &dyn Fn(u32) -> bool| {
            let mut v: Vec<(u32, f32)> = scores[..n]
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
        for n in [20_000, 120_000] {
            for keep in filters {
                for limit in [1, 10, 800, 30_000] {
                    let want = plain(n, limit, keep);
                    let mut a = scores[..n].to_vec();
                    assert_eq!(
                        select(&mut a, limit, &only(n, keep)),
                        want,
                        "n {n} limit {limit}"
                    );
                    let hidden: Vec<u32> = (0..n as u32).filter(|&s| !keep(s)).collect();
                    let mut a = scores[..n].to_vec();
                    assert_eq!(
                        select(&mut a, limit, &Admit::AllBut(&hidden, None)),
                        want,
                        "n {n} limit {limit}"
                    );
                }
            }
        }
    }

    /// A sample that overestimates the threshold (few hits above it) falls
    /// back to the bounded scan and still gives the exact top.
    #[test]
    fn a_misleading_sample_falls_back_to_the_scan() {
        // the first three sampled positions hold the only high scores: the
        // sample's threshold is one that three slots reach, not `limit`
        let n = 100_000;
        let limit = 100;
        let stride = n / (limit * 8);
        let scores: Vec<f32> = (0..n)
            .map(|i| {
                if i % stride == 0 && i < 3 * stride {
                    1000.0
                } else {
                    1.0 + (i % 13) as f32
                }
            })
            .collect();
        assert!(
            sampled_threshold(|k| scores.iter().step_by(k).copied(), n, limit)
                .is_some_and(|t| t == 1000.0)
        );
        let got = select(&mut scores.clone(), limit, &Admit::AllBut(&[], None));
        let mut want: Vec<(u32, f32)> = scores
            .iter()
            .enumerate()
            .map(|(s, &x)| (s as u32, x))
            .collect();
        want.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        want.truncate(limit);
        assert_eq!(got, want);
    }

    #[test]
    fn zero_limit_keeps_nothing() {
        let mut t = TopN::new(0);
        t.push(Entry(1.0, 1));
        assert!(t.into_sorted().is_empty());
    }
}
