//! Explanations: the evidence behind a match, and one sentence a
//! coordinator can say to the company ("why you").

use std::collections::HashSet;

use serde::Serialize;

use super::signals::{self, N_SIGNALS};
use super::PreparedNeed;
use crate::index::records::CompanyFeatures;
use crate::index::{Engine, EngineError, View};

/// A need term found in a company field, with offsets into that field's text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    pub term: String,
    pub field: String,
    pub text: String,
    pub start: usize,
    pub end: usize,
}

/// A need concept met by a company concept.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConceptEvidence {
    /// What the need asks for (concept name).
    pub wanted: String,
    /// What the company has (concept name).
    pub have: String,
    /// exact, narrower, broader or sibling.
    pub relation: &'static str,
    /// Where the company's concept comes from: a phrase of its text or its equipment.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// One sentence for the coordinator.
    pub why: String,
    pub terms: Vec<Evidence>,
    pub concepts: Vec<ConceptEvidence>,
    pub equipment: Vec<String>,
    pub industry_codes: Vec<String>,
    pub distance_km: Option<f64>,
    pub same_municipality: bool,
    pub municipality: Option<String>,
}

fn relation_name(r: f32) -> &'static str {
    if r >= 1.0 {
        "exact"
    } else if r >= 0.8 {
        "narrower"
    } else if r >= 0.5 {
        "broader"
    } else {
        "sibling"
    }
}

impl Engine {
    pub(crate) fn explain(
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
            // Each text is analyzed once: for its term evidence and its concepts.
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
            // Concept evidence: which phrase or machine gave the company each concept.
            let (_, hits) = signals::concept_similarity(&ctx.ontology, &p.concepts, &f.concepts);
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
                    relation: relation_name(h.relation),
                    source,
                });
            }
        }
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
                    .iter()
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
            Some((o, om)) => (signals::geography(o, om, f).1, om == Some(f.municipality)),
            None => (None, false),
        };
        let municipality = ctx
            .taxonomy
            .municipality(f.municipality)
            .map(|m| m.name.clone());
        let why = sentence(
            &concepts,
            &terms,
            &equipment,
            &industry_codes,
            distance_km,
            same_municipality,
            municipality.as_deref(),
            row,
        );
        Ok(Explanation {
            why,
            terms,
            concepts,
            equipment,
            industry_codes,
            distance_km,
            same_municipality,
            municipality,
        })
    }
}

/// "why you", from the strongest evidence first.
#[allow(clippy::too_many_arguments)]
fn sentence(
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
        .filter(|c| c.relation != "sibling")
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
    if !codes.is_empty() && row[3] >= 0.5 {
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
