//! Capability concepts: the ontology that maps what a need describes
//! (シャフトの外径仕上げ, 筐体の曲げ) to what a profile names (NC旋盤,
//! ベンディングマシン).
//!
//! Lexical search stalls on paraphrase: the need says what the work is, the
//! profile names the technique or the machine. Each concept in
//! `fixtures/concepts.jsonl` lists its surface forms (terms, abbreviations,
//! descriptive phrases), the equipment that implies it, and its place in a
//! broader/narrower hierarchy. Extraction finds surfaces in normalized text
//! (so width, case and long-vowel variants meet), weights each mention by
//! its clause scope (refused work counts nothing, outsourced work little, a
//! need's exclusions, self-description and in-house work nothing, its
//! nice-to-haves little; see [`NeedScoping`]), and adds the concepts a
//! company's equipment implies even when its text does not say them.

pub mod coverage;
mod surface;

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::analysis::analyzed::AnalyzedText;
use crate::analysis::normalize::normalize_loose;
use crate::analysis::scope::{need_scopes, scope_at, scopes, ScopeKind};
use crate::analysis::{normalize_key, Analyzer, TermKind};
use crate::data_file::{DataSource, DataText};
use crate::model::{Company, JsicCode, Need};
use std::sync::Arc;
use surface::{ascii_word_boundary, build_matcher, splits_katakana_word, SurfaceMatcher};

/// How a company's concept meets a wanted one in the hierarchy. Only the
/// hierarchy: how firmly the company offers it (in-house, through its
/// equipment, outsourced) is its mention weight, kept apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// The wanted concept itself.
    Exact,
    /// A narrower concept (wanted 切削加工, have 5軸加工).
    Narrower,
    /// A broader concept (wanted 5軸加工, have 切削加工).
    Broader,
    /// A concept with a common parent.
    Sibling,
}

/// A concept's index in its [`Ontology`]: valid only with the ontology that
/// issued it (see [`Ontology::fingerprint`]).
pub type ConceptId = u16;

/// The version of the extraction rules (surface matching, boundaries,
/// scoping, head-word weights), part of [`Ontology::fingerprint`]: the same
/// `concepts.jsonl` read by different rules evokes different concepts, so
/// evidence stored by an older build must not read as current. Bump it
/// with every change to what a text evokes.
const EXTRACTION_VERSION: u32 = 2;

/// Errors of the ontology file.
pub type OntologyError = crate::data_file::DataFileError;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConceptRow {
    id: String,
    name: String,
    kind: String,
    surface: Vec<String>,
    #[serde(default)]
    broader: Vec<String>,
    #[serde(default)]
    equipment: Vec<String>,
    #[serde(default)]
    jsic: Vec<JsicCode>,
    examples: Vec<String>,
}

/// One concept.
#[derive(Debug, Clone, Serialize)]
pub struct Concept {
    /// Stable identifier (`[a-z0-9_]+`), what indexes and configuration store.
    pub id: String,
    /// Japanese display name, also a surface form.
    pub name: String,
    /// `process`, `material`, `market`, `product`, `service` or `certification`:
    /// how much a shared concept says about fit (see `[requirements]` in
    /// `config/matcher.toml`: `RequirementWeights::of_kind`).
    pub kind: String,
    /// Direct parents in the hierarchy.
    pub broader: Vec<ConceptId>,
    /// Industry codes that hint at it.
    pub jsic: Vec<JsicCode>,
    /// Sentences that should evoke it: what tells whoever edits the ontology
    /// what the concept is for.
    pub examples: Vec<String>,
    /// Distance from a root (0 = root).
    pub depth: u8,
}

/// How a concept was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// A surface form in the text.
    Text,
    /// A machine that implies it.
    Equipment,
}

/// A concept found in a text, with its evidence span (byte offsets into the text it came from).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mention {
    /// The concept.
    pub concept: ConceptId,
    /// How firmly the text states it (≤ 1): lower when outsourced, hedged,
    /// implied by equipment or found through a head word; 0 for refused work.
    pub weight: f32,
    /// Byte offset of the evidence in the text it came from.
    pub start: usize,
    /// Byte offset just past it.
    pub end: usize,
    /// How it was found.
    pub via: Via,
    /// The matched text as written.
    pub evidence: String,
    /// The clause scope it stands in, if any (its weight already reflects it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<ScopeKind>,
    /// Found only through a head word (ホームページ of ホームページ制作).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub head_word: bool,
}

/// Which part of a company profile a mention was found in (its offsets are
/// into that text; an equipment mention's are into the machine's name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MentionSource {
    /// The capabilities text.
    Capabilities,
    /// The products text.
    Products,
    /// The company's equipment, by position.
    Equipment(usize),
}

/// A weighted set of concepts, sorted by id, one entry per concept.
#[derive(
    Debug, Clone, Default, PartialEq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
pub struct ConceptSet(pub Vec<(ConceptId, f32)>);

impl ConceptSet {
    /// Each concept once, at its strongest mention; concepts whose every
    /// mention weighs nothing (refused work) are left out.
    pub fn from_mentions<'a>(mentions: impl IntoIterator<Item = &'a Mention>) -> ConceptSet {
        let mut best: HashMap<ConceptId, f32> = HashMap::new();
        for m in mentions {
            let e = best.entry(m.concept).or_insert(0.0);
            *e = e.max(m.weight);
        }
        let mut v: Vec<(ConceptId, f32)> = best.into_iter().filter(|(_, w)| *w > 0.0).collect();
        v.sort_by_key(|(c, _)| *c);
        ConceptSet(v)
    }
    /// The weight of `c` in the set, 0 when absent.
    pub fn weight(&self, c: ConceptId) -> f32 {
        self.0
            .binary_search_by_key(&c, |(id, _)| *id)
            .map(|i| self.0[i].1)
            .unwrap_or(0.0)
    }
    /// No concept at all: the concept channel and signal do not apply.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The loaded ontology.
pub struct Ontology {
    concepts: Vec<Concept>,
    by_id: HashMap<String, ConceptId>,
    /// Transitive broader concepts of each concept.
    ancestors: Vec<Vec<ConceptId>>,
    surfaces: SurfaceMatcher,
    /// Equipment names that imply concepts (one-character names are ignored).
    equipment: SurfaceMatcher,
    /// CRC32 of the concepts file (and whether head words were built): what
    /// evidence stored with an index was extracted with. Concept ids are
    /// positions in the file, so evidence from another ontology could name
    /// the wrong concepts (see `index::evidence`).
    fingerprint: u32,
    /// Distinctive words of multi-word surfaces (ホームページ of
    /// ホームページ制作) → the few concepts they point to. A text that says
    /// only the word still evokes the concept, at a lower weight.
    head_words: HashMap<String, Vec<ConceptId>>,
    analyzer: Option<Arc<Analyzer>>,
}

/// Words too general to point at a capability on their own.
const GENERIC_WORDS: &[&str] = &[
    "加工",
    "制作",
    "製作",
    "作成",
    "開発",
    "設計",
    "製造",
    "対応",
    "技術",
    "部品",
    "製品",
    "サービス",
    "システム",
    "処理",
    "装置",
    "機械",
    "機器",
    "材料",
    "事業",
    "業務",
    "支援",
    "作業",
    "生産",
    "販売",
    "構築",
    "導入",
    "運用",
    "工事",
    "管理",
    "検査",
    "試験",
    "仕上げ",
    "組立",
    "品",
    "材",
    "用",
    "向け",
    "一貫",
    "全般",
    "専門",
    "受託",
    "請負",
    "小物",
    "大物",
    "精密",
    "高精度",
    "金属",
    "樹脂",
    "表面",
    "データ",
    "ソフト",
    "ハード",
    "工程",
    "外注",
    "量産",
    "精度",
    "社内",
    "大型",
    "小型",
    "中型",
    "現場",
    "相談",
    "提案",
    "企画",
    "活用",
    "改善",
    "効率",
    "品質",
    "対策",
    "向上",
    "実績",
    "自社",
    "試作",
    "一品",
    "少量",
    "多品種",
    "短納期",
    "特殊",
    "各種",
    "一般",
    "産業",
    "工業",
    "工場",
    "会社",
    "企業",
    "製",
    "機",
    "式",
    "型",
    "化",
    "性",
    "度",
    "法",
    "等",
    "内製",
    "社外",
    "最適",
    "高速",
    "自動",
];
/// A head word pointing at more concepts than this is ambiguous and dropped.
const MAX_HEAD_CONCEPTS: usize = 2;
/// Weight of a mention found only through a head word.
const HEAD_WEIGHT: f32 = 0.5;
/// Weight of a profile's mention found only through a boilerplate head
/// word (`NEED_HEAD_STOP`: 図面, 規格, 材質 …). Profiles repeat such words in
/// stock phrases (図面がなくても現物からの対応が可能です, in 91 of the 1,110
/// blind profiles) that say little about the company; a company that
/// writes 図面作成 still names a full surface. Measured on blind-tune:
/// 0.1–0.3 alike (+0.002 nDCG@10 against 0.5, the fixtures unchanged);
/// 0, dropping them, cost the fixtures recall.
const BOILERPLATE_HEAD_WEIGHT: f32 = 0.2;

impl std::fmt::Debug for Ontology {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ontology({} concepts)", self.concepts.len())
    }
}

/// Head words that in a need describe the request's circumstances rather
/// than a capability: documents and procedure (資格を取得, ご説明, 図面あり,
/// 成績書, 補助金, 紹介案件), the relation and the asker (異業種交流,
/// 研究機関, 医療分野, 委託先, 若手の教育), and the workpiece's properties
/// (材質, 寸法, 公差, 1ロット, 側面, 摩耗した). Each is a head word of the
/// bundled ontology (a test checks it) that, in a need, evokes a concept
/// the need does not ask for (図面 → 製図, 補助 → 健康食品, 整理 → 染色).
/// Content words with a poor mapping (デバイス → IoT, 人手 → FA) are not
/// boilerplate and stay: measured, dropping them cost more than it gained.
/// In a need they evoke nothing (see [`NeedHeadWords::Distinctive`]); in a
/// profile they stay, where a company that writes 図面作成 or 材質 says
/// something about itself with them, but weigh less
/// (`BOILERPLATE_HEAD_WEIGHT`): profiles use them in stock phrases too.
const NEED_HEAD_STOP: &[&str] = &[
    // documents and procedure (図面あり, 成績書, 補助金, 紹介案件, 色の調整)
    "取得",
    "説明",
    "案内",
    // (紹介 is no head word since 会社紹介ページ joined 会社紹介動画: it
    // points at more than two concepts, so it evokes none anywhere)
    "図面",
    "成績",
    "規格",
    "表示",
    "補助",
    "原価",
    "単位",
    "状況",
    "整理",
    "修正",
    "調整",
    // the relation and the asker (異業種交流, 研究機関, 医療分野, 委託先, エンドユーザー)
    "交流",
    "機関",
    "分野",
    "研究",
    "顧客",
    "委託",
    "用品",
    "特注",
    "セット",
    // as the analyzer emits it (long vowels normalized: エンドユーザー)
    "ユーザ",
    "エンド",
    "地域",
    "技能",
    // a quantity's scale (年間百万個規模で: 規模 of 大規模言語モデル)
    "規模",
    // the workpiece and its properties (材質, 寸法, 公差, 1ロット, 側面, 摩耗した)
    "材質",
    "寸法",
    "公差",
    "ロット",
    "側面",
    "断面",
    "摩耗",
];

/// Which head words a need's text may evoke concepts through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NeedHeadWords {
    /// Every head word, as in profiles.
    All,
    /// Head words except the boilerplate ones (`NEED_HEAD_STOP`).
    Distinctive,
    /// None: a need evokes concepts only by full surface forms and equipment.
    None,
}

/// How a need's clauses and words weigh its concepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NeedScoping {
    /// Weight of a concept named only in a nice-to-have clause (できれば,
    /// 尚可, 望ましい), against 1 for a requirement.
    pub optional_weight: f32,
    /// Weight of a query word found only in a nice-to-have clause.
    pub optional_text_weight: f32,
    /// Weight of a concept named only in the owner's self-description
    /// (弊社は…を営んでおります): not a requirement, 0 by default.
    pub self_weight: f32,
    /// Weight of a query word found only in the owner's self-description.
    pub self_text_weight: f32,
    /// Which head words evoke concepts in a need.
    pub head_words: NeedHeadWords,
    /// Weight of a concept a need evokes only through a head word (a
    /// guess: 精度 alone may or may not ask for 精密加工), against 1 for a
    /// surface form. Profiles use 0.5; for needs 0.19 was fitted (see
    /// `docs/weights-fit.md`): a need's stray head word misleads more.
    pub head_weight: f32,
    /// Whether a self-description opened by its topic (当社は…で、) runs to
    /// the end of its sentence (see [`crate::analysis::scope::need_scopes`]).
    pub self_to_sentence_end: bool,
}

impl Default for NeedScoping {
    fn default() -> Self {
        NeedScoping {
            optional_weight: 0.3,
            optional_text_weight: 0.5,
            self_weight: 0.0,
            self_text_weight: 0.0,
            head_words: NeedHeadWords::Distinctive,
            head_weight: 0.19,
            self_to_sentence_end: false,
        }
    }
}

/// Weight of a mention by the clause it stands in.
fn scope_weight(kind: Option<ScopeKind>, need: Option<&NeedScoping>) -> f32 {
    match kind {
        None => 1.0,
        Some(ScopeKind::Outsourced) => 0.2,
        Some(ScopeKind::Optional) => need.map_or(1.0, |n| n.optional_weight),
        Some(ScopeKind::SelfDescription) => need.map_or(0.0, |n| n.self_weight),
        Some(
            ScopeKind::Refused | ScopeKind::Excluded | ScopeKind::InHouse | ScopeKind::Replaced,
        ) => 0.0,
    }
}

impl Ontology {
    /// Load and validate an ontology file (`concepts.jsonl`'s format), for
    /// an operator who edits it. With an analyzer, distinctive words of
    /// multi-word surfaces also evoke their concepts (see `head_words`).
    pub fn load(path: &Path, analyzer: Option<Arc<Analyzer>>) -> Result<Ontology, OntologyError> {
        Ontology::parse(&DataText::file(path)?, analyzer)
    }

    /// The ontology bundled with the crate (the repository's
    /// `fixtures/concepts.jsonl` when it was built), for an embedding
    /// program. Same text, same [`Ontology::fingerprint`]: an index built
    /// with the folder's copy reads as built with this one.
    pub fn bundled(analyzer: Option<Arc<Analyzer>>) -> Result<Ontology, OntologyError> {
        Ontology::from_source(&DataSource::Bundled, analyzer)
    }

    /// `concepts.jsonl` of `source`.
    pub(crate) fn from_source(
        source: &DataSource,
        analyzer: Option<Arc<Analyzer>>,
    ) -> Result<Ontology, OntologyError> {
        Ontology::parse(&source.read("concepts.jsonl")?, analyzer)
    }

    /// The one parser of the ontology's format, for every source.
    fn parse(file: &DataText, analyzer: Option<Arc<Analyzer>>) -> Result<Ontology, OntologyError> {
        let (path, text) = (file.path.as_path(), &file.text);
        let err = |line: usize, reason: String| OntologyError::Line {
            path: path.to_path_buf(),
            line,
            reason,
        };
        let mut rows: Vec<(usize, ConceptRow)> = Vec::new();
        for (i, l) in text.lines().enumerate() {
            if l.trim().is_empty() {
                continue;
            }
            let row: ConceptRow = serde_json::from_str(l).map_err(|e| err(i + 1, e.to_string()))?;
            if row.id.is_empty()
                || !row
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(err(i + 1, format!("id {:?} must be [a-z0-9_]+", row.id)));
            }
            if !matches!(
                row.kind.as_str(),
                "process" | "material" | "market" | "product" | "service" | "certification"
            ) {
                return Err(err(
                    i + 1,
                    format!(
                        "kind {:?} is not process|material|market|product|service|certification",
                        row.kind
                    ),
                ));
            }
            if row.surface.is_empty() && row.equipment.is_empty() {
                return Err(err(
                    i + 1,
                    "a concept needs at least one surface form or equipment".into(),
                ));
            }
            if row.examples.is_empty() {
                return Err(err(
                    i + 1,
                    "a concept needs at least one example sentence".into(),
                ));
            }
            rows.push((i + 1, row));
        }
        if rows.len() > ConceptId::MAX as usize {
            return Err(err(0, "too many concepts".into()));
        }
        let mut by_id = HashMap::new();
        // Explanations name a concept by its name (a requirement's verdict
        // finds its evidence by it): two concepts must not share one.
        let mut names = HashMap::new();
        for (k, (line, r)) in rows.iter().enumerate() {
            if by_id.insert(r.id.clone(), k as ConceptId).is_some() {
                return Err(err(*line, format!("id {} is defined twice", r.id)));
            }
            if let Some(first) = names.insert(r.name.as_str(), *line) {
                return Err(err(
                    *line,
                    format!(
                        "name {} is already the name of the concept on line {first}; give one of them another name",
                        r.name
                    ),
                ));
            }
        }
        let mut concepts = Vec::with_capacity(rows.len());
        for (line, r) in &rows {
            let mut broader = Vec::new();
            for b in &r.broader {
                match by_id.get(b) {
                    Some(&id) => broader.push(id),
                    None => {
                        return Err(err(*line, format!("broader concept {b:?} does not exist")))
                    }
                }
            }
            concepts.push(Concept {
                id: r.id.clone(),
                name: r.name.clone(),
                kind: r.kind.clone(),
                broader,
                jsic: r.jsic.clone(),
                examples: r.examples.clone(),
                depth: 0,
            });
        }
        // Transitive ancestors, refusing cycles.
        let mut ancestors = vec![Vec::new(); concepts.len()];
        for c in 0..concepts.len() {
            let mut stack: Vec<ConceptId> = concepts[c].broader.clone();
            let mut seen: Vec<ConceptId> = Vec::new();
            while let Some(a) = stack.pop() {
                if a as usize == c {
                    return Err(err(
                        rows[c].0,
                        format!("concept {} is its own ancestor (cycle)", concepts[c].id),
                    ));
                }
                if !seen.contains(&a) {
                    seen.push(a);
                    stack.extend(concepts[a as usize].broader.iter().copied());
                }
            }
            ancestors[c] = seen;
        }
        for c in 0..concepts.len() {
            concepts[c].depth = depth(&concepts, c as ConceptId, 0);
        }
        let surfaces = build_matcher(
            path,
            rows.iter().enumerate().flat_map(|(k, (_, r))| {
                r.surface
                    .iter()
                    .chain(std::iter::once(&r.name))
                    .map(move |s| (s.as_str(), k as ConceptId))
            }),
        )?;
        let equipment = build_matcher(
            path,
            rows.iter().enumerate().flat_map(|(k, (_, r))| {
                r.equipment
                    .iter()
                    .map(move |s| (s.as_str(), k as ConceptId))
            }),
        )?;
        let mut head_words: HashMap<String, Vec<ConceptId>> = HashMap::new();
        if let Some(an) = &analyzer {
            let exact: std::collections::HashSet<String> = rows
                .iter()
                .flat_map(|(_, r)| r.surface.iter().chain(r.equipment.iter()))
                .map(|x| normalize_key(x))
                .collect();
            for (k, (_, r)) in rows.iter().enumerate() {
                for surface in r.surface.iter().chain(r.equipment.iter()) {
                    for t in an.analyze(surface) {
                        let generic = GENERIC_WORDS.contains(&t.term.as_str());
                        // Nouns only (verbs and adjectives end in kana), two characters or more.
                        let noun_like = !t
                            .term
                            .ends_with(|c: char| matches!(c, '\u{3041}'..='\u{309F}'));
                        if t.kind == TermKind::Compound
                            || generic
                            || !noun_like
                            || t.term.chars().count() < 2
                            || exact.contains(&t.term)
                        {
                            continue;
                        }
                        let e = head_words.entry(t.term).or_default();
                        if !e.contains(&(k as ConceptId)) {
                            e.push(k as ConceptId);
                        }
                    }
                }
            }
            head_words.retain(|_, v| v.len() <= MAX_HEAD_CONCEPTS);
        }
        let mut h = crc32fast::Hasher::new();
        h.update(text.as_bytes());
        h.update(&[u8::from(analyzer.is_some())]);
        h.update(&EXTRACTION_VERSION.to_le_bytes());
        Ok(Ontology {
            fingerprint: h.finalize(),
            head_words,
            analyzer,
            concepts,
            by_id,
            ancestors,
            surfaces,
            equipment,
        })
    }

    /// How many concepts.
    pub fn len(&self) -> usize {
        self.concepts.len()
    }
    /// No concepts (an empty file): matching is lexical only.
    pub fn is_empty(&self) -> bool {
        self.concepts.is_empty()
    }
    /// The concept `id`; panics on an id from another ontology.
    pub fn concept(&self, id: ConceptId) -> &Concept {
        &self.concepts[id as usize]
    }
    /// Every concept, indexed by [`ConceptId`].
    pub fn concepts(&self) -> &[Concept] {
        &self.concepts
    }
    /// The id of the concept with this stable name (`Concept::id`).
    pub fn id(&self, name: &str) -> Option<ConceptId> {
        self.by_id.get(name).copied()
    }
    /// Every broader concept, transitively (in no promised order); never `id` itself.
    pub fn ancestors(&self, id: ConceptId) -> &[ConceptId] {
        &self.ancestors[id as usize]
    }
    /// Identifies the loaded concepts file (see the field).
    pub fn fingerprint(&self) -> u32 {
        self.fingerprint
    }

    /// Concept mentions in free text. `is_need` selects the clause rules
    /// (and, for a need, the default [`NeedScoping`]).
    pub fn extract_text(&self, text: &str, is_need: bool) -> Vec<Mention> {
        if is_need {
            return self.extract_need_text(text, &NeedScoping::default());
        }
        self.extract_with(text, &self.analyze(text, false), None)
    }

    /// Concept mentions in a need's text, weighed by `scoping`.
    pub fn extract_need_text(&self, text: &str, scoping: &NeedScoping) -> Vec<Mention> {
        self.extract_with(text, &self.analyze_need(text, scoping), Some(scoping))
    }

    /// A need's text analyzed with `scoping`'s clause rules.
    pub fn analyze_need(&self, text: &str, scoping: &NeedScoping) -> AnalyzedText {
        AnalyzedText {
            terms: self
                .analyzer
                .as_ref()
                .map(|an| an.analyze(text))
                .unwrap_or_default(),
            scopes: need_scopes(text, scoping.self_to_sentence_end),
        }
    }

    /// The analysis concept extraction needs: terms (for head words) when
    /// the ontology has an analyzer, clause scopes always.
    pub fn analyze(&self, text: &str, is_need: bool) -> AnalyzedText {
        match &self.analyzer {
            Some(an) => an.analyze_text(text, is_need),
            None => AnalyzedText {
                terms: Vec::new(),
                scopes: scopes(text, is_need),
            },
        }
    }

    /// [`Ontology::extract_text`] over a profile text already analyzed
    /// (its terms find head words, its scopes weigh every mention).
    pub fn extract_analyzed(&self, text: &str, analyzed: &AnalyzedText) -> Vec<Mention> {
        self.extract_with(text, analyzed, None)
    }

    /// Mentions in `text`; `need` is `Some` for a need's text, with how
    /// its scopes and head words count.
    fn extract_with(
        &self,
        text: &str,
        analyzed: &AnalyzedText,
        need: Option<&NeedScoping>,
    ) -> Vec<Mention> {
        let norm = normalize_loose(text);
        let sc = &analyzed.scopes;
        let mut out = Vec::new();
        for m in self.surfaces.automaton.find_iter(&norm.text) {
            let p = m.pattern().as_usize();
            if self.surfaces.ascii[p] && !ascii_word_boundary(&norm.text, m.start(), m.end()) {
                continue;
            }
            let (s, e) = norm.orig_span(m.start(), m.end());
            if splits_katakana_word(&norm.text, m.start(), s, &analyzed.terms) {
                continue;
            }
            let scope = scope_at(sc, s, e);
            let weight = scope_weight(scope, need);
            for &c in self.surfaces.concepts_at(p, &norm.text, m.start()) {
                out.push(Mention {
                    concept: c,
                    weight,
                    start: s,
                    end: e,
                    via: Via::Text,
                    evidence: text[s..e].to_owned(),
                    scope,
                    head_word: false,
                });
            }
        }
        // Machines named in the text imply what they do (NC旋盤10台 → 旋削).
        for m in self.equipment.automaton.find_iter(&norm.text) {
            let (s, e) = norm.orig_span(m.start(), m.end());
            let scope = scope_at(sc, s, e);
            let weight = 0.9 * scope_weight(scope, need);
            for &c in self
                .equipment
                .concepts_at(m.pattern().as_usize(), &norm.text, m.start())
            {
                out.push(Mention {
                    concept: c,
                    weight,
                    start: s,
                    end: e,
                    via: Via::Text,
                    evidence: text[s..e].to_owned(),
                    scope,
                    head_word: false,
                });
            }
        }
        // One-character surfaces (銅, 鞄) only where the analyzer reads a
        // word of that one character: 銅の加工, not 銅像 (see `surface`).
        for t in &analyzed.terms {
            if t.kind != TermKind::Word {
                continue;
            }
            let Some(cs) = self.surfaces.single.get(&t.term) else {
                continue;
            };
            if out.iter().any(|m| m.start <= t.start && t.end <= m.end) {
                continue;
            }
            let scope = scope_at(sc, t.start, t.end);
            let weight = scope_weight(scope, need);
            for &c in cs {
                out.push(Mention {
                    concept: c,
                    weight,
                    start: t.start,
                    end: t.end,
                    via: Via::Text,
                    evidence: text[t.start..t.end].to_owned(),
                    scope,
                    head_word: false,
                });
            }
        }
        // Head words not already inside a surface match.
        let head_words = need.map_or(NeedHeadWords::All, |n| n.head_words);
        if self.analyzer.is_some() && head_words != NeedHeadWords::None {
            for t in &analyzed.terms {
                let Some(cs) = self.head_words.get(&t.term) else {
                    continue;
                };
                if head_words == NeedHeadWords::Distinctive
                    && NEED_HEAD_STOP.contains(&t.term.as_str())
                {
                    continue;
                }
                if out.iter().any(|m| m.start <= t.start && t.end <= m.end) {
                    continue;
                }
                let scope = scope_at(sc, t.start, t.end);
                let profile_head = if NEED_HEAD_STOP.contains(&t.term.as_str()) {
                    BOILERPLATE_HEAD_WEIGHT
                } else {
                    HEAD_WEIGHT
                };
                let head = need.map_or(profile_head, |n| n.head_weight);
                let weight = head * scope_weight(scope, need);
                for &c in cs {
                    out.push(Mention {
                        concept: c,
                        weight,
                        start: t.start,
                        end: t.end,
                        via: Via::Text,
                        evidence: text[t.start..t.end].to_owned(),
                        scope,
                        head_word: true,
                    });
                }
            }
        }
        out
    }

    /// Concepts implied by a piece of equipment's name (offsets into `name`).
    pub fn extract_equipment(&self, name: &str) -> Vec<Mention> {
        // The text extractor finds both equipment patterns and technique
        // names inside an equipment name (ワイヤー放電加工機).
        let mut out = self.extract_text(name, false);
        for m in &mut out {
            m.via = Via::Equipment;
            m.weight = 0.9;
            m.evidence = name.to_owned();
        }
        out
    }

    /// The concepts of a company profile: its capabilities and products
    /// texts (already analyzed, see [`Ontology::analyze`]: indexing analyzes
    /// them once for everything) and its equipment.
    pub fn company_concepts(
        &self,
        c: &Company,
        capabilities: &AnalyzedText,
        products: Option<&AnalyzedText>,
    ) -> ConceptSet {
        ConceptSet::from_mentions(
            self.company_mentions(c, capabilities, products)
                .iter()
                .map(|(_, m)| m),
        )
    }

    /// Every concept mention of a company profile with where it was found,
    /// in order: capabilities, products, then each piece of equipment. One
    /// function serves the company's concepts and the evidence stored with
    /// its document (`index::evidence`), so the two cannot disagree.
    pub fn company_mentions(
        &self,
        c: &Company,
        capabilities: &AnalyzedText,
        products: Option<&AnalyzedText>,
    ) -> Vec<(MentionSource, Mention)> {
        let mut mentions: Vec<(MentionSource, Mention)> = self
            .extract_analyzed(&c.capabilities, capabilities)
            .into_iter()
            .map(|m| (MentionSource::Capabilities, m))
            .collect();
        if let (Some(p), Some(a)) = (&c.products, products) {
            let found = self.extract_analyzed(p, a);
            mentions.extend(found.into_iter().map(|m| (MentionSource::Products, m)));
        }
        for (i, e) in c.equipment.iter().enumerate() {
            let found = self.extract_equipment(&e.name);
            mentions.extend(found.into_iter().map(|m| (MentionSource::Equipment(i), m)));
        }
        mentions
    }

    /// The concepts a need asks for: title, text and wanted equipment
    /// (with the default [`NeedScoping`]).
    pub fn need_concepts(&self, n: &Need) -> ConceptSet {
        self.need_concepts_scoped(n, &NeedScoping::default())
    }

    /// [`Ontology::need_concepts`] with the given scoping.
    pub fn need_concepts_scoped(&self, n: &Need, scoping: &NeedScoping) -> ConceptSet {
        ConceptSet::from_mentions(&self.need_mentions_scoped(n, scoping))
    }

    /// Every concept mention of a need, weighed by the default scoping.
    pub fn need_mentions(&self, n: &Need) -> Vec<Mention> {
        self.need_mentions_scoped(n, &NeedScoping::default())
    }

    /// Every concept mention of a need, weighed by `scoping`.
    pub fn need_mentions_scoped(&self, n: &Need, scoping: &NeedScoping) -> Vec<Mention> {
        let mut mentions = self.extract_need_text(&n.title, scoping);
        mentions.extend(self.extract_need_text(&n.text, scoping));
        for e in &n.equipment {
            mentions.extend(self.extract_equipment(e));
        }
        mentions
    }

    /// The set without the concepts that a narrower concept of the set
    /// states at least as firmly: 機械加工 stated along with 5軸加工 is one
    /// requirement, the narrower one. A broad requirement with only a
    /// nice-to-have narrower one (機械加工、できれば5軸) stays.
    pub fn most_specific(&self, set: &ConceptSet) -> ConceptSet {
        ConceptSet(
            set.0
                .iter()
                .filter(|&&(c, w)| {
                    !set.0
                        .iter()
                        .any(|&(d, dw)| d != c && dw >= w && self.ancestors(d).contains(&c))
                })
                .copied()
                .collect(),
        )
    }

    /// Concept ids to index for a set: each concept and all its ancestors,
    /// so a need asking for a broad concept (切削加工) finds companies that
    /// name a narrower one (旋削, 5軸加工).
    pub fn index_terms(&self, set: &ConceptSet) -> Vec<ConceptId> {
        let mut ids: Vec<ConceptId> = Vec::new();
        for &(c, _) in &set.0 {
            ids.push(c);
            ids.extend_from_slice(self.ancestors(c));
        }
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// How a company's concept `have` stands to a wanted concept `want`
    /// in the hierarchy, if at all.
    pub fn relation_of(&self, want: ConceptId, have: ConceptId) -> Option<Relation> {
        if want == have {
            Some(Relation::Exact)
        } else if self.ancestors(have).contains(&want) {
            Some(Relation::Narrower)
        } else if self.ancestors(want).contains(&have) {
            Some(Relation::Broader)
        } else if self
            .concept(want)
            .broader
            .iter()
            .any(|p| self.concept(have).broader.contains(p))
        {
            Some(Relation::Sibling)
        } else {
            None
        }
    }
}

fn depth(concepts: &[Concept], c: ConceptId, guard: u8) -> u8 {
    if guard > 16 {
        return guard;
    }
    concepts[c as usize]
        .broader
        .iter()
        .map(|&b| 1 + depth(concepts, b, guard + 1))
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ontology() -> Ontology {
        let dir = crate::fixtures::fixtures_dir();
        let analyzer = Arc::new(Analyzer::from_dir(&dir.join("dict")).expect("analyzer"));
        Ontology::load(&dir.join("concepts.jsonl"), Some(analyzer)).expect("ontology")
    }

    /// Two concepts with one name are refused with both lines: an
    /// explanation could not tell which one a requirement's evidence is.
    #[test]
    fn a_name_given_twice_is_refused_with_both_lines() {
        let dir = std::env::temp_dir().join(format!("matcher-onto-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("concepts.jsonl");
        let row = |id: &str| {
            format!(
                r#"{{"id": "{id}", "name": "切削加工", "kind": "process", "surface": ["{id}"], "examples": ["切削加工をします"]}}"#
            )
        };
        std::fs::write(&path, format!("{}\n{}\n", row("cutting"), row("cutting2"))).expect("write");
        let e = Ontology::load(&path, None)
            .expect_err("refused")
            .to_string();
        std::fs::remove_dir_all(&dir).ok();
        assert!(
            e.contains(":2") && e.contains("line 1") && e.contains("切削加工"),
            "{e}"
        );
    }

    /// Each concept's weight in a need text, as the need's concept set holds it.
    fn weights(o: &Ontology, text: &str, scoping: &NeedScoping) -> ConceptSet {
        ConceptSet::from_mentions(&o.extract_need_text(text, scoping))
    }

    fn id(o: &Ontology, name: &str) -> ConceptId {
        o.id(name).unwrap_or_else(|| panic!("no concept {name}"))
    }

    #[test]
    fn the_owners_self_description_weighs_nothing() {
        let o = ontology();
        let d = NeedScoping::default();
        let (sheet, cutting) = (id(&o, "precision_sheet_metal"), id(&o, "cutting"));
        for text in [
            "当社（大田区）では精密板金が中心です。アルミ部品の切削加工をお願いしたい。",
            "大田区で精密板金を手がける会社です。アルミ部品の切削加工をお願いしたい。",
            "精密板金会社からの相談です。アルミ部品の切削加工をお願いしたい。",
            "私どもは精密板金を営んでおりますが、アルミ部品の切削加工をお願いしたい。",
        ] {
            let w = weights(&o, text, &d);
            assert_eq!(w.weight(sheet), 0.0, "{text}");
            assert_eq!(w.weight(cutting), 1.0, "{text}");
        }
        // a want in the same sentence as the owner is still a want
        let w = weights(&o, "当社では精密板金の外注先を探しています。", &d);
        assert_eq!(w.weight(sheet), 1.0);
        // configured to count a little, it does
        let some = NeedScoping {
            self_weight: 0.2,
            ..NeedScoping::default()
        };
        let w = weights(&o, "大田区で精密板金を手がける会社です。", &some);
        assert_eq!(w.weight(sheet), 0.2);
    }

    #[test]
    fn nice_to_haves_weigh_little_and_in_house_work_nothing() {
        let o = ontology();
        let d = NeedScoping::default();
        let (cutting, anodizing) = (id(&o, "cutting"), id(&o, "anodizing"));
        let w = weights(
            &o,
            "アルミ筐体の切削加工をお願いしたい。できればアルマイト処理まで。",
            &d,
        );
        assert_eq!(w.weight(cutting), 1.0);
        assert_eq!(w.weight(anodizing), d.optional_weight);
        assert!(d.optional_weight > 0.0 && d.optional_weight < 1.0);
        let w = weights(
            &o,
            "アルミ筐体の切削加工をお願いしたい。アルマイト処理があればなお良い。",
            &d,
        );
        assert_eq!(w.weight(anodizing), d.optional_weight);
        let w = weights(
            &o,
            "アルミ筐体の切削加工をお願いしたい。アルマイトはこちらで手配します。",
            &d,
        );
        assert_eq!(w.weight(anodizing), 0.0);
        assert_eq!(w.weight(cutting), 1.0);
        // the mention says why
        let m = o.extract_need_text("アルマイトはこちらで手配します。", &d);
        assert!(m
            .iter()
            .any(|m| m.concept == anodizing && m.scope == Some(ScopeKind::InHouse)));
    }

    #[test]
    fn boilerplate_head_words_evoke_nothing_in_a_need() {
        let o = ontology();
        let cad = id(&o, "cad_drafting");
        let pmark = id(&o, "privacy_mark");
        let text = "図面あり。ISO9001の資格を取得している会社に限ります。";
        let all = NeedScoping {
            head_words: NeedHeadWords::All,
            ..NeedScoping::default()
        };
        let w = weights(&o, text, &all);
        assert!(w.weight(cad) > 0.0 && w.weight(pmark) > 0.0, "{w:?}");
        let w = weights(&o, text, &NeedScoping::default());
        assert_eq!(w.weight(cad), 0.0);
        assert_eq!(w.weight(pmark), 0.0);
        // a lot size's 規模 asks for no AI
        let genai = id(&o, "generative_ai");
        let text = "自社ブランドのクッキーを年間百万個規模で焼いてくれる企業を探しております。";
        assert!(weights(&o, text, &all).weight(genai) > 0.0);
        assert_eq!(
            weights(&o, text, &NeedScoping::default()).weight(genai),
            0.0
        );
        // a distinctive head word still evokes its concept in a need
        let web = id(&o, "website_production");
        let w = weights(&o, "ホームページを新しくしたい。", &NeedScoping::default());
        assert_eq!(w.weight(web), NeedScoping::default().head_weight);
        assert!(w.weight(web) > 0.0);
        // a profile keeps every head word, a boilerplate one at a lower weight
        let m = o.extract_text("図面がなくても現物からの対応が可能です。", false);
        let drawing = m
            .iter()
            .find(|m| m.concept == cad && m.head_word)
            .expect("図面 evokes CAD drafting in a profile");
        assert_eq!(drawing.weight, BOILERPLATE_HEAD_WEIGHT);
        assert!(BOILERPLATE_HEAD_WEIGHT < HEAD_WEIGHT);
        let m = o.extract_text("ホームページを新しくします。", false);
        assert!(m
            .iter()
            .any(|m| m.concept == web && m.head_word && m.weight == HEAD_WEIGHT));
    }

    /// A katakana surface does not fire from inside a longer katakana word
    /// (ニット of ユニット, ラダ of サラダ), while a compound's head still
    /// does (ハーネス of ワイヤーハーネス, which has a surface of its own).
    #[test]
    fn katakana_surfaces_match_on_word_boundaries() {
        let o = ontology();
        let knitting = id(&o, "knitting");
        let plc = id(&o, "plc_control");
        let text = "スピーカーユニットの組立と、サラダの製造を行っています。";
        let found = o.extract_text(text, false);
        assert!(
            !found
                .iter()
                .any(|m| m.concept == knitting || m.concept == plc),
            "{found:?}"
        );
        // the words themselves still evoke their concepts
        let found = o.extract_text("ニットの縫製とラダー回路の設計。", false);
        assert!(found.iter().any(|m| m.concept == knitting && !m.head_word));
        assert!(found.iter().any(|m| m.concept == plc));
        // a katakana compound's head, which the analyzer splits off:
        // デザイン of グッドデザイン賞
        let design = id(&o, "design");
        let found = o.extract_text("グッドデザイン賞を受賞しました。", false);
        assert!(
            found
                .iter()
                .any(|m| m.concept == design && m.evidence == "デザイン"),
            "{found:?}"
        );
    }

    /// Spellings with and without a ー inside a compound meet the same
    /// surface: the ontology lists パウダーコーティング only.
    #[test]
    fn long_vowels_inside_compounds_meet_the_surface() {
        let o = ontology();
        let powder = id(&o, "powder_coating");
        for text in [
            "鉄フレームをパウダーコーティングで仕上げます。",
            "鉄フレームをパウダコーティングで仕上げます。",
        ] {
            let found = o.extract_text(text, false);
            let m = found
                .iter()
                .find(|m| m.concept == powder && !m.head_word)
                .unwrap_or_else(|| panic!("{text}: {found:?}"));
            // the evidence is the text as written
            assert!(m.evidence.starts_with("パウダ"), "{}", m.evidence);
            assert!(m.evidence.ends_with("コーティング"), "{}", m.evidence);
        }
    }

    /// One-character surfaces (銅, 鞄) are found as words of their own, not
    /// inside longer words (銅像, 鞄店 is a word of its own too).
    #[test]
    fn one_character_surfaces_need_a_word_of_their_own() {
        let o = ontology();
        let copper = id(&o, "copper");
        let found = o.extract_text("鉄・銅・アルミの切削に対応します。", false);
        assert!(
            found
                .iter()
                .any(|m| m.concept == copper && m.evidence == "銅" && m.weight == 1.0),
            "{found:?}"
        );
        let found = o.extract_text("駅前の銅像の清掃を請け負います。", false);
        assert!(!found.iter().any(|m| m.concept == copper), "{found:?}");
        // in a need, scoped like any surface: 銅は不要 asks for no copper
        let w = weights(&o, "銅は対象外です。", &NeedScoping::default());
        assert_eq!(w.weight(copper), 0.0);
    }

    /// The stop-list names head words of the bundled ontology: a word that
    /// is not one stops nothing and does not belong in it.
    #[test]
    fn every_need_stop_word_is_a_head_word() {
        let o = ontology();
        let missing: Vec<&str> = NEED_HEAD_STOP
            .iter()
            .copied()
            .filter(|w| !o.head_words.contains_key(*w))
            .collect();
        assert!(missing.is_empty(), "not head words: {missing:?}");
    }
}
