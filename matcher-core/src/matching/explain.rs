//! Explanations: the evidence behind a match, and one sentence a
//! coordinator can say to the company ("why you").

use std::collections::HashSet;

use serde::Serialize;

use super::signals::{self, N_SIGNALS};
use super::weights::RelationWeights;
use super::PreparedNeed;
use crate::concepts::Relation;
use crate::index::evidence::{Cited, FIELDS};
use crate::index::records::CompanyFeatures;
use crate::index::{Engine, EngineError, View};

/// A need term found in a company field, with offsets into that field's text.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Evidence {
    /// The term, as the index spells it.
    pub term: String,
    /// The company field it was found in (`capabilities`, `products`, `equipment`).
    pub field: String,
    /// The field's text at `start..end`, as written.
    pub text: String,
    /// Byte offset into the field's text.
    pub start: usize,
    /// Byte offset just past the term.
    pub end: usize,
}

/// A need concept met by a company concept.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConceptEvidence {
    /// What the need asks for (concept name).
    pub wanted: String,
    /// What the company has (concept name).
    pub have: String,
    /// exact, narrower, broader or sibling: the hierarchy only.
    pub relation: Relation,
    /// How firmly the company offers it (its mention weight, ≤ 1): lower
    /// when it is implied by equipment, outsourced or hedged.
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1))]
    pub weight: f32,
    /// Where the company's concept comes from: a phrase of its text or its equipment.
    pub source: String,
}

/// Why a company was matched to a need: the evidence each signal found, and
/// one sentence built from the strongest of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Explanation {
    /// One sentence for the coordinator.
    pub why: String,
    /// Need terms in the company's fields, each field's in order of first occurrence.
    pub terms: Vec<Evidence>,
    /// Need concepts the company meets, and how.
    pub concepts: Vec<ConceptEvidence>,
    /// The company's machines that match the equipment the need wants.
    pub equipment: Vec<String>,
    /// The company's JSIC codes in a division the need wants, with their names.
    pub industry_codes: Vec<String>,
    /// Distance from the need's origin (its owner, or its first municipality).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub distance_km: Option<f64>,
    /// The company is in the need's municipality.
    pub same_municipality: bool,
    /// The company's municipality, by name.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub municipality: Option<String>,
}

/// Below this a concept evidence is too weak for the "why" sentence:
/// what a sibling-only or an outsourced capability scores.
const WHY_MIN_SCORE: f32 = 0.5;

impl Engine {
    /// The explanation of company `f` for need `p` in view `v`. Term and
    /// concept evidence come from what indexing stored with the company's
    /// document (see `index::evidence`); nothing is analyzed here.
    pub(crate) fn explain(
        &self,
        v: &View,
        p: &PreparedNeed,
        f: &CompanyFeatures,
        row: &[f32; N_SIGNALS],
    ) -> Result<Explanation, EngineError> {
        let (terms, concepts) = self
            .with_evidence(v, f.id.as_str(), |e| {
                (term_evidence(e, p), self.concept_evidence(e, p, f))
            })?
            .unwrap_or_default();
        Ok(self.explanation(p, f, row, terms, concepts))
    }

    /// Which phrase or machine gave the company each concept that meets
    /// one of the need's.
    fn concept_evidence(
        &self,
        e: &Cited<'_>,
        p: &PreparedNeed,
        f: &CompanyFeatures,
    ) -> Vec<ConceptEvidence> {
        let ontology = &self.ctx.ontology;
        let (_, hits) = signals::concept_similarity(
            ontology,
            &self.ctx.match_config.relations,
            &p.concepts,
            &f.concepts,
        );
        hits.into_iter()
            .map(|h| ConceptEvidence {
                wanted: ontology.concept(h.want).name.clone(),
                have: ontology.concept(h.have).name.clone(),
                relation: h.relation,
                weight: h.mention,
                source: e.concept_source(h.have).unwrap_or_default().to_owned(),
            })
            .collect()
    }

    /// The explanation from its term and concept evidence and the company's features.
    fn explanation(
        &self,
        p: &PreparedNeed,
        f: &CompanyFeatures,
        row: &[f32; N_SIGNALS],
        terms: Vec<Evidence>,
        concepts: Vec<ConceptEvidence>,
    ) -> Explanation {
        let ctx = &self.ctx;
        let equipment: Vec<String> = signals::equipment_match(&p.wanted_equipment, &f.equipment)
            .1
            .into_iter()
            .map(str::to_owned)
            .collect();
        let industry_codes: Vec<String> = f
            .jsic
            .iter()
            .filter(|h| {
                p.wanted_jsic
                    .all_codes()
                    .any(|w| w.division() == h.division() && w.division().is_some())
            })
            .map(|j| {
                let name = ctx
                    .taxonomy
                    .jsic(j.as_str())
                    .map(|e| e.name.clone())
                    .unwrap_or_default();
                format!("{j} {name}")
            })
            .collect();
        let (distance_km, same_municipality) = match p.origin {
            Some((o, om)) => (
                signals::geography(&ctx.match_config.geography, o, om, f).1,
                om == Some(f.municipality),
            ),
            None => (None, false),
        };
        let municipality = ctx
            .taxonomy
            .municipality(f.municipality)
            .map(|m| m.name.clone());
        let why = sentence(
            &ctx.match_config.relations,
            &concepts,
            &terms,
            &equipment,
            &industry_codes,
            distance_km,
            same_municipality,
            municipality.as_deref(),
            row,
        );
        Explanation {
            why,
            terms,
            concepts,
            equipment,
            industry_codes,
            distance_km,
            same_municipality,
            municipality,
        }
    }
}

/// The need's terms in the company's fields, each field's in order of
/// first occurrence, with their offsets.
fn term_evidence(e: &Cited<'_>, p: &PreparedNeed) -> Vec<Evidence> {
    let want: HashSet<&str> = p.terms.iter().map(|t| t.term.as_str()).collect();
    FIELDS
        .iter()
        .zip(&e.terms)
        .flat_map(|(field, spans)| {
            spans
                .iter()
                .filter(|s| want.contains(s.term.as_ref()))
                .map(|s| Evidence {
                    term: s.term.clone().into_owned(),
                    field: (*field).into(),
                    text: s.text.to_owned(),
                    start: s.start,
                    end: s.end,
                })
        })
        .collect()
}

/// "why you", from the strongest evidence first.
#[allow(clippy::too_many_arguments)]
fn sentence(
    relations: &RelationWeights,
    concepts: &[ConceptEvidence],
    terms: &[Evidence],
    equipment: &[String],
    codes: &[String],
    distance: Option<f64>,
    same_municipality: bool,
    municipality: Option<&str>,
    row: &[f32; N_SIGNALS],
) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut shown: Vec<String> = concepts
        .iter()
        .filter(|c| relations.of(c.relation) * c.weight >= WHY_MIN_SCORE)
        .take(3)
        .map(|c| {
            if c.source.is_empty() || c.source == c.have {
                c.have.clone()
            } else {
                format!("{}（{}）", c.have, c.source)
            }
        })
        .collect();
    shown.dedup();
    if !shown.is_empty() {
        parts.push(format!("{}に対応", shown.join("・")));
    } else if !terms.is_empty() {
        let words: Vec<&str> = terms.iter().take(4).map(|t| t.text.as_str()).collect();
        parts.push(format!("プロフィールに「{}」の記載", words.join("」「")));
    }
    if !equipment.is_empty() {
        parts.push(format!("希望設備（{}）を保有", equipment.join("・")));
    }
    if !codes.is_empty() && row[signals::Signal::Jsic.column()] >= 0.5 {
        parts.push(format!("業種 {}", codes[0]));
    }
    match (same_municipality, distance, municipality) {
        (true, _, Some(m)) => parts.push(format!("同じ{m}内の企業")),
        (false, Some(d), Some(m)) if d <= 50.0 => parts.push(format!("{m}（約{d:.0}km）")),
        _ => {}
    }
    if parts.is_empty() {
        return "関連する記載がプロフィールにあります".into();
    }
    format!("{}。", parts.join("、"))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Arc;

    use rayon::prelude::*;

    use super::*;
    use crate::index::evidence::StoredEvidence;
    use crate::index::schema::CompanyAnalysis;
    use crate::index::Role;
    use crate::matching::Ablation;
    use crate::{fixtures, Context};

    impl Engine {
        /// How explanations found their evidence before it was stored:
        /// the company's record fetched and its texts analyzed again for
        /// every explanation. Kept verbatim as the reference for the stored path.
        fn explain_reanalyzing(
            &self,
            v: &View,
            p: &PreparedNeed,
            f: &CompanyFeatures,
            row: &[f32; N_SIGNALS],
        ) -> Result<Explanation, EngineError> {
            let ctx = &self.ctx;
            let company = self.stored_company(v, f.id.as_str())?;
            let want: HashSet<&str> = p.terms.iter().map(|t| t.term.as_str()).collect();
            let mut terms = Vec::new();
            let mut concepts = Vec::new();
            if let Some(c) = &company {
                let eq = crate::index::schema::equipment_text(c);
                let caps = ctx.analyzer.analyze_text(&c.capabilities, false);
                let products = c
                    .products
                    .as_ref()
                    .map(|p| ctx.analyzer.analyze_text(p, false));
                let eq_analyzed = ctx.analyzer.analyze_text(&eq, false);
                for (field, text, analyzed) in [
                    ("capabilities", c.capabilities.as_str(), Some(&caps)),
                    (
                        "products",
                        c.products.as_deref().unwrap_or(""),
                        products.as_ref(),
                    ),
                    ("equipment", eq.as_str(), Some(&eq_analyzed)),
                ] {
                    let Some(analyzed) = analyzed else { continue };
                    let mut seen = HashSet::new();
                    for t in analyzed.scoped() {
                        if want.contains(t.term.as_str()) && seen.insert(t.term.as_str()) {
                            terms.push(Evidence {
                                term: t.term.clone(),
                                field: field.into(),
                                text: text[t.start..t.end].to_owned(),
                                start: t.start,
                                end: t.end,
                            });
                        }
                    }
                }
                let (_, hits) = signals::concept_similarity(
                    &ctx.ontology,
                    &ctx.match_config.relations,
                    &p.concepts,
                    &f.concepts,
                );
                let mut mentions = ctx.ontology.extract_analyzed(&c.capabilities, &caps);
                if let (Some(pr), Some(a)) = (&c.products, &products) {
                    mentions.extend(ctx.ontology.extract_analyzed(pr, a));
                }
                for e in &c.equipment {
                    let count = e.count.map(|n| format!(" ×{n}")).unwrap_or_default();
                    for mut m in ctx.ontology.extract_equipment(&e.name) {
                        m.evidence = format!("equipment: {}{count}", e.name);
                        mentions.push(m);
                    }
                }
                for h in hits {
                    let source = mentions
                        .iter()
                        .filter(|m| m.concept == h.have && m.weight > 0.0)
                        .max_by(|a, b| a.weight.total_cmp(&b.weight))
                        .map(|m| m.evidence.clone())
                        .unwrap_or_default();
                    concepts.push(ConceptEvidence {
                        wanted: ctx.ontology.concept(h.want).name.clone(),
                        have: ctx.ontology.concept(h.have).name.clone(),
                        relation: h.relation,
                        weight: h.mention,
                        source,
                    });
                }
            }
            Ok(self.explanation(p, f, row, terms, concepts))
        }
    }

    /// Every fixture need against every fixture company (not only the
    /// matches): the explanation from the stored evidence is the one the
    /// re-analysis gave; and the evidence an explanation computes when a
    /// document has none (the fallback) is the evidence indexing stored.
    #[test]
    fn stored_evidence_explains_like_reanalysis() {
        let ctx = Arc::new(Context::load(&fixtures::fixtures_dir()).expect("fixtures context"));
        let e = Engine::in_memory(ctx.clone()).expect("engine");
        fixtures::load_into(&e, &fixtures::fixtures_dir()).expect("load fixtures");
        let v = e.view();
        let slots = e.company_slots();
        let needs = e.needs();
        assert!(slots.len() > 200 && needs.len() > 50);

        let mut bytes = 0;
        for &slot in &slots {
            let f = v.records.companies.get(slot).expect("live slot");
            let id = f.id.as_str();
            let d = e.stored_doc(&v, id).expect("fetch").expect("document");
            let raw = crate::index::first_bytes(&d, e.companies.fields.evidence).expect("stored");
            bytes += raw.len();
            let stored = StoredEvidence::decode(raw).expect("decodes");
            // Explanations below read it (same ontology), not the fallback.
            assert_eq!(stored.ontology, ctx.ontology.fingerprint());
            let c = e.stored_company(&v, id).expect("fetch").expect("record");
            let a = CompanyAnalysis::new(&c, &ctx.analyzer, &ctx.ontology);
            // What the fallback computes is what indexing stored.
            assert_eq!(
                stored,
                StoredEvidence::new(&c, &a, ctx.ontology.fingerprint()),
                "{id}"
            );
            let eq = crate::index::schema::equipment_text(&c);
            let cited = stored.resolve(&c, &eq).expect("fits its record");
            // Every concept an explanation may cite has its evidence.
            for &(k, _) in &f.concepts.0 {
                assert!(cited.concept_source(k).is_some(), "{id}: concept {k}");
            }
        }
        eprintln!(
            "evidence: {bytes} bytes for {} companies ({} per company)",
            slots.len(),
            bytes / slots.len()
        );

        let mut cited = (0, 0);
        for n in &needs {
            let p = e.prepare_need(&v, n, Ablation::FULL, Role::Coordinator);
            let (rows, _) = e.rescore_slots(n, &slots);
            let got: Vec<(Explanation, Explanation)> = slots
                .par_iter()
                .enumerate()
                .map(|(i, &slot)| {
                    let f = v.records.companies.get(slot).expect("live slot");
                    let mut row = [0.0; N_SIGNALS];
                    for (k, x) in row.iter_mut().enumerate() {
                        *x = rows[[i, k]];
                    }
                    let new = e.explain(&v, &p, f, &row).expect("explain");
                    let old = e.explain_reanalyzing(&v, &p, f, &row).expect("old explain");
                    (new, old)
                })
                .collect();
            for ((new, old), slot) in got.iter().zip(&slots) {
                assert_eq!(new, old, "need {} company slot {slot}", n.id);
                cited.0 += new.terms.len();
                cited.1 += new.concepts.len();
            }
        }
        // The comparison saw evidence, not only empty explanations.
        assert!(cited.0 > 1000 && cited.1 > 1000, "{cited:?}");
    }
}
