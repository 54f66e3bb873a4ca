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
//! segment ([`MatchIndex::build`] takes the previous view's). Deleted
//! documents stay in the arrays and never score: a document reaches the
//! accumulator through the view's `doc → slot` map, which maps them to no
//! slot. Memory is 6 bytes per posting plus the term tables, reported by
//! [`MatchIndex::heap_bytes`].

use std::sync::Arc;

use hashbrown::HashTable;
use rayon::prelude::*;
use tantivy::fieldnorm::FieldNormReader;
use tantivy::index::SegmentId;
use tantivy::query::Bm25Weight;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Searcher, SegmentReader, Term};

use super::schema::CompanyFields;
use super::search::Role;

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
#[derive(Debug, Clone, Copy)]
struct TermRun {
    start: u32,
    len: u32,
    restricted: u32,
}

/// One field of one segment: a term table over flat posting arrays.
#[derive(Debug, Default)]
struct FieldPostings {
    /// Index into `runs` (and `term_ends`), hashed by the term's bytes
    /// with `hasher` (seeded per table).
    table: HashTable<u32>,
    hasher: hashbrown::DefaultHashBuilder,
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
    fn hash(&self, bytes: &[u8]) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one(bytes)
    }

    fn term(&self, i: usize) -> &[u8] {
        let end = self.term_ends.get(i).copied().unwrap_or(0) as usize;
        let start = match i.checked_sub(1) {
            Some(p) => self.term_ends.get(p).copied().unwrap_or(0) as usize,
            None => 0,
        };
        self.term_bytes.get(start..end).unwrap_or(&[])
    }

    fn run(&self, bytes: &[u8]) -> Option<TermRun> {
        let i = self
            .table
            .find(self.hash(bytes), |&i| self.term(i as usize) == bytes)?;
        self.runs.get(*i as usize).copied()
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
        let mut table = HashTable::with_capacity(out.runs.len());
        for i in 0..out.runs.len() {
            table.insert_unique(out.hash(out.term(i)), i as u32, |&j| {
                out.hash(out.term(j as usize))
            });
        }
        out.table = table;
        while restricted.advance() {
            let df = restricted.value().doc_freq;
            let key = restricted.key();
            let h = out.hash(key);
            if let Some(&i) = out.table.find(h, |&i| out.term(i as usize) == key) {
                if let Some(run) = out.runs.get_mut(i as usize) {
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
        self.table.capacity() * (std::mem::size_of::<u32>() + 1)
            + self.term_bytes.capacity()
            + self.term_ends.capacity() * 4
            + self.runs.capacity() * std::mem::size_of::<TermRun>()
            + self.docs.capacity() * 4
            + self.freqs.capacity()
            + self.norms.capacity()
    }
}

/// The matching fields of one segment.
#[derive(Debug)]
pub(crate) struct SegmentPostings {
    id: SegmentId,
    /// Documents in the segment, deleted ones included.
    max_doc: u32,
    /// In the order of [`MatchFields`].
    fields: Vec<FieldPostings>,
}

impl SegmentPostings {
    fn build(seg: &SegmentReader, fields: &MatchFields) -> tantivy::Result<SegmentPostings> {
        let fields = fields
            .fields
            .iter()
            .map(|&(f, s)| FieldPostings::build(seg, f, s))
            .collect::<tantivy::Result<Vec<_>>>()?;
        Ok(SegmentPostings {
            id: seg.segment_id(),
            max_doc: seg.max_doc(),
            fields,
        })
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
        prev: Option<&MatchIndex>,
    ) -> tantivy::Result<MatchIndex> {
        let known = |id: SegmentId| {
            prev.and_then(|p| p.segments.iter().find(|s| s.id == id))
                .cloned()
        };
        let segments = searcher
            .segment_readers()
            .par_iter()
            .map(|seg| match known(seg.segment_id()) {
                Some(s) => Ok(s),
                None => SegmentPostings::build(seg, &fields).map(Arc::new),
            })
            .collect::<tantivy::Result<Vec<_>>>()?;
        let staff = RoleStats::over(&segments);
        Ok(MatchIndex {
            fields,
            segments,
            staff,
        })
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
            for ((&doc, &tf), &norm) in docs.iter().zip(freqs).zip(norms) {
                let slot = slots.get(doc as usize).copied().unwrap_or(u32::MAX);
                if let Some(a) = acc.get_mut(slot as usize) {
                    *a += weight.score(norm, u32::from(tf)) * boost;
                }
            }
        }
    }
    Ok(())
}
