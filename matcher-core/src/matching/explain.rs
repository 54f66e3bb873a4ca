//! Explanations: the evidence behind a match, and one sentence a
//! coordinator can say to the company ("why you").

use std::collections::HashSet;

use serde::Serialize;

use super::signals::{self, N_SIGNALS};
use super::weights::RelationWeights;
use super::{MatchError, Matcher, PreparedNeed};
use crate::analysis::scope::ScopeKind;
use crate::concepts::{ConceptId, ConceptSet, Mention, Relation};
use crate::index::evidence::{Cited, FIELDS};
use crate::index::records::CompanyFeatures;
use crate::index::View;

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

/// Whether a company meets one requirement the need states.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RequirementVerdict {
    /// What the need asks for: a concept's name, or a machine it names.
    pub wanted: String,
    /// The concept's kind (`process`, `service`, `product`, `material`,
    /// `market`, `certification`), or `equipment` for a machine.
    pub kind: String,
    /// Only a nice-to-have (できれば, 尚可): not counted in
    /// [`Explanation::met`] and [`Explanation::required`].
    pub optional: bool,
    /// The company meets it: it offers the concept itself, a narrower or a
    /// broader one firmly enough (relation strength × mention weight at
    /// least `requirements.met_at`; outsourced work or a sibling is not
    /// enough), or owns the machine.
    pub met: bool,
    /// What of the company's comes closest: a concept's name or a machine;
    /// none when nothing relates.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub by: Option<String>,
    /// How `by` stands to the wanted concept (none for a machine).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub relation: Option<Relation>,
    /// Relation strength × the company's mention weight (1 for an owned
    /// machine), 0 when nothing relates.
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1))]
    pub strength: f32,
}

/// A requirement the need states in words, as matching judged it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Stated {
    /// The concept asked for.
    pub concept: ConceptId,
    /// Named only in a nice-to-have.
    pub optional: bool,
}

/// The requirements among a need's judged concepts: those stated in words
/// (a head word's guess is not shown to a coordinator as a requirement),
/// required when one such mention is in the request itself, optional when
/// only nice-to-haves name them.
pub(crate) fn stated(judged: &ConceptSet, mentions: &[Mention]) -> Vec<Stated> {
    judged
        .0
        .iter()
        .filter(|&&(_, w)| w > 0.0)
        .filter_map(|&(concept, _)| {
            let mut named = mentions
                .iter()
                .filter(|m| m.concept == concept && !m.head_word && m.weight > 0.0)
                .peekable();
            named.peek()?;
            let required = named.any(|m| m.scope != Some(ScopeKind::Optional));
            Some(Stated {
                concept,
                optional: !required,
            })
        })
        .collect()
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
    /// Each requirement the need states (its concepts named in words, then
    /// the machines it names), met or lacking: required ones first.
    pub requirements: Vec<RequirementVerdict>,
    /// How many of the required (not optional) requirements are met.
    pub met: usize,
    /// How many requirements are required.
    pub required: usize,
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

impl Matcher<'_> {
    /// The explanation of company `f` for need `p` in view `v`. Term and
    /// concept evidence come from what indexing stored with the company's
    /// document (see `index::evidence`); nothing is analyzed here.
    pub(crate) fn explain(
        &self,
        v: &View,
        p: &PreparedNeed,
        f: &CompanyFeatures,
        row: &[f32; N_SIGNALS],
    ) -> Result<Explanation, MatchError> {
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
            &self.config.relations,
            &self.config.requirements,
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
                signals::geography(&self.config.geography, o, om, f).1,
                om == Some(f.municipality),
            ),
            None => (None, false),
        };
        let municipality = ctx
            .taxonomy
            .municipality(f.municipality)
            .map(|m| m.name.clone());
        let requirements = self.verdicts(p, &concepts, &equipment);
        let required = requirements.iter().filter(|r| !r.optional).count();
        let met = requirements.iter().filter(|r| !r.optional && r.met).count();
        let why = sentence(
            &self.config.relations,
            &requirements,
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
            requirements,
            met,
            required,
            equipment,
            industry_codes,
            distance_km,
            same_municipality,
            municipality,
        }
    }
}

impl Matcher<'_> {
    /// Each stated requirement of `p` judged against the company's concept
    /// evidence and its matching machines: required first, then optional,
    /// each in the need's order.
    fn verdicts(
        &self,
        p: &PreparedNeed,
        concepts: &[ConceptEvidence],
        equipment: &[String],
    ) -> Vec<RequirementVerdict> {
        let ontology = &self.ctx.ontology;
        let config = &self.config;
        let mut out: Vec<RequirementVerdict> = p
            .stated
            .iter()
            .map(|s| {
                let concept = ontology.concept(s.concept);
                let hit = concepts.iter().find(|c| c.wanted == concept.name);
                let strength = hit.map_or(0.0, |h| config.relations.of(h.relation) * h.weight);
                RequirementVerdict {
                    wanted: concept.name.clone(),
                    kind: concept.kind.clone(),
                    optional: s.optional,
                    met: hit.is_some() && strength >= config.requirements.met_at,
                    by: hit.map(|h| h.have.clone()),
                    relation: hit.map(|h| h.relation),
                    strength,
                }
            })
            .collect();
        for (wanted, key) in p.need.equipment.iter().zip(&p.wanted_equipment) {
            let owned = equipment.iter().any(|e| e == key);
            out.push(RequirementVerdict {
                wanted: wanted.clone(),
                kind: "equipment".into(),
                optional: false,
                met: owned,
                by: owned.then(|| wanted.clone()),
                relation: None,
                strength: if owned { 1.0 } else { 0.0 },
            });
        }
        out.sort_by_key(|r| r.optional);
        out
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
    requirements: &[RequirementVerdict],
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
    let required: Vec<&RequirementVerdict> = requirements.iter().filter(|r| !r.optional).collect();
    let lacking: Vec<&str> = required
        .iter()
        .filter(|r| !r.met)
        .map(|r| r.wanted.as_str())
        .collect();
    if required.len() >= 2 && lacking.is_empty() {
        parts.push(format!("要件{}件すべてを満たす", required.len()));
    } else if !lacking.is_empty() {
        parts.push(format!(
            "要件{}件中{}件を満たす（不足: {}）",
            required.len(),
            required.len() - lacking.len(),
            lacking.join("・")
        ));
    }
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
    use crate::Engine;
    use crate::{fixtures, Context};

    impl Matcher<'_> {
        /// How explanations found their evidence before it was stored:
        /// the company's record fetched and its texts analyzed again for
        /// every explanation. Kept verbatim as the reference for the stored path.
        fn explain_reanalyzing(
            &self,
            v: &View,
            p: &PreparedNeed,
            f: &CompanyFeatures,
            row: &[f32; N_SIGNALS],
        ) -> Result<Explanation, MatchError> {
            let ctx = &self.ctx;
            let company = v.stored_company(f.id.as_str())?;
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
                    &self.config.relations,
                    &self.config.requirements,
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

    /// Each requirement a need states is judged for every match: required
    /// and optional told apart, a head word's guess left out, the method
    /// being replaced not asked for, "met" agreeing with the concept
    /// evidence, and the sentence naming exactly what is lacking.
    #[test]
    fn explanations_judge_each_stated_requirement() {
        let dir = fixtures::fixtures_dir();
        let ctx = Arc::new(Context::load(&dir).expect("fixtures context"));
        let e = Engine::in_memory(ctx.clone()).expect("engine");
        fixtures::load_into(&e, &dir).expect("load fixtures");
        let need: crate::Need = serde_json::from_value(serde_json::json!({
            "id": "t-req", "kind": "subcontracting", "title": "チタン部品の5軸加工",
            "text": "いま溶接で作っている医療機器向けのチタン製部品を、5軸加工で削り出してくれる会社を探しています。アルマイトもできれば尚可です。",
            "equipment": ["5軸マシニングセンタ"],
        }))
        .expect("need");
        let opts = crate::MatchOptions {
            top_k: 20,
            ..Default::default()
        };
        let r = e
            .matcher()
            .match_need(&need, Role::Coordinator, &opts)
            .expect("match");
        assert!(r.matches.len() >= 10);
        let o = &ctx.ontology;
        let name = |id: &str| o.concept(o.id(id).expect("concept")).name.clone();
        let (mut all_met, mut some_lacking) = (0, 0);
        for m in &r.matches {
            let x = m.explanation.as_ref().expect("explained");
            let wanted: Vec<(&str, bool)> = x
                .requirements
                .iter()
                .map(|q| (q.wanted.as_str(), q.optional))
                .collect();
            for required in [name("titanium"), name("medical_device"), name("five_axis")] {
                assert!(wanted.contains(&(required.as_str(), false)), "{wanted:?}");
            }
            assert!(
                wanted.contains(&(name("anodizing").as_str(), true)),
                "{wanted:?}"
            );
            assert!(
                wanted.contains(&("5軸マシニングセンタ", false)),
                "{wanted:?}"
            );
            // the method the owner replaces is not a requirement
            assert!(
                !wanted.iter().any(|(w, _)| *w == name("welding")),
                "{wanted:?}"
            );
            // required ones first
            let first_optional = x.requirements.iter().position(|q| q.optional);
            assert!(first_optional.is_none_or(|i| x.requirements[i..].iter().all(|q| q.optional)));
            assert_eq!(
                x.required,
                x.requirements.iter().filter(|q| !q.optional).count()
            );
            for q in &x.requirements {
                if q.kind == "equipment" {
                    // the need names one machine
                    assert_eq!(q.met, !x.equipment.is_empty());
                    continue;
                }
                let ev = x.concepts.iter().find(|c| c.wanted == q.wanted);
                assert_eq!(q.by.as_ref(), ev.map(|c| &c.have), "{}", q.wanted);
                let strength = ev.map_or(0.0, |c| {
                    e.match_config().relations.of(c.relation) * c.weight
                });
                assert_eq!(q.met, strength >= e.match_config().requirements.met_at);
            }
            let lacking: Vec<&str> = x
                .requirements
                .iter()
                .filter(|q| !q.optional && !q.met)
                .map(|q| q.wanted.as_str())
                .collect();
            assert_eq!(x.met, x.required - lacking.len());
            if lacking.is_empty() {
                all_met += 1;
                assert!(
                    x.why
                        .starts_with(&format!("要件{}件すべてを満たす", x.required)),
                    "{}",
                    x.why
                );
            } else {
                some_lacking += 1;
                let said = format!("（不足: {}）", lacking.join("・"));
                assert!(x.why.contains(&said), "{} / {said}", x.why);
            }
        }
        // the fixtures hold both kinds of candidate for this need
        assert!(all_met > 0 && some_lacking > 0, "{all_met} {some_lacking}");
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
        let m = e.matcher();
        let v = m.view();
        let slots = m.company_slots();
        let needs = e.needs(Role::Coordinator);
        assert!(slots.len() > 200 && needs.len() > 50);

        let mut bytes = 0;
        for &slot in &slots {
            let f = v.records.companies.get(slot).expect("live slot");
            let id = f.id.as_str();
            let d = v.stored_doc(id).expect("fetch").expect("document");
            let raw = crate::index::first_bytes(&d, v.company_fields().evidence).expect("stored");
            bytes += raw.len();
            let stored = StoredEvidence::decode(raw).expect("decodes");
            // Explanations below read it (same ontology), not the fallback.
            assert_eq!(stored.ontology, ctx.ontology.fingerprint());
            let c = v.stored_company(id).expect("fetch").expect("record");
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
            let p = m.prepare_need(&v, n, Ablation::FULL, Role::Coordinator);
            let (rows, _) = m.rescore_slots(n, &slots);
            let got: Vec<(Explanation, Explanation)> = slots
                .par_iter()
                .enumerate()
                .map(|(i, &slot)| {
                    let f = v.records.companies.get(slot).expect("live slot");
                    let mut row = [0.0; N_SIGNALS];
                    for (k, x) in row.iter_mut().enumerate() {
                        *x = rows[[i, k]];
                    }
                    let new = m.explain(&v, &p, f, &row).expect("explain");
                    let old = m.explain_reanalyzing(&v, &p, f, &row).expect("old explain");
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
