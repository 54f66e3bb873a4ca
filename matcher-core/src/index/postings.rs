//! The matching index: the postings of the fields a need is matched on,
//! decoded once into flat arrays beside tantivy.
//!
//! Why beside tantivy and not through it: a need is 20–40 terms over four
//! seed fields plus its concept ids, so a match reads ~150 posting lists.
//! Through tantivy each list costs a term-dictionary (FST) lookup per
//! segment, block decoding, and a field-norm read per document; those were
//! a third of a match (`benches/REPORT.md`, profile of `matcher batch`).
//! Here each (segment, field, term) is a contiguous run of
//! (document, term frequency, field-norm id) in three arrays, found by one
//! hash lookup, and scoring a list is one sequential pass.
//!
//! What is kept is the *raw* evidence, not precomputed impacts: BM25
//! depends on the statistics of the role that asks (a portal is scored with
//! public documents only, see `view::PublicStats`), so the weight of a term
//! is computed per request from the counts kept here — the document
//! frequency over all documents and over restricted ones (the shadow
//! field's) — and the scores are bit-for-bit tantivy's ([`Bm25Weight`]):
//! a test compares them with a term-at-a-time pass over tantivy's own
//! postings. Term frequencies saturate at 255 (BM25 has long saturated by
//! then; a seed text repeats a word a handful of times).
//!
//! Segments are immutable, so a segment's postings are built once, when a
//! view first sees it, and shared by every later view that still holds the
//! segment ([`MatchIndex::build`] takes the previous view's, or those
//! saved beside the features snapshot, `persist::save_matching`: a cold
//! open then decodes no postings). Deleted
//! documents stay in the arrays and never score: a document reaches the
//! accumulator through the view's `doc → slot` map, which maps them to no
//! slot. Memory is 6 bytes per posting plus the term tables, reported by
//! [`MatchIndex::heap_bytes`].

use std::sync::Arc;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use tantivy::fieldnorm::FieldNormReader;
use tantivy::index::SegmentId;
use tantivy::query::Bm25Weight;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Searcher, SegmentReader, Term};

use super::schema::CompanyFields;
use crate::access::Role;

/// The company fields a need is matched on, and their restricted shadows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MatchFields {
    fields: [(Field, Field); 5],
}

impl MatchFields {
    pub(crate) fn of(f: &CompanyFields) -> MatchFields {
        let s = &f.shadow;
        MatchFields {
            fields: [
                (f.capabilities, s.capabilities),
                (f.products, s.products),
                (f.equipment, s.equipment),
                (f.name, s.name),
                (f.concepts, s.concepts),
            ],
        }
    }

    /// The scored fields, in order.
    pub(crate) fn scored(&self) -> [Field; 5] {
        self.fields.map(|(f, _)| f)
    }

    fn position(&self, field: Field) -> Option<usize> {
        self.fields.iter().position(|&(f, _)| f == field)
    }
}

/// Where one term's postings are in its field's arrays, and how many of
/// them are restricted documents.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct TermRun {
    start: u32,
    len: u32,
    restricted: u32,
}

/// An open-addressing hash table of term numbers (linear probing, at most
/// half full), hashed by the term's bytes with FNV-1a: a flat `Vec<u32>`
/// that is saved and loaded as it is (`persist::save_matching`), which a
/// table with a per-process random seed could not be.
#[derive(Debug, Default, Serialize, Deserialize)]
struct TermTable {
    /// `EMPTY` or a term number; the length is a power of two (or 0).
    slots: Vec<u32>,
}

const EMPTY: u32 = u32::MAX;

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl TermTable {
    /// A table of `n` terms, term `i`'s bytes being `term(i)`.
    fn build<'a>(n: usize, term: impl Fn(usize) -> &'a [u8]) -> TermTable {
        let size = (n * 2).next_power_of_two().max(2);
        let mut slots = vec![EMPTY; size];
        let mask = size - 1;
        for i in 0..n {
            let mut at = fnv1a(term(i)) as usize & mask;
            while slots.get(at).is_some_and(|&x| x != EMPTY) {
                at = (at + 1) & mask;
            }
            if let Some(x) = slots.get_mut(at) {
                *x = i as u32;
            }
        }
        TermTable { slots }
    }

    /// The number of the term whose bytes are `bytes`.
    fn find<'a>(&self, bytes: &[u8], term: impl Fn(usize) -> &'a [u8]) -> Option<usize> {
        let mask = self.slots.len().checked_sub(1)?;
        let mut at = fnv1a(bytes) as usize & mask;
        // At most half full: an empty slot ends every probe.
        loop {
            let i = *self.slots.get(at)?;
            if i == EMPTY {
                return None;
            }
            if term(i as usize) == bytes {
                return Some(i as usize);
            }
            at = (at + 1) & mask;
        }
    }
}

/// One field of one segment: a term table over flat posting arrays.
#[derive(Debug, Default, Serialize, Deserialize)]
struct FieldPostings {
    /// Term numbers (indexes into `runs` and `term_ends`) by term bytes.
    table: TermTable,
    /// Every term's bytes, concatenated in term order.
    term_bytes: Vec<u8>,
    /// Where each term's bytes end in `term_bytes`.
    term_ends: Vec<u32>,
    runs: Vec<TermRun>,
    docs: Vec<u32>,
    freqs: Vec<u8>,
    norms: Vec<u8>,
    /// Tokens in the field over the segment's documents (deleted included,
    /// as tantivy counts them).
    tokens: u64,
}

impl FieldPostings {
    fn term(&self, i: usize) -> &[u8] {
        let end = self.term_ends.get(i).copied().unwrap_or(0) as usize;
        let start = match i.checked_sub(1) {
            Some(p) => self.term_ends.get(p).copied().unwrap_or(0) as usize,
            None => 0,
        };
        self.term_bytes.get(start..end).unwrap_or(&[])
    }

    fn run(&self, bytes: &[u8]) -> Option<TermRun> {
        let i = self.table.find(bytes, |i| self.term(i))?;
        self.runs.get(i).copied()
    }

    fn build(seg: &SegmentReader, field: Field, shadow: Field) -> tantivy::Result<FieldPostings> {
        let inverted = seg.inverted_index(field)?;
        let norms = match seg.fieldnorms_readers().get_field(field)? {
            Some(r) => r,
            None => FieldNormReader::constant(seg.max_doc(), 1),
        };
        let mut out = FieldPostings {
            tokens: inverted.total_num_tokens(),
            ..FieldPostings::default()
        };
        let mut stream = inverted.terms().stream()?;
        while stream.advance() {
            let info = stream.value();
            let start = out.docs.len() as u32;
            let mut block =
                inverted.read_block_postings_from_terminfo(info, IndexRecordOption::WithFreqs)?;
            loop {
                let docs = block.docs();
                if docs.is_empty() {
                    break;
                }
                // A field indexed without frequencies (the concept ids)
                // has none to decode: each counts once, as tantivy scores it.
                let freqs = block.freqs();
                for (i, &doc) in docs.iter().enumerate() {
                    let tf = freqs.get(i).copied().unwrap_or(1);
                    out.docs.push(doc);
                    out.freqs.push(tf.min(255) as u8);
                    out.norms.push(norms.fieldnorm_id(doc));
                }
                block.advance();
            }
            out.term_bytes.extend_from_slice(stream.key());
            out.term_ends.push(out.term_bytes.len() as u32);
            out.runs.push(TermRun {
                start,
                len: out.docs.len() as u32 - start,
                restricted: 0,
            });
        }
        // The restricted share of each term: its document frequency in the
        // shadow field, which holds the same tokens for restricted documents.
        let shadow = seg.inverted_index(shadow)?;
        let mut restricted = shadow.terms().stream()?;
        out.table = TermTable::build(out.runs.len(), |i| out.term(i));
        while restricted.advance() {
            let df = restricted.value().doc_freq;
            let key = restricted.key();
            if let Some(i) = out.table.find(key, |i| out.term(i)) {
                if let Some(run) = out.runs.get_mut(i) {
                    run.restricted = df;
                }
            }
        }
        out.docs.shrink_to_fit();
        out.freqs.shrink_to_fit();
        out.norms.shrink_to_fit();
        Ok(out)
    }

    fn heap_bytes(&self) -> usize {
        self.table.slots.capacity() * 4
            + self.term_bytes.capacity()
            + self.term_ends.capacity() * 4
            + self.runs.capacity() * std::mem::size_of::<TermRun>()
            + self.docs.capacity() * 4
            + self.freqs.capacity()
            + self.norms.capacity()
    }
}

/// The matching fields of one segment.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SegmentPostings {
    /// The segment's id (tantivy's uuid string): segments never change, so
    /// postings saved under an id serve any later open that finds it.
    #[serde(with = "segment_id")]
    id: SegmentId,
    /// Loaded from the saved file rather than decoded from tantivy.
    #[serde(skip)]
    pub(crate) from_file: bool,
    /// Documents in the segment, deleted ones included.
    max_doc: u32,
    /// In the order of [`MatchFields`].
    fields: Vec<FieldPostings>,
}

impl SegmentPostings {
    /// Whether these are the postings of `seg` (its id and size).
    pub(crate) fn describes(&self, seg: &SegmentReader) -> bool {
        self.id == seg.segment_id() && self.max_doc == seg.max_doc()
    }

    fn build(seg: &SegmentReader, fields: &MatchFields) -> tantivy::Result<SegmentPostings> {
        let fields = fields
            .fields
            .iter()
            .map(|&(f, s)| FieldPostings::build(seg, f, s))
            .collect::<tantivy::Result<Vec<_>>>()?;
        Ok(SegmentPostings {
            id: seg.segment_id(),
            from_file: false,
            max_doc: seg.max_doc(),
            fields,
        })
    }
}

/// Decoded postings a view may reuse when it builds its matching index.
#[derive(Debug, Clone, Default)]
pub(crate) struct Lend {
    /// Segments decoded (or loaded) by earlier views.
    pub segments: Vec<Arc<SegmentPostings>>,
    /// A file saved with the snapshot (`persist::save_matching`), not read
    /// yet: it is read at the first build, so opening a data folder reads
    /// nothing that no match may need.
    pub file: Option<Arc<std::path::Path>>,
}

impl Lend {
    /// What is lent, the file read (a damaged one is logged and skipped:
    /// its segments are decoded from the index instead).
    fn resolve(&self) -> Vec<Arc<SegmentPostings>> {
        let mut out = self.segments.clone();
        if let Some(path) = &self.file {
            match crate::index::persist::load_matching(path) {
                Ok(saved) => out.extend(saved),
                Err(crate::index::persist::SnapshotError::Missing) => {}
                Err(e) => tracing::warn!("{}: {e}; decoding the postings again", path.display()),
            }
        }
        out
    }
}

/// A [`SegmentId`] as its uuid string.
mod segment_id {
    use serde::{Deserialize, Deserializer, Serializer};
    use tantivy::index::SegmentId;

    pub fn serialize<S: Serializer>(id: &SegmentId, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&id.uuid_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SegmentId, D::Error> {
        let s = String::deserialize(d)?;
        SegmentId::from_uuid_string(&s).map_err(serde::de::Error::custom)
    }
}

/// The matching index of one view: a [`SegmentPostings`] per company
/// segment, in the searcher's segment order (so segment `ord` pairs with
/// the view's `doc_slots(ord)`).
#[derive(Debug)]
pub(crate) struct MatchIndex {
    fields: MatchFields,
    segments: Vec<Arc<SegmentPostings>>,
    /// Statistics over every document (deleted ones included, as tantivy
    /// counts them): what staff are scored with.
    staff: RoleStats,
}

impl MatchIndex {
    /// The matching index of `searcher`'s segments, reusing `prev`'s
    /// postings for every segment it already has (segments are immutable);
    /// new segments are built in parallel.
    pub(crate) fn build(
        searcher: &Searcher,
        fields: MatchFields,
        lend: &Lend,
    ) -> tantivy::Result<MatchIndex> {
        let prev = lend.resolve();
        let known = |seg: &SegmentReader| prev.iter().find(|s| s.describes(seg)).cloned();
        let segments = searcher
            .segment_readers()
            .par_iter()
            .map(|seg| match known(seg) {
                Some(s) => Ok((s, false)),
                None => SegmentPostings::build(seg, &fields).map(|s| (Arc::new(s), true)),
            })
            .collect::<tantivy::Result<Vec<_>>>()?;
        let decoded = segments.iter().filter(|(_, d)| *d).count();
        let segments: Vec<_> = segments.into_iter().map(|(s, _)| s).collect();
        if decoded > 0 {
            tracing::debug!(
                decoded,
                segments = segments.len(),
                "matching postings decoded"
            );
        }
        let staff = RoleStats::over(&segments);
        Ok(MatchIndex {
            fields,
            segments,
            staff,
        })
    }

    /// The postings of each segment, to save (`persist::save_matching`) or
    /// to lend to the next view's [`MatchIndex::build`].
    pub(crate) fn segments(&self) -> &[Arc<SegmentPostings>] {
        &self.segments
    }

    /// Segments whose postings came from the saved file (`persist::load_matching`).
    #[cfg(test)]
    pub(crate) fn from_file(&self) -> usize {
        self.segments.iter().filter(|s| s.from_file).count()
    }

    /// The statistics staff are scored with.
    pub(crate) fn staff_stats(&self) -> RoleStats {
        self.staff
    }

    /// Heap memory held by the postings and term tables.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.segments
            .iter()
            .flat_map(|s| &s.fields)
            .map(FieldPostings::heap_bytes)
            .sum()
    }

    /// Postings over all segments (deleted documents included).
    pub(crate) fn num_postings(&self) -> usize {
        self.segments
            .iter()
            .flat_map(|s| &s.fields)
            .map(|f| f.docs.len())
            .sum()
    }
}

/// The statistics a role is scored with, for the matching fields: what
/// [`Bm25Weight`] needs besides a term's document frequency.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RoleStats {
    pub docs: u64,
    /// Tokens per matching field, in the order of [`MatchFields`].
    pub tokens: [u64; 5],
}

impl RoleStats {
    /// Every document of `segments`, as tantivy counts them.
    fn over(segments: &[Arc<SegmentPostings>]) -> RoleStats {
        let mut tokens = [0u64; 5];
        for s in segments {
            for (t, f) in tokens.iter_mut().zip(&s.fields) {
                *t += f.tokens;
            }
        }
        RoleStats {
            docs: segments.iter().map(|s| u64::from(s.max_doc)).sum(),
            tokens,
        }
    }
}

/// `Σ boost × BM25(term)` over `clauses`, per company slot, in `acc`
/// (added to, not cleared), scored with `stats` (the role's). `doc_slots(ord)`
/// maps segment `ord`'s documents to slots (`u32::MAX` for none). Every
/// clause's field must be a matching field.
pub(crate) fn accumulate<'s>(
    ix: &MatchIndex,
    doc_slots: impl Fn(usize) -> &'s [u32],
    stats: RoleStats,
    role: Role,
    clauses: &[(Term, f32)],
    acc: &mut [f32],
) -> tantivy::Result<()> {
    let mut runs: Vec<(usize, TermRun)> = Vec::with_capacity(ix.segments.len());
    for (term, boost) in clauses {
        let Some(k) = ix.fields.position(term.field()) else {
            return Err(tantivy::TantivyError::SchemaError(format!(
                "field {:?} is not a matching field",
                term.field()
            )));
        };
        let bytes = term.serialized_value_bytes();
        runs.clear();
        let (mut all, mut restricted) = (0u64, 0u64);
        for (ord, seg) in ix.segments.iter().enumerate() {
            if let Some(run) = seg.fields.get(k).and_then(|f| f.run(bytes)) {
                all += u64::from(run.len);
                restricted += u64::from(run.restricted);
                runs.push((ord, run));
            }
        }
        if runs.is_empty() {
            continue;
        }
        let doc_freq = match role {
            Role::Coordinator | Role::Admin => all,
            Role::Public => all.saturating_sub(restricted).min(stats.docs),
        };
        let tokens = stats.tokens.get(k).copied().unwrap_or(0);
        let weight = Bm25Weight::for_one_term_without_explain(
            doc_freq,
            stats.docs,
            tokens as f32 / stats.docs as f32,
        );
        for &(ord, run) in &runs {
            let (Some(seg), slots) = (ix.segments.get(ord), doc_slots(ord)) else {
                continue;
            };
            let Some(f) = seg.fields.get(k) else { continue };
            let range = run.start as usize..(run.start + run.len) as usize;
            let (Some(docs), Some(freqs), Some(norms)) = (
                f.docs.get(range.clone()),
                f.freqs.get(range.clone()),
                f.norms.get(range),
            ) else {
                continue;
            };
            add_run(docs, freqs, norms, slots, &weight, *boost, acc);
        }
    }
    Ok(())
}

/// The inner loop of [`accumulate`]: one posting list of one segment.
/// A function of its own, over slices and values only, so that the loop
/// keeps everything in registers (inlined into `accumulate`, it reloaded
/// the accumulator's bounds and the boost from the stack per posting).
#[inline(never)]
fn add_run(
    docs: &[u32],
    freqs: &[u8],
    norms: &[u8],
    slots: &[u32],
    weight: &Bm25Weight,
    boost: f32,
    acc: &mut [f32],
) {
    for ((&doc, &tf), &norm) in docs.iter().zip(freqs).zip(norms) {
        let slot = slots.get(doc as usize).copied().unwrap_or(u32::MAX);
        if let Some(a) = acc.get_mut(slot as usize) {
            *a += weight.score(norm, u32::from(tf)) * boost;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::matching::MatchOptions;
    use crate::{fixtures, Context, Engine, Role};

    fn matches(e: &Engine) -> Vec<(String, u32)> {
        let m = e.matcher();
        let v = m.view();
        let mut out = Vec::new();
        for (_, n) in v.records.needs.iter().take(25) {
            for role in [Role::Coordinator, Role::Public] {
                let opts = MatchOptions {
                    explain: false,
                    ..MatchOptions::default()
                };
                let r = m.match_need(&n.need, role, &opts).expect("match");
                out.extend(
                    r.matches
                        .into_iter()
                        .map(|m| (m.company_id, m.score.to_bits())),
                );
            }
        }
        out
    }

    /// A reopen takes the postings saved with the snapshot instead of
    /// decoding them, and answers the same; a damaged file is refused and
    /// the postings decoded again, with the same answers.
    #[test]
    fn saved_postings_serve_a_reopen_and_damage_is_survived() {
        let fx = fixtures::fixtures_dir();
        let ctx = Arc::new(Context::load(&fx).expect("ctx"));
        let dir = tempfile::tempdir().expect("tmp");
        let before = {
            let e = Engine::open(dir.path(), ctx.clone()).expect("open");
            fixtures::load_into(&e, &fx).expect("load");
            e.save_snapshot().expect("save");
            matches(&e)
        };
        assert!(before.len() > 200, "{}", before.len());
        let saved =
            crate::index::persist::load_matching(&dir.path().join("matching.bin")).expect("saved");
        let e = Engine::open(dir.path(), ctx.clone()).expect("reopen");
        let v = e.view();
        let segments = v.postings().expect("postings").segments();
        // Segments a background merge made after the save are decoded; every
        // segment the file has is taken from it.
        let unsaved = segments
            .iter()
            .filter(|s| !saved.iter().any(|x| x.id == s.id))
            .count();
        assert!(unsaved < segments.len(), "the file covers no segment");
        assert_eq!(
            v.postings().expect("postings").from_file(),
            segments.len() - unsaved
        );
        assert_eq!(matches(&e), before);
        drop((v, e));

        let path = dir.path().join("matching.bin");
        let mut bytes = std::fs::read(&path).expect("read");
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x55;
        std::fs::write(&path, &bytes).expect("damage");
        assert!(crate::index::persist::load_matching(&path).is_err());
        let e = Engine::open(dir.path(), ctx).expect("reopen damaged");
        let v = e.view();
        assert_eq!(v.postings().expect("postings").from_file(), 0);
        assert_eq!(matches(&e), before);
    }
}
