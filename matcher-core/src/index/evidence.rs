//! Evidence stored at index time: what an explanation cites of a company.
//!
//! An explanation shows which need terms a company's texts contain (with
//! offsets) and which phrase or machine gave it each matched concept.
//! Finding them means analyzing the company's texts, the most expensive
//! step of an explanation; indexing analyzes them anyway, so it keeps what
//! an explanation needs in a stored bytes field of the company's document
//! ([`StoredEvidence`]), and an explanation decodes it instead of analyzing.
//!
//! Disk matters, so only what cannot be read off the stored record of the
//! same document is kept. Per field (capabilities, products, equipment) the
//! distinct offered terms at their first occurrence — any of them can be a
//! need's term or synonym — as offsets into the record's text, plus the
//! term itself only where it is not that text (base forms, long vowels; an
//! ASCII lower-casing is a flag). Per concept only its strongest mention,
//! the one an explanation cites: a span of a text or a machine's position.
//! Both live in the same document, written together, so the offsets always
//! point into the record they were computed from; should they not fit it
//! (or come from another ontology), the evidence is computed again.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};

use crate::concepts::{ConceptId, MentionSource};
use crate::index::schema::CompanyAnalysis;
use crate::model::Company;

/// The company fields term evidence comes from, in the order of
/// [`Cited::terms`] (and of an explanation's terms).
pub const FIELDS: [&str; 3] = ["capabilities", "products", "equipment"];

/// How a stored term derives from the text at its span (the low two bits
/// of [`FieldTerms::spans`]' second value).
const SAME: u64 = 0;
const ASCII_LOWER: u64 = 1;
const OWN: u64 = 2;

/// The distinct terms of one field.
#[derive(Debug, Clone, PartialEq, Default, bincode::Encode, bincode::Decode)]
struct FieldTerms {
    /// Per term, in order of first occurrence: its start minus the previous
    /// term's (signed: a compound starts before its last part; small, so
    /// one byte), and its length × 4 + how the term derives from its text.
    spans: Vec<(i64, u64)>,
    /// The terms of the `OWN` spans, in order.
    own: Vec<String>,
}

/// Where the evidence of a concept is.
#[derive(Debug, Clone, PartialEq, bincode::Encode, bincode::Decode)]
enum Source {
    /// Byte span of the capabilities text.
    Capabilities { start: u64, len: u64 },
    /// Byte span of the products text.
    Products { start: u64, len: u64 },
    /// The company's equipment, by position.
    Equipment(u64),
}

/// The encoded evidence of one company (the `evidence` field).
#[derive(Debug, Clone, PartialEq, bincode::Encode, bincode::Decode)]
pub struct StoredEvidence {
    /// [`crate::concepts::Ontology::fingerprint`] of the ontology the
    /// concepts were extracted with: concept ids are positions in the
    /// concepts file, so evidence from another file is not used.
    pub ontology: u32,
    /// Per field of [`FIELDS`], its distinct scoped terms (those the field
    /// indexes: offers, not refused work).
    fields: [FieldTerms; 3],
    /// (concept, its strongest mention), sorted by concept: every concept
    /// of the company's features has one.
    concepts: Vec<(ConceptId, Source)>,
}

/// A term of a company field at its first occurrence.
#[derive(Debug, Clone, PartialEq)]
pub struct CitedTerm<'a> {
    pub term: Cow<'a, str>,
    /// The field's text at `start..end`, as written.
    pub text: &'a str,
    pub start: usize,
    pub end: usize,
}

/// What explanations cite of one company, read against its record.
#[derive(Debug, Clone, PartialEq)]
pub struct Cited<'a> {
    /// Per field of [`FIELDS`], its distinct scoped terms in order of first occurrence.
    pub terms: [Vec<CitedTerm<'a>>; 3],
    /// (concept, evidence of its strongest mention: the phrase as written,
    /// or `equipment: {name} ×{count}`), sorted by concept.
    pub concepts: Vec<(ConceptId, Cow<'a, str>)>,
}

impl Cited<'_> {
    /// The evidence an explanation cites for company concept `c`, if any.
    pub fn concept_source(&self, c: ConceptId) -> Option<&str> {
        self.concepts
            .binary_search_by_key(&c, |(id, _)| *id)
            .ok()
            .map(|i| self.concepts[i].1.as_ref())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("company evidence: {0}")]
pub struct EvidenceError(String);

fn bad(what: &str) -> EvidenceError {
    EvidenceError(format!("{what} does not fit the stored record"))
}

fn config() -> impl bincode::config::Config {
    bincode::config::standard()
}

/// The text at `start..end`, if that is a span of it.
fn span(text: &str, start: u64, len: u64) -> Option<&str> {
    let start = usize::try_from(start).ok()?;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    text.get(start..end)
}

impl StoredEvidence {
    /// The evidence of company `c` from its analysis at indexing, with the
    /// fingerprint of the ontology that extracted its mentions.
    pub fn new(c: &Company, a: &CompanyAnalysis, ontology: u32) -> StoredEvidence {
        let texts = [
            Some((c.capabilities.as_str(), &a.capabilities)),
            c.products.as_deref().zip(a.products.as_ref()),
            Some((a.equipment_text.as_str(), &a.equipment)),
        ];
        let fields = texts.map(|t| {
            let mut out = FieldTerms::default();
            let Some((text, analyzed)) = t else {
                return out;
            };
            let mut seen = HashSet::new();
            let mut prev = 0i64;
            for t in analyzed.scoped().filter(|t| seen.insert(t.term.as_str())) {
                let written = text.get(t.start..t.end).unwrap_or_default();
                let kind = if written == t.term {
                    SAME
                } else if written.to_ascii_lowercase() == t.term {
                    ASCII_LOWER
                } else {
                    out.own.push(t.term.clone());
                    OWN
                };
                let start = t.start as i64;
                let len = t.end.saturating_sub(t.start) as u64;
                out.spans.push((start - prev, (len << 2) | kind));
                prev = start;
            }
            out
        });
        // The strongest positive mention of each concept; among equals the
        // last, as `Iterator::max_by` picks (what explanations always cited).
        let mut best: BTreeMap<ConceptId, (f32, Source)> = BTreeMap::new();
        for (from, m) in a.mentions.iter().filter(|(_, m)| m.weight > 0.0) {
            let (start, len) = (m.start as u64, m.end.saturating_sub(m.start) as u64);
            let source = match *from {
                MentionSource::Capabilities => Source::Capabilities { start, len },
                MentionSource::Products => Source::Products { start, len },
                MentionSource::Equipment(i) => Source::Equipment(i as u64),
            };
            match best.get(&m.concept) {
                Some((w, _)) if m.weight.total_cmp(w).is_lt() => {}
                _ => {
                    best.insert(m.concept, (m.weight, source));
                }
            }
        }
        StoredEvidence {
            ontology,
            fields,
            concepts: best.into_iter().map(|(c, (_, s))| (c, s)).collect(),
        }
    }

    pub fn encode(&self) -> Result<Vec<u8>, EvidenceError> {
        bincode::encode_to_vec(self, config()).map_err(|e| EvidenceError(e.to_string()))
    }

    pub fn decode(bytes: &[u8]) -> Result<StoredEvidence, EvidenceError> {
        let (e, read) = bincode::decode_from_slice(bytes, config())
            .map_err(|e: bincode::error::DecodeError| EvidenceError(e.to_string()))?;
        if read != bytes.len() {
            return Err(EvidenceError(format!(
                "{} trailing bytes",
                bytes.len() - read
            )));
        }
        Ok(e)
    }

    /// The evidence read against the record `c` it was computed from and
    /// that record's [`equipment_text`](super::schema::equipment_text); an error if it does not fit them.
    pub fn resolve<'a>(
        &'a self,
        c: &'a Company,
        equipment: &'a str,
    ) -> Result<Cited<'a>, EvidenceError> {
        let texts = [
            c.capabilities.as_str(),
            c.products.as_deref().unwrap_or(""),
            equipment,
        ];
        let mut terms: [Vec<CitedTerm<'a>>; 3] = Default::default();
        for ((out, field), text) in terms.iter_mut().zip(&self.fields).zip(texts) {
            let mut own = field.own.iter();
            let mut prev = 0i64;
            for &(delta, len_kind) in &field.spans {
                let start = prev.checked_add(delta).ok_or_else(|| bad("a term"))?;
                prev = start;
                let start = u64::try_from(start).map_err(|_| bad("a term"))?;
                let written = span(text, start, len_kind >> 2).ok_or_else(|| bad("a term"))?;
                let term = match len_kind & 3 {
                    SAME => Cow::Borrowed(written),
                    ASCII_LOWER => Cow::Owned(written.to_ascii_lowercase()),
                    OWN => Cow::Borrowed(own.next().ok_or_else(|| bad("a term"))?.as_str()),
                    _ => return Err(bad("a term kind")),
                };
                let start = start as usize;
                out.push(CitedTerm {
                    term,
                    text: written,
                    start,
                    end: start + written.len(),
                });
            }
        }
        let mut concepts = Vec::with_capacity(self.concepts.len());
        for (k, source) in &self.concepts {
            let phrase = match *source {
                Source::Capabilities { start, len } => {
                    span(texts[0], start, len).map(Cow::Borrowed)
                }
                Source::Products { start, len } => span(texts[1], start, len).map(Cow::Borrowed),
                Source::Equipment(i) => usize::try_from(i)
                    .ok()
                    .and_then(|i| c.equipment.get(i))
                    .map(|e| {
                        let count = e.count.map(|n| format!(" ×{n}")).unwrap_or_default();
                        Cow::Owned(format!("equipment: {}{count}", e.name))
                    }),
            };
            concepts.push((*k, phrase.ok_or_else(|| bad("a concept's evidence"))?));
        }
        Ok(Cited { terms, concepts })
    }
}
