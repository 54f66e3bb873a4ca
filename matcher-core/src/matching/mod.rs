//! Need-to-seed matching: candidates from the index, rescored in parallel.
//!
//! ```text
//! need ──analyze_scoped──► terms (+synonyms) ─┐
//!      ──ontology────────► concepts ──────────┼─► BM25 over seeds + concept ids ─► candidates
//!                                             │     (privacy, owner, region, certifications filtered)
//! candidates ──rayon──► K × 7 signal matrix (ndarray) · weights ─► totals ─► top-k + explanations
//! ```
//! Each signal is in [0, 1] and reported with its contribution, so a
//! coordinator can say "why you" from the evidence.

pub mod batch;
mod constraints;
#[cfg(any(test, feature = "testkit"))]
pub mod eval;
pub mod explain;
#[cfg(feature = "testkit")]
pub mod signals;
#[cfg(not(feature = "testkit"))]
pub(crate) mod signals;
pub mod weights;

use ndarray::{Array1, Array2, Axis};
use rayon::prelude::*;
use serde::Serialize;
use tantivy::Term;

use crate::access::Role;
use crate::analysis::scope::ScopeKind;
use crate::concepts::ConceptSet;
use crate::context::Context;
use crate::index::evidence::{Cited, StoredEvidence};
use crate::index::query::{self, QueryTerm};
use crate::index::rankings::Ranking;
use crate::index::records::CompanyFeatures;
use crate::index::schema::{equipment_text, CompanyAnalysis};
use crate::index::View;
use crate::index::{taat, top_slots};
use crate::model::{Company, Date, GeoPoint, MunicipalityCode, Need, NeedStatus};
use constraints::Constraints;
use signals::{PerSignal, Signal, SignalRow, SizeHint, N_SIGNALS};

pub use explain::{Evidence, Explanation};
pub use weights::{
    FieldBoosts, GeographyDecay, MatchConfig, RelationWeights, WantedIndustries, Weights,
};

/// Share of the concept signal taken from the concept channel's BM25 (the
/// rest is the hierarchy-aware similarity).
const CONCEPT_BM25_SHARE: f32 = 0.5;
/// How many candidates each retrieval channel keeps, as a multiple of the
/// final candidate count.
const CHANNEL_DEPTH: usize = 2;

/// A retrieval channel's hits: (slot, score), best first.
pub(crate) type SlotScores = Vec<(u32, f32)>;

/// Largest top-k a caller may ask for.
pub const MAX_TOP_K: usize = 200;

/// What to compute, beyond the default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchOptions {
    /// How many matches to return (1 to [`MAX_TOP_K`]).
    pub top_k: usize,
    /// Compute reciprocal scores for candidates with open needs.
    pub mutual: bool,
    /// Rank by the mutual score instead of the one-way score.
    pub rank_by_mutual: bool,
    /// Give each match its evidence and "why" sentence (read from stored
    /// evidence; the one per-match cost worth switching off in batches).
    pub explain: bool,
    /// Ablation switches for evaluation (all on in production).
    pub ablation: Ablation,
}

impl Default for MatchOptions {
    fn default() -> Self {
        MatchOptions {
            top_k: 20,
            mutual: false,
            rank_by_mutual: false,
            explain: true,
            ablation: Ablation::FULL,
        }
    }
}

/// Parts of the method that can be switched off to measure what each adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ablation {
    /// Hard constraints (region, certifications) filter candidates.
    pub constraints: bool,
    /// Query terms are expanded with their synonyms.
    pub synonyms: bool,
    /// The concept channel retrieves and the concept signal scores.
    pub concepts: bool,
    /// Candidates are rescored by every signal (else ranked by text BM25
    /// alone, or with `text` off by the concept signal alone).
    pub rescore: bool,
    /// The text channel retrieves and the text signal scores.
    pub text: bool,
}

impl Ablation {
    /// The whole method: what production runs.
    pub const FULL: Ablation = Ablation {
        constraints: true,
        synonyms: true,
        concepts: true,
        rescore: true,
        text: true,
    };
    /// Text BM25 alone: the baseline the evaluation compares against.
    pub const BM25: Ablation = Ablation {
        constraints: false,
        synonyms: false,
        concepts: false,
        rescore: false,
        text: true,
    };
    /// The concept channel alone, with the hard constraints: retrieved by
    /// concept BM25 and ranked by the concept signal, no words, no other
    /// signal. What the hybrid must beat besides BM25.
    pub const CONCEPTS: Ablation = Ablation {
        constraints: true,
        synonyms: false,
        concepts: true,
        rescore: false,
        text: false,
    };
}

/// One signal's value and its share of the total, as answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Signal))]
pub struct SignalScore {
    /// The signal (`text`, `concepts`, `equipment`, `jsic`, `geography`,
    /// `freshness`, `size`).
    pub name: &'static str,
    /// Its value for this company, 0 to 1.
    pub value: f32,
    /// Its weight for this need: the configured weight renormalized over the
    /// signals that apply.
    pub weight: f32,
    /// `weight × value`: its share of the score.
    pub contribution: f32,
    /// Whether the need gives the signal anything to judge (no wanted
    /// equipment: the equipment signal does not apply and weighs nothing).
    pub applies: bool,
}

/// Reciprocal score for a two-sided match.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Mutual {
    /// The candidate's open need best served by the need's owner.
    pub need_id: String,
    /// How well the need's owner serves that need.
    pub reverse_score: f32,
    /// Harmonic mean of both directions.
    pub score: f32,
    /// Both directions reach the configured threshold: a two-way fit worth a
    /// coordinator's call.
    pub is_mutual: bool,
}

/// One candidate partner.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Match {
    /// The candidate company's id.
    pub company_id: String,
    /// Its name.
    pub name: String,
    /// The weighted sum of the signals, 0 to 1 (the text signal is relative
    /// to the need's best candidate, so a score ranks within one need).
    pub score: f32,
    /// Its profile was not confirmed within the configured months: check before
    /// proposing it.
    pub stale: bool,
    /// Every signal's value and share of the score, in a fixed order.
    pub signals: Vec<SignalScore>,
    /// The reciprocal score, if asked for and the candidate has open needs.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub mutual: Option<Mutual>,
    /// The evidence and the "why" sentence, if asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub explanation: Option<Explanation>,
}

/// The answer for one need.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MatchResult {
    /// The need's id (`adhoc` for an unsaved need without one).
    pub need_id: String,
    /// Candidates rescored (after privacy and hard filters).
    pub candidates: usize,
    /// The best candidates, best first; ties broken by company id.
    pub matches: Vec<Match>,
}

/// A ranked candidate: its slot, total score and signal values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Ranked {
    pub slot: u32,
    pub total: f32,
    pub row: SignalRow,
}

/// A candidate from retrieval: its text BM25 and its concept-channel score (0..1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Candidate {
    pub slot: u32,
    pub text: f32,
    pub concept: f32,
}

/// A candidate with its fused order key in [`Matcher::candidates`]: the
/// sum of its two channels' scores, each normalized by its channel's best.
struct Fused {
    cand: Candidate,
    key: f32,
}

/// What is computed once per need.
pub(crate) struct PreparedNeed<'a> {
    pub need: &'a Need,
    pub terms: Vec<QueryTerm>,
    /// Concepts judged by the similarity signal (direct mentions, final weights).
    pub concepts: ConceptSet,
    /// Concepts used to retrieve candidates (all mentions, mention weights).
    pub concept_query: ConceptSet,
    /// `concepts` with their relation to every ontology concept, for rescoring.
    pub wanted: signals::WantedConcepts,
    /// The requirements the need states in words (not guessed from a head
    /// word), each judged in explanations: met or lacking.
    pub stated: Vec<explain::Stated>,
    pub origin: Option<(GeoPoint, Option<MunicipalityCode>)>,
    pub wanted_jsic: signals::WantedJsic,
    pub wanted_equipment: Vec<String>,
    pub size: Option<SizeHint>,
    pub owner_slot: Option<u32>,
}

/// Why a match failed: a request the engine refuses, or an index it could
/// not read.
#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    /// `top_k` outside 1 to [`MAX_TOP_K`].
    #[error("top_k {0} is out of range 1..={MAX_TOP_K}")]
    TopK(usize),
    /// tantivy failed reading the index (a damaged index, an I/O error).
    #[error(
        "index error while matching: {0} (if it persists, check the disk; a damaged data \
         folder is restored from a backup, `matcher backup`)"
    )]
    Index(#[from] tantivy::TantivyError),
    /// The evidence computed from a company's stored record for its
    /// explanation does not fit that record: a bug, not bad input.
    #[error(
        "company {company}: the explanation evidence computed from its stored record does \
         not fit it ({source}); please report this, with the company's record"
    )]
    Evidence {
        /// The company's id.
        company: String,
        /// What did not fit.
        source: crate::index::evidence::EvidenceError,
    },
}

/// Matching over one [`View`]: a need's candidates ranked and explained,
/// the opportunities of a company, reciprocal scores — every answer of a
/// matcher read from the one view it was made with, so a request that
/// asks several things (a need, its matches, the matched profiles; a
/// whole batch) gets answers that agree, whatever is written meanwhile.
///
/// Get one from [`crate::Engine::matcher`] per request (it holds the
/// engine's view and matching configuration; dropping it releases the
/// view). It is `Send + Sync`: a batch shares one across threads.
pub struct Matcher<'e> {
    /// The analysis context (analyzer, tables, ontology).
    ctx: &'e Context,
    /// The engine's matching configuration: the one the view's memoized
    /// rankings were computed with.
    config: &'e MatchConfig,
    /// The view every answer reads.
    view: std::sync::Arc<View>,
}

impl<'e> Matcher<'e> {
    /// Matching over `view` with `config`: the engine's, see
    /// [`crate::Engine::matcher`].
    pub(crate) fn new(
        ctx: &'e Context,
        config: &'e MatchConfig,
        view: std::sync::Arc<View>,
    ) -> Matcher<'e> {
        Matcher { ctx, config, view }
    }

    /// The view this matcher reads (a shared handle): read the records of
    /// the same request from it ([`View::company`], [`View::need`]) so they
    /// agree with the matches.
    pub fn view(&self) -> std::sync::Arc<View> {
        self.view.clone()
    }

    /// The matching configuration.
    pub fn config(&self) -> &MatchConfig {
        self.config
    }

    /// Profiles not confirmed since this date are stale (flagged in matches).
    pub fn stale_cutoff(&self) -> Date {
        Date::today().minus_months(self.config.stale_months)
    }

    /// `cite` applied to the evidence of company `id` in view `v`: the
    /// stored evidence read against the stored record of the same
    /// document. When the document has none that fits (an encoding failure
    /// at indexing, an index built with another ontology), the evidence is
    /// computed from the record as indexing would: slower, never wrong.
    /// `None` if the view has no such company.
    pub(crate) fn with_evidence<R>(
        &self,
        v: &View,
        id: &str,
        cite: impl FnOnce(&Cited<'_>) -> R,
    ) -> Result<Option<R>, MatchError> {
        let Some(d) = v.stored_doc(id)? else {
            return Ok(None);
        };
        let fields = v.company_fields();
        let Some(c) = crate::index::record_of::<Company>(&d, fields.record) else {
            return Ok(None);
        };
        let ctx = &self.ctx;
        let fingerprint = ctx.ontology.fingerprint();
        let eq = equipment_text(&c);
        let stored = crate::index::first_bytes(&d, fields.evidence)
            .and_then(|b| StoredEvidence::decode(b).ok())
            .filter(|e| e.ontology == fingerprint);
        if let Some(cited) = stored.as_ref().and_then(|s| s.resolve(&c, &eq).ok()) {
            return Ok(Some(cite(&cited)));
        }
        tracing::debug!("company {id}: no usable stored evidence; analyzing its record");
        let a = CompanyAnalysis::new(&c, &ctx.analyzer, &ctx.ontology);
        let computed = StoredEvidence::new(&c, &a, fingerprint);
        let cited =
            computed
                .resolve(&c, &a.equipment_text)
                .map_err(|source| MatchError::Evidence {
                    company: id.to_owned(),
                    source,
                })?;
        Ok(Some(cite(&cited)))
    }
}

impl Matcher<'_> {
    pub(crate) fn prepare_need<'a>(
        &self,
        v: &View,
        need: &'a Need,
        ab: Ablation,
        role: Role,
    ) -> PreparedNeed<'a> {
        let ctx = &self.ctx;
        let text = format!("{}\n{}", need.title, need.text);
        let scoping = &self.config.scoping;
        // Words of the request, and (weighing less) words only a
        // nice-to-have clause asks for; the rest of the text is out of scope.
        let analyzed = crate::analysis::analyzed::AnalyzedText {
            terms: ctx.analyzer.analyze(&text),
            scopes: crate::analysis::scope::need_scopes(&text, scoping.self_to_sentence_end),
        };
        let (mut required, mut optional, mut own) = (Vec::new(), Vec::new(), Vec::new());
        for t in &analyzed.terms {
            match crate::analysis::scope::scope_at(&analyzed.scopes, t.start, t.end) {
                None | Some(ScopeKind::Outsourced) => required.push(t.clone()),
                Some(ScopeKind::Optional) => optional.push(t.clone()),
                Some(ScopeKind::SelfDescription) => own.push(t.clone()),
                Some(_) => {}
            }
        }
        let query_terms = |terms: &[crate::analysis::Term]| {
            if ab.synonyms {
                query::expand_terms(&ctx.analyzer, terms)
            } else {
                let mut v: Vec<QueryTerm> = Vec::new();
                for t in terms {
                    if !v.iter().any(|q| q.term == t.term) {
                        v.push(QueryTerm {
                            term: t.term.clone(),
                            weight: 1.0,
                        });
                    }
                }
                v
            }
        };
        let mut terms = query_terms(&required);
        for (group, factor) in [
            (&optional, scoping.optional_text_weight),
            (&own, scoping.self_text_weight),
        ] {
            if factor <= 0.0 || group.is_empty() {
                continue;
            }
            for q in query_terms(group) {
                let weight = q.weight * factor;
                match terms.iter_mut().find(|t| t.term == q.term) {
                    Some(t) => t.weight = t.weight.max(weight),
                    None => terms.push(QueryTerm { weight, ..q }),
                }
            }
        }
        for e in &need.equipment {
            for t in ctx.analyzer.analyze(e) {
                if !terms.iter().any(|q| q.term == t.term) {
                    terms.push(QueryTerm {
                        term: t.term,
                        weight: 1.0,
                    });
                }
            }
        }
        let rec = &v.records;
        // Mentions retrieve candidates with their own weights; the similarity
        // signal also weighs what kind of concept it is (a process says more
        // than a material) and how rare it is among companies.
        let (concepts, concept_query, stated) = if ab.concepts {
            let mentions = ctx.ontology.need_mentions_scoped(need, scoping);
            let all = ConceptSet::from_mentions(&mentions);
            let req = &self.config.requirements;
            let stated = if req.most_specific {
                std::borrow::Cow::Owned(ctx.ontology.most_specific(&all))
            } else {
                std::borrow::Cow::Borrowed(&all)
            };
            let weighted = stated
                .0
                .iter()
                .map(|&(c, w)| {
                    let kind = req.of_kind(&ctx.ontology.concept(c).kind);
                    let rarity = (0.5 + rec.concept_idf(c, role)).powf(req.rarity);
                    (c, w * kind * rarity)
                })
                .collect();
            let weighted = ConceptSet(weighted);
            let stated = explain::stated(&weighted, &mentions);
            (weighted, all, stated)
        } else {
            (ConceptSet::default(), ConceptSet::default(), Vec::new())
        };
        let owner_slot = need
            .company_id
            .as_ref()
            .and_then(|id| rec.companies.slot_of(id.as_str()));
        // The owner's location and codes shape the signals only if the caller may see
        // the owner; otherwise a portal could probe a restricted company through them.
        let owner = owner_slot
            .and_then(|s| rec.companies.get(s))
            .filter(|o| role.may_see(o.visibility));
        let origin = owner
            .and_then(|o| o.location.map(|l| (l, Some(o.municipality))))
            .or_else(|| {
                let r = need.region.as_ref()?;
                let m = *r.municipality_codes.first()?;
                ctx.taxonomy.office(m).map(|p| (p, Some(m)))
            });
        // The industries wanted: those the need names; else those its
        // requirements imply (or, configured so, the owner's own).
        let wanted_jsic = if !need.industry_codes.is_empty() {
            signals::WantedJsic::codes(&need.industry_codes)
        } else {
            match self.config.wanted_industries {
                WantedIndustries::Owner => {
                    signals::WantedJsic::codes(owner.map(|o| o.jsic.as_slice()).unwrap_or(&[]))
                }
                WantedIndustries::Concepts => {
                    signals::WantedJsic::from_concepts(&ctx.ontology, &concept_query)
                }
                WantedIndustries::None => signals::WantedJsic::default(),
            }
        };
        let wanted = signals::WantedConcepts::new(
            &ctx.ontology,
            &self.config.relations,
            &self.config.requirements,
            &concepts,
        );
        PreparedNeed {
            need,
            terms,
            concepts,
            concept_query,
            wanted,
            stated,
            origin,
            wanted_jsic,
            wanted_equipment: need
                .equipment
                .iter()
                .map(|e| crate::analysis::normalize_key(e))
                .collect(),
            size: signals::size_hint(&text),
            owner_slot,
        }
    }

    /// The two retrieval channels as weighted terms: BM25 over the seed
    /// fields (words and synonyms), and BM25 over concept ids
    /// (paraphrase-proof). Kept apart so the text signal stays lexical and
    /// the concepts are judged by the hierarchy-aware similarity, not twice.
    pub(crate) fn candidate_clauses(
        &self,
        p: &PreparedNeed,
    ) -> (Vec<(Term, f32)>, Vec<(Term, f32)>) {
        let f = self.view.company_fields();
        let b = &self.config.fields;
        let fields = [
            (f.capabilities, b.capabilities),
            (f.products, b.products),
            (f.equipment, b.equipment),
            (f.name, b.name_match),
        ];
        let mut text = Vec::with_capacity(p.terms.len() * fields.len());
        for t in &p.terms {
            for &(field, boost) in &fields {
                text.push((Term::from_field_text(field, &t.term), boost * t.weight));
            }
        }
        let concepts = p
            .concept_query
            .0
            .iter()
            .map(|&(c, w)| {
                let id = &self.ctx.ontology.concept(c).id;
                // BM25 on the concept field already weighs rarity; add the kind and mention weight.
                let kind = self
                    .config
                    .requirements
                    .of_kind(&self.ctx.ontology.concept(c).kind);
                let boost = kind * w.clamp(0.2, 1.0);
                (Term::from_field_text(f.concepts, id), boost)
            })
            .collect();
        (text, concepts)
    }

    /// Which slots a need's retrieval may return. Privacy and the hard
    /// constraints filter *before* the cut, so a narrow region still gets
    /// its full share of candidates; they are resolved here once per need.
    /// Without constraints only the view's short hidden list (and the need's
    /// own company) is excluded; with them, the admitted slots are listed.
    pub(crate) fn admit<'v>(
        &self,
        v: &'v View,
        p: &PreparedNeed,
        role: Role,
        ab: Ablation,
    ) -> top_slots::Admit<'v> {
        let constraints = Constraints::new(p.need, p.origin.map(|o| o.0), &self.ctx.taxonomy);
        if !ab.constraints || constraints.is_empty() {
            return top_slots::Admit::AllBut(v.hidden_from(role), p.owner_slot);
        }
        let rec = &v.records;
        let admits = |slot: u32, certs_known: bool| {
            rec.filter_keys.get(slot as usize).is_some_and(|key| {
                key.live
                    && role.may_see(key.visibility)
                    && Some(slot) != p.owner_slot
                    && constraints.allows_given(key, certs_known, || rec.companies.get(slot))
            })
        };
        // A region or certification narrows the slots to check; a radius
        // alone is checked on every slot (its latitude bound is cheap).
        let slots: Vec<u32> = match constraints.candidate_slots(v.slot_index()) {
            Some((c, certs_known)) => c.into_iter().filter(|&s| admits(s, certs_known)).collect(),
            None => (0..rec.filter_keys.len() as u32)
                .filter(|&s| admits(s, false))
                .collect(),
        };
        top_slots::Admit::Only(slots.into())
    }

    /// The two retrieval channels of a prepared need, each its best
    /// `CHANNEL_DEPTH × candidates` (slot, BM25) that pass privacy and the
    /// hard constraints: term-at-a-time accumulation, then filtered top-M
    /// selection (the retrieval hot loop; `candidates` fuses the two).
    pub(crate) fn channels(
        &self,
        v: &View,
        p: &PreparedNeed,
        role: Role,
        ab: Ablation,
    ) -> Result<(SlotScores, SlotScores), MatchError> {
        let (mut text_terms, concept_terms) = self.candidate_clauses(p);
        if !ab.text {
            text_terms.clear();
        }
        let rec = &v.records;
        let admit = self.admit(v, p, role, ab);
        let keep = self.config.candidates;
        // Each channel keeps more than `keep`, so a company ranked just below
        // the cut in both can still win on the fused score.
        let depth = keep.saturating_mul(CHANNEL_DEPTH);
        // Slots without a filter key are not companies: never scored.
        taat::with_accumulator(rec.filter_keys.len(), |acc| {
            taat::accumulate(v, role, &text_terms, acc)?;
            let text = top_slots::select(acc, depth, &admit);
            let concepts = if concept_terms.is_empty() {
                Vec::new()
            } else {
                acc.fill(0.0);
                taat::accumulate(v, role, &concept_terms, acc)?;
                top_slots::select(acc, depth, &admit)
            };
            Ok((text, concepts))
        })
    }

    /// Candidates for a prepared need: (slot, bm25), best first, cut to the configured size.
    pub(crate) fn candidates(
        &self,
        v: &View,
        p: &PreparedNeed,
        role: Role,
        ab: Ablation,
    ) -> Result<Vec<Candidate>, MatchError> {
        let (text, concepts) = self.channels(v, p, role, ab)?;
        let rec = &v.records;
        let max_t = text.iter().map(|x| x.1).fold(f32::EPSILON, f32::max);
        let max_c = concepts.iter().map(|x| x.1).fold(f32::EPSILON, f32::max);
        // Each slot's fused order key: the sum of its normalized channel
        // scores. A vector sorted by slot, not a hash map: ~1,600 entries
        // per need, and the order is settled by the sort below anyway.
        let mut c: Vec<Fused> = text
            .into_iter()
            .map(|(slot, t)| Fused {
                cand: Candidate {
                    slot,
                    text: t,
                    concept: 0.0,
                },
                key: t / max_t,
            })
            .collect();
        c.sort_unstable_by_key(|f| f.cand.slot);
        let texts = c.len();
        for (slot, cs) in concepts {
            let i = match c[..texts].binary_search_by_key(&slot, |f| f.cand.slot) {
                Ok(i) => i,
                Err(_) => {
                    c.push(Fused {
                        cand: Candidate {
                            slot,
                            text: 0.0,
                            concept: 0.0,
                        },
                        key: 0.0,
                    });
                    c.len() - 1
                }
            };
            if let Some(e) = c.get_mut(i) {
                e.key += cs / max_c;
                e.cand.concept = cs / max_c;
            }
        }
        let by_id = |s: u32| rec.companies.get(s).map(|f| f.id.as_str()).unwrap_or("");
        let order = |a: &Fused, b: &Fused| {
            b.key
                .total_cmp(&a.key)
                .then_with(|| by_id(a.cand.slot).cmp(by_id(b.cand.slot)))
        };
        // A total order (ids are unique): selecting the best `keep` and sorting
        // only those gives exactly the full sort's prefix, in O(hits).
        let keep = self.config.candidates;
        if c.len() > keep && keep > 0 {
            c.select_nth_unstable_by(keep - 1, order);
            c.truncate(keep);
        }
        c.sort_by(order);
        c.truncate(keep);
        Ok(c.into_iter().map(|f| f.cand).collect())
    }

    /// Score candidates: a K × N_SIGNALS matrix built in parallel, combined by weights.
    pub(crate) fn rescore(
        &self,
        v: &View,
        p: &PreparedNeed,
        cands: &[Candidate],
        ab: Ablation,
    ) -> (Array2<f32>, PerSignal<bool>) {
        self.rescore_against(v, p, cands, max_text(cands), ab)
    }

    /// [`Matcher::rescore`] with the text normalizer given: the best text
    /// score among all of the need's candidates, when `cands` is only some.
    fn rescore_against(
        &self,
        v: &View,
        p: &PreparedNeed,
        cands: &[Candidate],
        max_bm25: f32,
        ab: Ablation,
    ) -> (Array2<f32>, PerSignal<bool>) {
        let ctx = &self.ctx;
        let rec = &v.records;
        let today = Date::today();
        let mut applies = PerSignal([true; N_SIGNALS]);
        applies[Signal::Text] = ab.text;
        applies[Signal::Concepts] = ab.concepts && !p.concepts.is_empty();
        applies[Signal::Equipment] = !p.wanted_equipment.is_empty();
        applies[Signal::Jsic] = !p.wanted_jsic.is_empty();
        applies[Signal::Geography] = p.origin.is_some();
        applies[Signal::Size] = p.size.is_some();
        let slots: Vec<u32> = cands.iter().map(|c| c.slot).collect();
        rec.warm_companies(&slots);
        let mut m = Array2::<f32>::zeros((cands.len(), N_SIGNALS));
        m.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(cands.par_iter())
            .for_each(|(mut out, cand)| {
                let Some(f) = rec.companies.get(cand.slot) else {
                    return;
                };
                let mut row = SignalRow::default();
                row[Signal::Text] = cand.text / max_bm25;
                if applies[Signal::Concepts] {
                    // Hierarchy-aware similarity, blended with the concept channel's
                    // BM25 (which weighs rarity and profile length).
                    let sim = p.wanted.similarity(&f.concepts);
                    row[Signal::Concepts] =
                        (1.0 - CONCEPT_BM25_SHARE) * sim + CONCEPT_BM25_SHARE * cand.concept;
                }
                if applies[Signal::Equipment] {
                    row[Signal::Equipment] =
                        signals::equipment_match(&p.wanted_equipment, &f.equipment).0;
                }
                if applies[Signal::Jsic] {
                    row[Signal::Jsic] = p
                        .wanted_jsic
                        .proximity(&f.jsic, |c| ctx.taxonomy.section_byte(c));
                }
                if let Some((o, om)) = p.origin {
                    row[Signal::Geography] = signals::geography(&self.config.geography, o, om, f).0;
                }
                row[Signal::Freshness] =
                    signals::freshness(f.updated_at, today, self.config.stale_months);
                if let Some(h) = p.size {
                    row[Signal::Size] = signals::size_fit(h, f.employees);
                }
                for (o, v) in out.iter_mut().zip(row.0) {
                    *o = v;
                }
            });
        (m, applies)
    }

    /// Rescore arbitrary company slots for a need (the hot loop, exposed for
    /// benchmarks): returns the K × signals matrix and the K totals. Runs on
    /// the current rayon pool (install a 1-thread pool to measure one core).
    pub fn rescore_slots(&self, need: &Need, slots: &[u32]) -> (Array2<f32>, Array1<f32>) {
        let v = self.view();
        let p = self.prepare_need(&v, need, Ablation::FULL, Role::Coordinator);
        let cands: Vec<Candidate> = slots
            .iter()
            .enumerate()
            .map(|(i, &slot)| Candidate {
                slot,
                text: 1.0 + (i % 7) as f32,
                concept: 0.5,
            })
            .collect();
        let (m, applies) = self.rescore(&v, &p, &cands, Ablation::FULL);
        let w = self.effective_weights(&applies);
        let totals = totals(&m, &w);
        (m, totals)
    }

    /// Live company slots (for benchmarks and tools).
    pub fn company_slots(&self) -> Vec<u32> {
        self.view()
            .records
            .companies
            .iter()
            .map(|(s, _)| s)
            .collect()
    }

    /// Effective weights: zero for signals that do not apply, normalized to sum 1.
    fn effective_weights(&self, applies: &PerSignal<bool>) -> Array1<f32> {
        let w = self.config.weights.per_signal();
        let mut v = Array1::from_iter(
            w.0.iter()
                .zip(applies.0)
                .map(|(w, a)| if a { *w } else { 0.0 }),
        );
        let sum = v.sum();
        if sum > 0.0 {
            v /= sum;
        }
        v
    }

    /// Rank a need's candidates: (slot, total, signal row). Deterministic.
    pub(crate) fn rank(
        &self,
        v: &View,
        p: &PreparedNeed,
        role: Role,
        ab: Ablation,
    ) -> Result<Vec<Ranked>, MatchError> {
        let cands = self.candidates(v, p, role, ab)?;
        let (m, applies) = self.rescore(v, p, &cands, ab);
        let w = self.effective_weights(&applies);
        let totals = if ab.rescore {
            totals(&m, &w)
        } else if ab.text {
            m.column(Signal::Text.column()).to_owned()
        } else {
            m.column(Signal::Concepts.column()).to_owned()
        };
        let rec = &v.records;
        let mut ranked: Vec<Ranked> = cands
            .iter()
            .enumerate()
            .map(|(i, &Candidate { slot, .. })| {
                let mut row = SignalRow::default();
                for (k, v) in m.row(i).iter().enumerate() {
                    row.0[k] = *v;
                }
                Ranked {
                    slot,
                    total: totals[i],
                    row,
                }
            })
            .collect();
        let id = |s: u32| rec.companies.get(s).map(|f| f.id.as_str()).unwrap_or("");
        ranked.sort_by(|a, b| {
            b.total
                .total_cmp(&a.total)
                .then_with(|| id(a.slot).cmp(id(b.slot)))
        });
        Ok(ranked)
    }

    /// Companies that can meet `need`, best first, with reasons.
    pub fn match_need(
        &self,
        need: &Need,
        role: Role,
        opts: &MatchOptions,
    ) -> Result<MatchResult, MatchError> {
        self.match_need_in(&self.view(), need, role, opts)
    }

    /// [`Matcher::match_need`] in view `v` (this matcher's): every step of
    /// the match (retrieval, rescoring, explanations, reciprocal scores)
    /// reads `v`.
    fn match_need_in(
        &self,
        v: &View,
        need: &Need,
        role: Role,
        opts: &MatchOptions,
    ) -> Result<MatchResult, MatchError> {
        if opts.top_k == 0 || opts.top_k > MAX_TOP_K {
            return Err(MatchError::TopK(opts.top_k));
        }
        let need = v.need_as_seen(need, role);
        let need = need.as_ref();
        let p = self.prepare_need(v, need, opts.ablation, role);
        let ranked = self.rank(v, &p, role, opts.ablation)?;
        let candidates = ranked.len();
        let applies = self.rescore(v, &p, &[], opts.ablation).1;
        let w = self.effective_weights(&applies);
        let cutoff = self.stale_cutoff();
        let take = if opts.rank_by_mutual {
            ranked.len().min(opts.top_k * 3)
        } else {
            opts.top_k.min(ranked.len())
        };
        // Explanations analyze each matched profile: the one per-match cost
        // worth spreading over the cores.
        let matches: Result<Vec<Option<Match>>, MatchError> = ranked[..take]
            .par_iter()
            .map(|&Ranked { slot, total, row }| {
                let Some(f) = v.records.companies.get(slot) else {
                    return Ok(None);
                };
                let signals = Signal::ALL
                    .iter()
                    .map(|&s| SignalScore {
                        name: s.name(),
                        value: row[s],
                        weight: w[s.column()],
                        contribution: w[s.column()] * row[s],
                        applies: applies[s],
                    })
                    .collect();
                let explanation = if opts.explain {
                    Some(self.explain(v, &p, f, &row.0)?)
                } else {
                    None
                };
                let mutual = if opts.mutual {
                    self.mutual(v, need, f, total, role)?
                } else {
                    None
                };
                Ok(Some(Match {
                    company_id: f.id.to_string(),
                    name: f.name.clone(),
                    score: total,
                    stale: f.is_stale(cutoff),
                    signals,
                    mutual,
                    explanation,
                }))
            })
            .collect();
        let mut matches: Vec<Match> = matches?.into_iter().flatten().collect();
        if opts.rank_by_mutual {
            let key = |m: &Match| m.mutual.as_ref().map_or(0.0, |x| x.score);
            matches.sort_by(|a, b| {
                key(b)
                    .total_cmp(&key(a))
                    .then_with(|| b.score.total_cmp(&a.score))
                    .then_with(|| a.company_id.cmp(&b.company_id))
            });
            matches.truncate(opts.top_k);
        }
        Ok(MatchResult {
            need_id: need.id.to_string(),
            candidates,
            matches,
        })
    }

    /// Match a stored need by id. `None` if there is no such need.
    pub fn match_need_id(
        &self,
        id: &str,
        role: Role,
        opts: &MatchOptions,
    ) -> Result<Option<MatchResult>, MatchError> {
        let v = self.view();
        let need = v
            .records
            .needs
            .slot_of(id)
            .and_then(|s| v.records.needs.get(s));
        match need {
            Some(e) => self.match_need_in(&v, &e.need, role, opts).map(Some),
            None => Ok(None),
        }
    }

    /// How well the owner of `need` serves the open needs of candidate `b`.
    fn mutual(
        &self,
        v: &View,
        need: &Need,
        b: &CompanyFeatures,
        forward: f32,
        role: Role,
    ) -> Result<Option<Mutual>, MatchError> {
        let Some(owner) = need.company_id.as_ref() else {
            return Ok(None);
        };
        let rec = &v.records;
        let owner_slot = rec.companies.slot_of(owner.as_str());
        let mut best: Option<Mutual> = None;
        for (need_slot, e) in rec.needs.iter() {
            if !e.is_open() || e.need.company_id.as_ref() != Some(&b.id) {
                continue;
            }
            let reverse = match owner_slot {
                Some(slot) => self.ranked_total(v, need_slot, &e.need, role, slot)?,
                None => 0.0,
            };
            let score = if forward + reverse > 0.0 {
                2.0 * forward * reverse / (forward + reverse)
            } else {
                0.0
            };
            if best.as_ref().is_none_or(|m| score > m.score) {
                let t = self.config.mutual_threshold;
                best = Some(Mutual {
                    need_id: e.need.id.to_string(),
                    reverse_score: reverse,
                    score,
                    is_mutual: forward >= t && reverse >= t,
                });
            }
        }
        Ok(best)
    }

    /// The ranking of the stored need at `need_slot` as `role` sees it:
    /// (slot, total) best first, memoized in the view (`index::rankings`),
    /// so opportunities and mutual scores rank each need once per view,
    /// not once per request and candidate.
    fn stored_ranking(
        &self,
        v: &View,
        need_slot: u32,
        need: &Need,
        role: Role,
    ) -> Result<Ranking, MatchError> {
        v.rankings()
            .get_or_try(need_slot, role == Role::Public, || {
                let need = v.need_as_seen(need, role);
                let p = self.prepare_need(v, &need, Ablation::FULL, role);
                Ok(self
                    .rank(v, &p, role, Ablation::FULL)?
                    .into_iter()
                    .map(|r| (r.slot, r.total))
                    .collect())
            })
    }

    /// The total [`Matcher::rank`] gives company `slot` for the stored need
    /// at `need_slot` (0 when it is not a candidate).
    fn ranked_total(
        &self,
        v: &View,
        need_slot: u32,
        need: &Need,
        role: Role,
        slot: u32,
    ) -> Result<f32, MatchError> {
        let ranking = self.stored_ranking(v, need_slot, need, role)?;
        Ok(ranking
            .iter()
            .find(|&&(s, _)| s == slot)
            .map_or(0.0, |&(_, total)| total))
    }

    /// Open needs that company `id` could serve, best first. `None` if the
    /// company does not exist or `role` may not see it.
    ///
    /// The company's rank in each open need comes from the view's memoized
    /// rankings: the first call on a view ranks every open need once (a
    /// batch, in parallel), later calls — for any company — only look up.
    /// Explanations are computed for the needs returned.
    pub fn opportunities(
        &self,
        id: &str,
        role: Role,
        opts: &MatchOptions,
    ) -> Result<Option<Vec<Opportunity>>, MatchError> {
        let v = self.view();
        let v = &*v;
        let rec = &v.records;
        let Some((my_slot, me)) = rec
            .companies
            .slot_of(id)
            .and_then(|s| rec.companies.get(s).map(|f| (s, f)))
            .filter(|(_, f)| role.may_see(f.visibility))
        else {
            return Ok(None);
        };
        let needs: Vec<(u32, &Need)> = rec
            .needs
            .iter()
            .filter(|(_, e)| e.is_open() && e.need.company_id.as_ref() != Some(&me.id))
            .filter(|(_, e)| !e.concepts.is_empty() || !e.need.text.is_empty())
            .map(|(s, e)| (s, &e.need))
            .collect();
        // Where I rank in every open need, from the memo (ranked on a miss).
        let found: Result<Vec<Option<(u32, &Need, usize, f32)>>, MatchError> = needs
            .par_iter()
            .map(|&(need_slot, n)| {
                let ranking = self.stored_ranking(v, need_slot, n, role)?;
                Ok(ranking
                    .iter()
                    .position(|&(s, _)| s == my_slot)
                    .and_then(|pos| ranking.get(pos).map(|&(_, t)| (need_slot, n, pos, t))))
            })
            .collect();
        let mut found: Vec<(u32, &Need, usize, f32)> = found?.into_iter().flatten().collect();
        found.sort_by(|a, b| b.3.total_cmp(&a.3).then_with(|| a.1.id.cmp(&b.1.id)));
        found.truncate(opts.top_k.clamp(1, MAX_TOP_K));
        found
            .par_iter()
            .map(|&(_, n, pos, score)| {
                let explanation = if opts.explain {
                    let n = v.need_as_seen(n, role);
                    let p = self.prepare_need(v, &n, Ablation::FULL, role);
                    let ranked = self.rank(v, &p, role, Ablation::FULL)?;
                    match ranked.iter().find(|r| r.slot == my_slot) {
                        Some(r) => Some(self.explain(v, &p, me, &r.row.0)?),
                        None => None,
                    }
                } else {
                    None
                };
                Ok(Opportunity {
                    need_id: n.id.to_string(),
                    title: n.title.clone(),
                    score,
                    rank: pos + 1,
                    explanation,
                })
            })
            .collect::<Result<Vec<_>, MatchError>>()
            .map(Some)
    }
}

/// The text normalizer of a candidate set: its best text score.
fn max_text(cands: &[Candidate]) -> f32 {
    cands
        .iter()
        .map(|c| c.text)
        .fold(0.0f32, f32::max)
        .max(f32::EPSILON)
}

/// Each row's weighted total, summed in signal order: the same number for
/// a company whether it is scored alone or among all candidates.
fn totals(m: &Array2<f32>, w: &Array1<f32>) -> Array1<f32> {
    m.rows()
        .into_iter()
        .map(|row| row.iter().zip(w.iter()).map(|(v, w)| v * w).sum())
        .collect()
}

/// An open need a company could serve.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Opportunity {
    /// The need's id.
    pub need_id: String,
    /// Its title, to list it.
    pub title: String,
    /// The company's score as a candidate for the need.
    pub score: f32,
    /// The company's rank among all candidates for this need.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub rank: usize,
    /// Why the company fits, if asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub explanation: Option<Explanation>,
}

/// Open needs of a view, sorted by id.
pub(crate) fn open_needs(v: &View) -> Vec<Need> {
    let mut v: Vec<Need> = v
        .records
        .needs
        .iter()
        .filter(|(_, e)| e.need.status == NeedStatus::Open)
        .map(|(_, e)| e.need.clone())
        .collect();
    v.sort_by(|a, b| a.id.cmp(&b.id));
    v
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{fixtures, Context, Engine};

    /// What `admit` lets into retrieval equals a check of every slot with
    /// the full filter (privacy, the need's own company, every hard
    /// constraint), for each fixture need and for variants limited to a
    /// city, a prefecture, a radius and a certification, as a portal and as
    /// a coordinator: the slot index only narrows what is checked.
    #[test]
    fn admitted_slots_equal_a_full_filter() {
        let dir = fixtures::fixtures_dir();
        let engine = Engine::in_memory(Arc::new(Context::load(&dir).unwrap())).unwrap();
        fixtures::load_into(&engine, &dir).unwrap();
        let m = engine.matcher();
        let v = m.view();
        let rec = &v.records;
        let mut needs: Vec<Need> = rec.needs.iter().map(|(_, e)| e.need.clone()).collect();
        let base = needs[0].clone();
        let mut variant = |region: serde_json::Value, certs: &[&str]| {
            let mut n = base.clone();
            n.region = serde_json::from_value(region).unwrap();
            n.certifications_required = certs.iter().map(|c| c.to_string()).collect();
            needs.push(n);
        };
        variant(serde_json::json!({"municipality_codes": ["131113"]}), &[]);
        variant(
            serde_json::json!({"prefecture_codes": ["13"]}),
            &["ISO 9001"],
        );
        variant(serde_json::json!({"max_distance_km": 15.0}), &[]);
        variant(serde_json::json!(null), &["ISO9001", "ISO14001"]);
        variant(serde_json::json!({"prefecture_codes": ["xx"]}), &[]);
        let mut constrained = 0;
        for need in &needs {
            for role in [Role::Public, Role::Coordinator] {
                let p = m.prepare_need(&v, need, Ablation::FULL, role);
                let c = Constraints::new(need, p.origin.map(|o| o.0), &engine.ctx.taxonomy);
                let want: Vec<u32> = (0..rec.filter_keys.len() as u32)
                    .filter(|&s| {
                        let key = &rec.filter_keys[s as usize];
                        key.live
                            && role.may_see(key.visibility)
                            && Some(s) != p.owner_slot
                            && c.allows(key, || rec.companies.get(s))
                    })
                    .collect();
                let got: Vec<u32> = match m.admit(&v, &p, role, Ablation::FULL) {
                    top_slots::Admit::Only(slots) => {
                        constrained += 1;
                        slots.into_owned()
                    }
                    top_slots::Admit::AllBut(hidden, also) => (0..rec.filter_keys.len() as u32)
                        .filter(|s| !hidden.contains(s) && Some(*s) != also)
                        .collect(),
                };
                assert_eq!(got, want, "need {} as {role:?}", need.id);
            }
        }
        assert!(constrained >= 10, "{constrained} constrained checks");
    }

    /// A need that names no industry asks, through the JSIC signal, for the
    /// industries of its requirements, not for its owner's: a sheet-metal
    /// shop (JSIC 24) looking for a molder wants JSIC 18.
    #[test]
    fn wanted_industries_are_the_requirements_not_the_owners() {
        let dir = fixtures::fixtures_dir();
        let ctx = Arc::new(Context::load(&dir).unwrap());
        let need: Need = serde_json::from_value(serde_json::json!({
            "id": "t-1", "company_id": "tk-005", "kind": "subcontracting",
            "title": "樹脂カバーの成形先",
            "text": "弊社は大田区で精密板金を営んでおります。装置の樹脂カバーを射出成形で作ってくれる会社を探しています。",
        }))
        .unwrap();
        let codes = |engine: &Engine| {
            let m = engine.matcher();
            let p = m.prepare_need(&m.view(), &need, Ablation::FULL, Role::Coordinator);
            let mut c: Vec<String> = p.wanted_jsic.all_codes().map(|c| c.to_string()).collect();
            c.sort();
            c.dedup();
            c
        };
        let load = |config: MatchConfig| {
            let engine = Engine::in_memory(ctx.clone())
                .unwrap()
                .with_match_config(config);
            fixtures::load_into(&engine, &dir).unwrap();
            engine
        };
        let owner = codes(&load(MatchConfig {
            wanted_industries: WantedIndustries::Owner,
            ..MatchConfig::default()
        }));
        assert_eq!(owner, ["24"], "the owner tk-005 is a sheet-metal shop");
        let engine = load(MatchConfig::default());
        let wanted = codes(&engine);
        assert!(wanted.contains(&"18".to_owned()), "{wanted:?}");
        assert!(!wanted.contains(&"24".to_owned()), "{wanted:?}");
        // named industries win over both
        let mut named = need.clone();
        named.industry_codes = vec!["1831".parse().unwrap()];
        let m = engine.matcher();
        let p = m.prepare_need(&m.view(), &named, Ablation::FULL, Role::Coordinator);
        let c: Vec<&str> = p.wanted_jsic.all_codes().map(|c| c.as_str()).collect();
        assert_eq!(c, ["1831"]);
    }

    /// Words only a nice-to-have asks for weigh less in the text query;
    /// words only the owner's self-description has are not asked for.
    #[test]
    fn query_words_follow_the_scopes() {
        let dir = fixtures::fixtures_dir();
        let engine = Engine::in_memory(Arc::new(Context::load(&dir).unwrap())).unwrap();
        let need: Need = serde_json::from_value(serde_json::json!({
            "id": "t-2", "kind": "subcontracting", "title": "筐体の切削",
            "text": "弊社は墨田区で印刷業を営んでおります。アルミ筐体の切削をお願いしたい。できればアルマイトまで。",
        }))
        .unwrap();
        let m = engine.matcher();
        let p = m.prepare_need(&m.view(), &need, Ablation::FULL, Role::Coordinator);
        let w = |t: &str| p.terms.iter().find(|q| q.term == t).map(|q| q.weight);
        assert_eq!(w("切削"), Some(1.0));
        let optional = engine.match_config().scoping.optional_text_weight;
        assert_eq!(w("アルマイト"), Some(optional));
        assert_eq!(w("印刷"), None, "{:?}", p.terms);
    }

    /// The memoized ranking of a stored need is what ranking it afresh
    /// gives, slot for slot and bit for bit, for staff and for a portal;
    /// a need's owner never ranks in it; and a second read hits the memo.
    #[test]
    fn stored_rankings_are_fresh_rankings() {
        let dir = fixtures::fixtures_dir();
        let engine = Engine::in_memory(Arc::new(Context::load(&dir).unwrap())).unwrap();
        fixtures::load_into(&engine, &dir).unwrap();
        let m = engine.matcher();
        let v = m.view();
        let mut compared = 0;
        for (slot, e) in v.records.needs.iter().take(40) {
            for role in [Role::Coordinator, Role::Public] {
                let need = v.need_as_seen(&e.need, role);
                let p = m.prepare_need(&v, &need, Ablation::FULL, role);
                let fresh = m.rank(&v, &p, role, Ablation::FULL).unwrap();
                let memo = m.stored_ranking(&v, slot, &e.need, role).unwrap();
                assert_eq!(memo.len(), fresh.len(), "need {}", e.need.id);
                for (m, f) in memo.iter().zip(&fresh) {
                    assert_eq!((m.0, m.1.to_bits()), (f.slot, f.total.to_bits()));
                    compared += 1;
                }
                if let Some(owner) = p.owner_slot {
                    let t = m.ranked_total(&v, slot, &e.need, role, owner);
                    assert_eq!(t.unwrap(), 0.0);
                }
            }
        }
        assert!(compared > 1000, "{compared}");
        let held = v.rankings().len();
        assert!(held >= 60, "{held}");
        let (slot, e) = v.records.needs.iter().next().unwrap();
        m.stored_ranking(&v, slot, &e.need, Role::Public).unwrap();
        assert_eq!(v.rankings().len(), held, "a second read is a memo hit");
    }
}
