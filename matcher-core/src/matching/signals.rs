//! The rescoring signals, each a pure function into [0, 1].
//!
//! Each signal also says whether it *applies*: a need that names no
//! equipment has no equipment signal, and its weight is shared among the
//! signals that do apply rather than dragging every score down.

use super::weights::{GeographyDecay, RelationWeights, RequirementWeights};
use crate::concepts::{ConceptId, ConceptSet, Ontology, Relation};
use crate::index::records::CompanyFeatures;
use crate::model::{Date, GeoPoint, JsicCode, MunicipalityCode};

/// A rescoring signal. Its discriminant is its column in the signal
/// matrix and its index in a [`SignalRow`] and in the weights, so no code
/// addresses a signal by a bare number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    /// The need's words in the profile.
    Text = 0,
    /// The need's concepts met by the company's.
    Concepts = 1,
    /// The machines the need names.
    Equipment = 2,
    /// The company's industry against the wanted ones.
    Jsic = 3,
    /// Nearness to the need's origin.
    Geography = 4,
    /// How recently the profile was confirmed.
    Freshness = 5,
    /// Company size against the size the need hints at.
    Size = 6,
}

impl Signal {
    /// Every signal, in column order.
    pub const ALL: [Signal; 7] = [
        Signal::Text,
        Signal::Concepts,
        Signal::Equipment,
        Signal::Jsic,
        Signal::Geography,
        Signal::Freshness,
        Signal::Size,
    ];

    /// Its name in configuration and in answers.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Text => "text",
            Signal::Concepts => "concepts",
            Signal::Equipment => "equipment",
            Signal::Jsic => "jsic",
            Signal::Geography => "geography",
            Signal::Freshness => "freshness",
            Signal::Size => "size",
        }
    }

    /// Its column in the signal matrix.
    pub fn column(self) -> usize {
        self as usize
    }
}

/// How many signals there are.
pub const N_SIGNALS: usize = Signal::ALL.len();

/// One value per signal (a row of the signal matrix, the weights, or
/// which signals apply), indexed by [`Signal`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PerSignal<T>(pub [T; N_SIGNALS]);

impl<T> std::ops::Index<Signal> for PerSignal<T> {
    type Output = T;
    fn index(&self, s: Signal) -> &T {
        &self.0[s.column()]
    }
}

impl<T> std::ops::IndexMut<Signal> for PerSignal<T> {
    fn index_mut(&mut self, s: Signal) -> &mut T {
        &mut self.0[s.column()]
    }
}

/// A candidate's signal values.
pub type SignalRow = PerSignal<f32>;

/// JSIC proximity: same class 1.0 > group 0.75 > division 0.5 > section 0.25.
/// `section_of` gives a code's section letter (A–T) as a byte: this runs for
/// every candidate, so the lookup must not allocate.
pub fn jsic_proximity(
    want: &[JsicCode],
    have: &[JsicCode],
    section_of: impl Fn(&JsicCode) -> Option<u8>,
) -> f32 {
    let mut best = 0.0f32;
    for w in want {
        let sw = section_of(w);
        for h in have {
            best = best.max(code_proximity(w.as_str(), sw, h.as_str(), section_of(h)));
        }
    }
    best
}

/// [`jsic_proximity`] of one pair of codes, their sections given.
fn code_proximity(w: &str, sw: Option<u8>, h: &str, sh: Option<u8>) -> f32 {
    let common = w.bytes().zip(h.bytes()).take_while(|(a, b)| a == b).count();
    let digits = w.len().min(h.len());
    let same_section = sw.is_some() && sw == sh;
    if w.len() == 1 || h.len() == 1 {
        // a section letter against a code
        if same_section {
            0.25
        } else {
            0.0
        }
    } else if common >= 4 || (common == digits && digits >= 2) {
        // same class, or the wanted code covers the company's
        match digits {
            4 => 1.0,
            3 => 0.85,
            _ => 0.7,
        }
    } else if common == 3 {
        0.75
    } else if common == 2 {
        0.5
    } else if same_section {
        0.25
    } else {
        0.0
    }
}

/// The industries a need wants, as groups of JSIC codes with a weight:
/// the need's own `industry_codes` (one group), or, when it names none,
/// one group per recognised requirement (a process, service or product
/// concept with JSIC hints in the ontology: 焼付塗装 → 2464 …), weighted
/// as the requirement. A company's JSIC signal is the weighted mean of
/// its proximity to each group, so a need for 切削 and 塗装 prefers a
/// shop that is both over one that is either.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WantedJsic {
    groups: Vec<(Vec<JsicCode>, f32)>,
}

impl WantedJsic {
    /// Codes the need (or its owner) names: one group.
    pub fn codes(codes: &[JsicCode]) -> WantedJsic {
        if codes.is_empty() {
            return WantedJsic::default();
        }
        WantedJsic {
            groups: vec![(codes.to_vec(), 1.0)],
        }
    }

    /// The JSIC hints of a need's requirements. Materials, markets and
    /// certifications say what a partner works with, whom it serves or
    /// what it holds, not what industry it is in: they give no group.
    pub fn from_concepts(ontology: &Ontology, need: &ConceptSet) -> WantedJsic {
        let groups = need
            .0
            .iter()
            .filter(|&&(_, w)| w > 0.0)
            .filter_map(|&(c, w)| {
                let concept = ontology.concept(c);
                let kind_ok = matches!(concept.kind.as_str(), "process" | "service" | "product");
                (kind_ok && !concept.jsic.is_empty()).then(|| (concept.jsic.clone(), w))
            })
            .collect();
        WantedJsic { groups }
    }

    /// No wanted industry: the JSIC signal does not apply.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Every wanted code (for explanations).
    pub fn all_codes(&self) -> impl Iterator<Item = &JsicCode> {
        self.groups.iter().flat_map(|(g, _)| g.iter())
    }

    /// The weighted mean of [`jsic_proximity`] to each group.
    pub fn proximity(
        &self,
        have: &[JsicCode],
        section_of: impl Fn(&JsicCode) -> Option<u8>,
    ) -> f32 {
        // Each code's section once per call, not once per pair: this runs
        // for every candidate against every wanted code.
        const STACK: usize = 8;
        if have.len() > STACK {
            return self.proximity_slow(have, section_of);
        }
        let mut hs = [None; STACK];
        for (s, h) in hs.iter_mut().zip(have) {
            *s = section_of(h);
        }
        let mut num = 0.0f32;
        let mut den = 0.0f32;
        for (codes, w) in &self.groups {
            let mut best = 0.0f32;
            for c in codes {
                let sc = section_of(c);
                for (h, &sh) in have.iter().zip(&hs) {
                    best = best.max(code_proximity(c.as_str(), sc, h.as_str(), sh));
                }
            }
            num += w * best;
            den += w;
        }
        if den > 0.0 {
            num / den
        } else {
            0.0
        }
    }

    /// [`WantedJsic::proximity`] pair by pair (companies with many codes).
    fn proximity_slow(
        &self,
        have: &[JsicCode],
        section_of: impl Fn(&JsicCode) -> Option<u8>,
    ) -> f32 {
        let mut num = 0.0f32;
        let mut den = 0.0f32;
        for (codes, w) in &self.groups {
            num += w * jsic_proximity(codes, have, &section_of);
            den += w;
        }
        if den > 0.0 {
            num / den
        } else {
            0.0
        }
    }
}

/// Distance decay with a bonus for the same municipality (域内連携).
pub fn geography(
    decay: &GeographyDecay,
    from: GeoPoint,
    from_municipality: Option<MunicipalityCode>,
    to: &CompanyFeatures,
) -> (f32, Option<f64>) {
    let Some(loc) = to.location else {
        return (0.0, None);
    };
    let d = from.distance_km(loc);
    let mut s = (-d / decay.decay_km as f64).exp() as f32;
    if from_municipality == Some(to.municipality) {
        s = (s + decay.same_municipality_bonus).min(1.0);
    }
    (s, Some(d))
}

/// Freshness: 1 within a year, decaying to 0.3 at the stale cutoff and below.
pub fn freshness(updated: Option<Date>, today: Date, stale_months: u32) -> f32 {
    let Some(u) = updated else { return 0.3 };
    let age_days = (today.days() - u.days()).max(0) as f32;
    let fresh = 365.0;
    let stale = stale_months as f32 * 30.44;
    if age_days <= fresh {
        1.0
    } else if age_days >= stale {
        0.3
    } else {
        1.0 - 0.7 * (age_days - fresh) / (stale - fresh).max(1.0)
    }
}

/// What size of partner the need implies, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeHint {
    /// 量産, 大ロット: capacity matters.
    Volume,
    /// 試作, 1個から, 小ロット: a small, flexible shop is fine.
    Prototype,
}

/// The size of partner a need's text implies: words of volume or of
/// prototyping, or the quantity it states (月産5,000個, 年間十万個, 試作3台,
/// 200個), and none when it says both or neither.
pub fn size_hint(text: &str) -> Option<SizeHint> {
    const VOLUME: &[&str] = &["量産", "大ロット", "月産", "年間数万", "万個"];
    const PROTO: &[&str] = &["試作", "1個から", "一品", "小ロット", "単品"];
    let text = crate::analysis::normalize_key(text);
    let mut v = VOLUME.iter().any(|w| text.contains(w));
    let mut p = PROTO.iter().any(|w| text.contains(w));
    for q in quantities(&text) {
        match q {
            Quantity::Lot(n) if n >= 1_000 => v = true,
            Quantity::Lot(n) if n <= 50 => p = true,
            Quantity::PerMonth(n) if n >= 500 => v = true,
            Quantity::PerYear(n) if n >= 5_000 => v = true,
            _ => {}
        }
    }
    match (v, p) {
        (true, false) => Some(SizeHint::Volume),
        (false, true) => Some(SizeHint::Prototype),
        _ => None,
    }
}

/// A quantity a need states, by its period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quantity {
    /// A lot, a batch or a total (200個, 試作3台).
    Lot(u64),
    /// Per month (月産5000個, 月に1万個, 毎月300本).
    PerMonth(u64),
    /// Per year (年間十万個, 年産2万台).
    PerYear(u64),
}

/// Counters that make a number a quantity of parts.
const COUNTERS: &[&str] = &[
    "個",
    "台",
    "本",
    "枚",
    "セット",
    "set",
    "pcs",
    "ケ",
    "点",
    "組",
    "缶",
    "袋",
    "箱",
];

/// The quantities in `text` (normalized: half-width digits): a number in
/// Arabic digits (with thousands commas) or kanji numerals (三百, 一万,
/// 1万) followed by a counter; per month or per year when 月/年 stands in
/// the few characters before it.
fn quantities(text: &str) -> Vec<Quantity> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        let Some((n, end)) = number_at(&chars, i) else {
            i += 1;
            continue;
        };
        i = end.max(start + 1);
        let rest: String = chars[end..chars.len().min(end + 4)].iter().collect();
        if !COUNTERS.iter().any(|c| rest.starts_with(c)) {
            continue;
        }
        let before: String = chars[start.saturating_sub(6)..start].iter().collect();
        out.push(if before.contains('月') {
            Quantity::PerMonth(n)
        } else if before.contains('年') {
            Quantity::PerYear(n)
        } else {
            Quantity::Lot(n)
        });
    }
    out
}

/// The number starting at `chars[i]`, if any, and where it ends: digits
/// (1,000), digits with 万/千 (1万, 2千), or kanji numerals (三百, 十万).
fn number_at(chars: &[char], i: usize) -> Option<(u64, usize)> {
    let kanji = |c: char| "〇一二三四五六七八九".find(c).map(|b| (b / 3) as u64);
    let unit = |c: char| match c {
        '十' => Some(10u64),
        '百' => Some(100),
        '千' => Some(1_000),
        _ => None,
    };
    let (mut total, mut section, mut digits) = (0u64, 0u64, None::<u64>);
    let mut arabic = false;
    let mut j = i;
    while let Some(&c) = chars.get(j) {
        if let Some(d) = c.to_digit(10) {
            arabic = true;
            digits = Some(
                digits
                    .unwrap_or(0)
                    .saturating_mul(10)
                    .saturating_add(u64::from(d)),
            );
        } else if c == ','
            && digits.is_some()
            && chars.get(j + 1).is_some_and(|n| n.is_ascii_digit())
        {
            // thousands separator
        } else if let Some(d) = kanji(c) {
            digits = Some(digits.unwrap_or(0).saturating_mul(10).saturating_add(d));
        } else if let Some(u) = unit(c) {
            section = section.saturating_add(digits.take().unwrap_or(1).saturating_mul(u));
        } else if c == '万' && (digits.is_some() || section > 0) {
            let n = section.saturating_add(digits.take().unwrap_or(0));
            total = total.saturating_add(n.saturating_mul(10_000));
            section = 0;
        } else {
            break;
        }
        j += 1;
    }
    if j == i {
        return None;
    }
    let n = total
        .saturating_add(section)
        .saturating_add(digits.unwrap_or(0));
    // 一本化, 一枚岩, 二台目: a lone kanji digit is rarely a quantity
    (n > 0 && (arabic || n >= 10)).then_some((n, j))
}

/// How well a company of `employees` fits `hint`, 0 to 1 (0.5 when the
/// size is unknown: neither rewarded nor punished).
pub fn size_fit(hint: SizeHint, employees: Option<u32>) -> f32 {
    let Some(n) = employees else { return 0.5 };
    match hint {
        SizeHint::Volume => ((n as f32).ln_1p() / 100f32.ln_1p()).min(1.0),
        SizeHint::Prototype => {
            if n <= 50 {
                1.0
            } else {
                0.7
            }
        }
    }
}

/// Wanted equipment found among the company's (normalized) equipment names.
pub fn equipment_match<'a>(wanted: &'a [String], have: &[String]) -> (f32, Vec<&'a str>) {
    if wanted.is_empty() {
        return (0.0, Vec::new());
    }
    let found: Vec<&str> = wanted
        .iter()
        .filter(|w| {
            have.iter()
                .any(|h| h.contains(w.as_str()) || w.contains(h.as_str()) && h.chars().count() >= 3)
        })
        .map(String::as_str)
        .collect();
    (found.len() as f32 / wanted.len() as f32, found)
}

/// One need concept and how the company meets it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConceptHit {
    /// The need's concept.
    pub want: ConceptId,
    /// The company's concept that meets it.
    pub have: ConceptId,
    /// Where `have` stands to `want` in the hierarchy.
    pub relation: Relation,
    /// The company's mention weight of `have` (≤ 1: lower when it comes
    /// from equipment, a clause that weakens it, or outsourcing).
    pub mention: f32,
}

impl ConceptHit {
    /// What the hit is worth: the relation's strength × the mention weight.
    pub fn score(&self, relations: &RelationWeights) -> f32 {
        relations.of(self.relation) * self.mention
    }
}

/// How well a company meets a need's requirements, as one number: the
/// weighted mean of each requirement's best strength, blended with the
/// weighted share of requirements met (`all_met` of it). `parts` gives each
/// requirement's weight and its best strength (0 when unmet).
fn requirement_score(req: &RequirementWeights, parts: impl Iterator<Item = (f32, f32)>) -> f32 {
    let (mut num, mut met, mut den) = (0.0f32, 0.0f32, 0.0f32);
    for (weight, best) in parts {
        den += weight;
        if best > 0.0 {
            num += weight * best;
            if best >= req.met_at {
                met += weight;
            }
        }
    }
    if den == 0.0 {
        0.0
    } else {
        // at all_met = 0 exactly num / den (1 × x + 0 × y = x for finite y)
        (1.0 - req.all_met) * (num / den) + req.all_met * (met / den)
    }
}

/// A need's concepts with their relation to every concept of the
/// ontology worked out once: rescoring asks for hundreds of candidates
/// how each of their concepts stands to each wanted one, and the hierarchy
/// walk for each pair was a tenth of a match.
///
/// Kept sparse, by the company's side: for each ontology concept, the
/// wanted concepts it relates to and how strongly. Most of a company's
/// concepts relate to none of a need's, so a candidate costs one lookup per
/// concept it has, not one per (wanted, had) pair. (Measured: within the
/// noise alone; what made this signal cheap was warming the candidates'
/// features first, `Records::warm_companies`: its time was cache misses.)
pub struct WantedConcepts {
    /// Each wanted concept's weight, in the need's order.
    weights: Vec<f32>,
    /// Where each ontology concept's relations start in `related`
    /// (one more entry than the ontology has concepts).
    starts: Vec<u32>,
    /// (index into `weights`, strength as a company's concept for that
    /// wanted one), grouped by ontology concept; unrelated pairs omitted.
    related: Vec<(u32, f32)>,
    requirements: RequirementWeights,
}

/// Needs with at most this many concepts score a candidate without
/// allocating.
const STACK_WANTS: usize = 64;

impl WantedConcepts {
    /// Work out how every concept of `ontology` meets each of the need's.
    pub fn new(
        ontology: &Ontology,
        relations: &RelationWeights,
        requirements: &RequirementWeights,
        need: &ConceptSet,
    ) -> WantedConcepts {
        let n = ontology.len();
        let mut starts = Vec::with_capacity(n + 1);
        let mut related = Vec::new();
        for have in 0..n {
            starts.push(related.len() as u32);
            for (k, &(want, _)) in need.0.iter().enumerate() {
                let strength = ontology
                    .relation_of(want, have as ConceptId)
                    .map_or(0.0, |r| relations.of(r));
                if strength > 0.0 {
                    related.push((k as u32, strength));
                }
            }
        }
        starts.push(related.len() as u32);
        WantedConcepts {
            weights: need.0.iter().map(|&(_, w)| w).collect(),
            starts,
            related,
            requirements: *requirements,
        }
    }

    /// [`concept_similarity`]'s score, from the tables: the same number
    /// (a skipped unrelated pair scores 0, which never beats a best that
    /// starts at 0).
    pub fn similarity(&self, company: &ConceptSet) -> f32 {
        let n = self.weights.len();
        let mut stack = [0.0f32; STACK_WANTS];
        let mut heap = Vec::new();
        let best: &mut [f32] = if n <= STACK_WANTS {
            &mut stack[..n]
        } else {
            heap.resize(n, 0.0);
            &mut heap
        };
        for &(have, hw) in &company.0 {
            let (Some(&s), Some(&e)) = (
                self.starts.get(have as usize),
                self.starts.get(have as usize + 1),
            ) else {
                continue;
            };
            for &(k, strength) in self.related.get(s as usize..e as usize).unwrap_or(&[]) {
                let score = strength * hw.min(1.0);
                if let Some(b) = best.get_mut(k as usize) {
                    if score > *b {
                        *b = score;
                    }
                }
            }
        }
        requirement_score(
            &self.requirements,
            self.weights.iter().zip(best.iter()).map(|(&w, &b)| (w, b)),
        )
    }
}

/// Hierarchy-aware concept similarity (exact > narrower > broader > sibling)
/// over the need's requirements, and the best hit for each requirement met
/// at all. `need` carries final weights (see `prepare_need`).
pub fn concept_similarity(
    ontology: &Ontology,
    relations: &RelationWeights,
    requirements: &RequirementWeights,
    need: &ConceptSet,
    company: &ConceptSet,
) -> (f32, Vec<ConceptHit>) {
    let mut hits = Vec::new();
    let mut parts = Vec::with_capacity(need.0.len());
    for &(want, weight) in &need.0 {
        let mut best: Option<ConceptHit> = None;
        for &(have, hw) in &company.0 {
            let Some(relation) = ontology.relation_of(want, have) else {
                continue;
            };
            let hit = ConceptHit {
                want,
                have,
                relation,
                mention: hw.min(1.0),
            };
            if hit.score(relations) > best.as_ref().map_or(0.0, |b| b.score(relations)) {
                best = Some(hit);
            }
        }
        parts.push((weight, best.as_ref().map_or(0.0, |b| b.score(relations))));
        if let Some(b) = best {
            hits.push(b);
        }
    }
    (requirement_score(requirements, parts.into_iter()), hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tables give exactly the pairwise walk's similarity, on every
    /// fixture need against every fixture company.
    #[test]
    fn wanted_concepts_match_the_pairwise_similarity() {
        let dir = crate::fixtures::fixtures_dir();
        let ctx = crate::Context::load(&dir).unwrap();
        let o = &ctx.ontology;
        let companies = crate::fixtures::companies(&dir, &ctx.taxonomy)
            .unwrap()
            .records;
        let needs = crate::fixtures::needs(&dir, &ctx.taxonomy).unwrap().records;
        let mut nonzero = 0;
        for n in &needs {
            let want = o.need_concepts(n);
            let rw = RelationWeights::default();
            let req = RequirementWeights {
                all_met: 0.4,
                ..RequirementWeights::default()
            };
            let tables = WantedConcepts::new(o, &rw, &req, &want);
            for c in &companies {
                let have =
                    crate::index::records::CompanyFeatures::new(c, &ctx.taxonomy, o).concepts;
                let a = concept_similarity(o, &rw, &req, &want, &have).0;
                assert_eq!(tables.similarity(&have).to_bits(), a.to_bits());
                nonzero += usize::from(a > 0.0);
            }
        }
        assert!(nonzero > 100, "{nonzero}");
    }

    fn codes(v: &[&str]) -> Vec<JsicCode> {
        v.iter().map(|c| c.parse().unwrap()).collect()
    }

    #[test]
    fn jsic_proximity_orders_levels() {
        let sec = |c: &JsicCode| {
            Some(if c.as_str().starts_with('2') || c.as_str() == "E" {
                b'E'
            } else {
                b'G'
            })
        };
        let class = jsic_proximity(&codes(&["2451"]), &codes(&["2451"]), sec);
        let group = jsic_proximity(&codes(&["2451"]), &codes(&["2452"]), sec);
        let division = jsic_proximity(&codes(&["2451"]), &codes(&["2461"]), sec);
        let section = jsic_proximity(&codes(&["2451"]), &codes(&["2611"]), sec);
        let none = jsic_proximity(&codes(&["2451"]), &codes(&["39"]), sec);
        assert!(
            class > group && group > division && division > section && section > none,
            "{class} {group} {division} {section} {none}"
        );
        // a wanted division covers its classes
        assert!(jsic_proximity(&codes(&["24"]), &codes(&["2451"]), sec) >= 0.7);
    }

    /// Without wanted industries the JSIC signal asks for the industries of
    /// the need's requirements, each weighed as its requirement; materials
    /// and markets name no partner industry.
    #[test]
    fn wanted_industries_come_from_the_requirements() {
        let dir = crate::fixtures::fixtures_dir();
        let ctx = crate::Context::load(&dir).unwrap();
        let o = &ctx.ontology;
        let id = |n: &str| o.id(n).unwrap();
        // 射出成形 (JSIC 18) and 焼付塗装 (2461), on aluminium for a car maker
        let mut need = ConceptSet(vec![
            (id("injection_molding"), 1.0),
            (id("baking_paint"), 0.5),
            (id("aluminum"), 1.0),
            (id("automotive"), 1.0),
        ]);
        need.0.sort_by_key(|(c, _)| *c);
        let wanted = WantedJsic::from_concepts(o, &need);
        let mut codes: Vec<&str> = wanted.all_codes().map(JsicCode::as_str).collect();
        codes.sort_unstable();
        assert_eq!(codes, ["18", "246", "2461"]);
        let sec = |c: &JsicCode| ctx.taxonomy.section_byte(c);
        let molder = wanted.proximity(&codes_of(&["1831"]), sec);
        let painter = wanted.proximity(&codes_of(&["2461"]), sec);
        let both = wanted.proximity(&codes_of(&["1831", "2461"]), sec);
        let car_maker = wanted.proximity(&codes_of(&["3111"]), sec);
        // weighted mean: the molder (weight 1) over the painter (0.5), both
        // best; the molder meets 18 by division (0.7) and 246 by section (0.25)
        assert!(
            both > molder && molder > painter && painter > car_maker,
            "{both} {molder} {painter} {car_maker}"
        );
        assert!((molder - (0.7 + 0.5 * 0.25) / 1.5).abs() < 1e-6, "{molder}");
        // the car maker (a market, 31) only shares the manufacturing section
        assert!((car_maker - 0.25).abs() < 1e-6, "{car_maker}");
        // a need's own codes are one group, exactly the old proximity
        let own = WantedJsic::codes(&codes_of(&["24"]));
        assert_eq!(
            own.proximity(&codes_of(&["2441"]), sec),
            jsic_proximity(&codes_of(&["24"]), &codes_of(&["2441"]), sec)
        );
        assert!(WantedJsic::codes(&[]).is_empty());
    }

    fn codes_of(v: &[&str]) -> Vec<JsicCode> {
        codes(v)
    }

    /// The proximity that reads each section once per call is the pairwise
    /// one, bit for bit, for every fixture need's wanted industries (named
    /// or derived from its requirements) against every fixture company.
    #[test]
    fn proximity_equals_the_pairwise_walk() {
        let dir = crate::fixtures::fixtures_dir();
        let ctx = crate::Context::load(&dir).unwrap();
        let companies = crate::fixtures::companies(&dir, &ctx.taxonomy)
            .unwrap()
            .records;
        let needs = crate::fixtures::needs(&dir, &ctx.taxonomy).unwrap().records;
        let sec = |c: &JsicCode| ctx.taxonomy.section_byte(c);
        let (mut compared, mut positive) = (0, 0);
        for n in &needs {
            for wanted in [
                WantedJsic::codes(&n.industry_codes),
                WantedJsic::from_concepts(&ctx.ontology, &ctx.ontology.need_concepts(n)),
            ] {
                for c in &companies {
                    let fast = wanted.proximity(&c.industry_codes, sec);
                    let slow = wanted.proximity_slow(&c.industry_codes, sec);
                    assert_eq!(fast.to_bits(), slow.to_bits(), "{} {}", n.id, c.id);
                    compared += 1;
                    positive += usize::from(fast > 0.0);
                }
            }
        }
        assert!(
            compared > 1000 && positive * 10 > compared,
            "{positive} of {compared}"
        );
    }

    #[test]
    fn freshness_decays() {
        let today: Date = "2026-11-23".parse().unwrap();
        assert_eq!(
            freshness(Some("2026-06-01".parse().unwrap()), today, 24),
            1.0
        );
        let mid = freshness(Some("2025-06-01".parse().unwrap()), today, 24);
        assert!(mid < 1.0 && mid > 0.3);
        assert_eq!(
            freshness(Some("2020-01-01".parse().unwrap()), today, 24),
            0.3
        );
    }

    #[test]
    fn size_hints() {
        assert_eq!(
            size_hint("月産1万個の量産をお願いしたい"),
            Some(SizeHint::Volume)
        );
        assert_eq!(
            size_hint("試作1個からお願いできる会社"),
            Some(SizeHint::Prototype)
        );
        assert!(size_fit(SizeHint::Volume, Some(200)) > size_fit(SizeHint::Volume, Some(5)));
    }

    /// Quantities in digits or kanji numerals say the size of the job.
    #[test]
    fn stated_quantities_hint_at_size() {
        assert_eq!(quantities("月産5,000個"), [Quantity::PerMonth(5_000)]);
        assert_eq!(quantities("年間十万個規模"), [Quantity::PerYear(100_000)]);
        assert_eq!(quantities("ロットは三百個ほど"), [Quantity::Lot(300)]);
        assert_eq!(quantities("一万二千本"), [Quantity::Lot(12_000)]);
        assert_eq!(quantities("1万個"), [Quantity::Lot(10_000)]);
        assert!(quantities("窓口を一本化したい").is_empty());
        // a size or a date is not a quantity
        assert!(quantities("150×100×50mmの箱形ケース、2027年3月納品").is_empty());
        assert_eq!(size_hint("数量は月に2,000個です。"), Some(SizeHint::Volume));
        assert_eq!(
            size_hint("ロットは最初は200個ほどですが、年間2万個を見込んでいます。"),
            Some(SizeHint::Volume)
        );
        assert_eq!(
            size_hint("まずは5台だけ作りたい。"),
            Some(SizeHint::Prototype)
        );
        assert_eq!(size_hint("ステンレスの箱を作ってほしい。"), None);
    }
}
