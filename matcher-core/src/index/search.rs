//! Company search for portals and coordinators: free text, filters, facets,
//! highlights, sorting and paging.
//!
//! Privacy is enforced in one place, `matching_slots`: every hit,
//! total and facet count is computed from the slots that survive the role
//! filter, so a public caller cannot learn of a restricted company through
//! any surface.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::query::{AllQuery, BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader, Term};

use super::query::{self, ParsedQuery, QueryTerm};
use super::records::CompanyFeatures;
use super::schema::CompanyFields;
use super::snippet::{snippet, Snippet};
use super::View;
pub use crate::access::Role;
use crate::analysis::Analyzer;
use crate::context::Context;
use crate::model::{Date, GeoPoint, JsicCode, MunicipalityCode, Visibility};
use crate::taxonomy::Taxonomy;

/// Longest accepted query, in characters.
pub const MAX_QUERY_CHARS: usize = 1_000;
/// Largest page.
pub const MAX_PAGE_SIZE: usize = 100;
/// Deepest page start.
pub const MAX_OFFSET: usize = 10_000;

/// A search request the engine refuses: the caller's error, with the field
/// to fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize)]
pub enum SearchError {
    /// No words and no filter: "everything" is not a search.
    #[error("the query is empty: give words to search for, or at least one filter")]
    EmptyQuery,
    /// The query is longer than [`MAX_QUERY_CHARS`].
    #[error("the query has {chars} characters; the limit is {MAX_QUERY_CHARS}")]
    QueryTooLong {
        /// The query's length in characters.
        chars: usize,
    },
    /// A JSIC filter names neither a code of the table nor a cluster.
    #[error("filters.jsic: {0:?} is neither a known JSIC code nor a cluster id")]
    UnknownJsic(String),
    /// A municipality filter is not in the table.
    #[error("filters.municipalities: {0} is not in the municipality table")]
    UnknownMunicipality(String),
    /// A prefecture filter is not 01–47.
    #[error("filters.prefectures: {0:?} is not a prefecture code 01-47")]
    UnknownPrefecture(String),
    /// A distance filter is not a positive number of kilometres.
    #[error("filters.near.km: {0} must be a positive number of kilometres")]
    BadDistance(f64),
    /// A distance filter with neither a point nor a municipality.
    #[error("filters.near: give either lat/lon or a municipality")]
    BadNear,
    /// A page size of 0 or above [`MAX_PAGE_SIZE`].
    #[error("limit {0} is out of range 1..={MAX_PAGE_SIZE}")]
    PageTooLarge(usize),
    /// A page start beyond [`MAX_OFFSET`]: deep paging costs the engine, a
    /// narrower query serves the user better.
    #[error("offset {0} is beyond the deepest page start {MAX_OFFSET}; narrow the query instead")]
    OffsetTooLarge(usize),
    /// An employee range whose minimum exceeds its maximum.
    #[error("filters.employees: min {0} is greater than max {1}")]
    BadRange(u32, u32),
}

/// Within `km` of a point or of a municipality's office.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Near {
    /// Latitude of the centre (with `lon`).
    pub lat: Option<f64>,
    /// Longitude of the centre (with `lat`).
    pub lon: Option<f64>,
    /// Or the centre at this municipality's office.
    pub municipality: Option<MunicipalityCode>,
    /// The radius.
    pub km: f64,
}

/// Combinable filters (all must hold).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, default)]
pub struct Filters {
    /// JSIC codes at any level, or cluster ids (`soft_monozukuri`): any of.
    pub jsic: Vec<String>,
    /// Registered in any of these municipalities.
    pub municipalities: Vec<MunicipalityCode>,
    /// Two-digit prefecture codes.
    #[cfg_attr(feature = "openapi", schema(pattern = r"^[0-9]{2}$"))]
    pub prefectures: Vec<String>,
    /// Within a distance of a point or a municipality.
    pub near: Option<Near>,
    /// All of.
    pub certifications: Vec<String>,
    /// An equipment word (name, maker or model).
    pub equipment: Option<String>,
    /// At least this many employees (a company without a count is excluded).
    pub employees_min: Option<u32>,
    /// At most this many employees (a company without a count is excluded).
    pub employees_max: Option<u32>,
    /// Profile confirmed on or after this date (a company without a date is excluded).
    pub updated_since: Option<Date>,
    /// Drop stale profiles.
    pub exclude_stale: bool,
    /// Only this visibility (a portal sees public companies whatever it asks).
    pub visibility: Option<Visibility>,
}

impl Filters {
    /// No filter set: a search then needs words.
    pub fn is_empty(&self) -> bool {
        *self == Filters::default()
    }
}

/// The order of search hits; ties always break by company id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Best BM25 score first.
    #[default]
    Relevance,
    /// Most recently confirmed profile first (unknown dates last).
    UpdatedAt,
}

/// A search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, default)]
pub struct SearchRequest {
    /// Words, `"phrases"` and `-excluded` words; empty for a filter-only search.
    pub query: String,
    /// Conditions every hit must meet.
    pub filters: Filters,
    /// The order of hits.
    pub sort: Sort,
    /// Hits to skip (at most `MAX_OFFSET`: deeper pages are refused).
    pub offset: usize,
    /// Hits per page (1 to `MAX_PAGE_SIZE`).
    pub limit: usize,
    /// Count the hits per JSIC division, municipality and certification.
    pub facets: bool,
    /// Give snippets of the profile text with the query's terms highlighted.
    pub highlight: bool,
    /// Also give each snippet as escaped HTML with `<em>` around its
    /// highlights ([`Snippet::formatted`]), for a page that shows it as is.
    pub formatted: bool,
}

impl Default for SearchRequest {
    fn default() -> Self {
        SearchRequest {
            query: String::new(),
            filters: Filters::default(),
            sort: Sort::Relevance,
            offset: 0,
            limit: 20,
            facets: true,
            highlight: true,
            formatted: false,
        }
    }
}

/// One company in a result page.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hit {
    /// The company's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Relevance (BM25 with the configured field boosts): comparable within
    /// one response only.
    pub score: f32,
    /// Its municipality code, with check digit.
    pub municipality_code: String,
    /// The municipality's name, if the table knows the code.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub municipality: Option<String>,
    /// Its JSIC codes.
    pub industry_codes: Vec<String>,
    /// When the profile was last confirmed (`YYYY-MM-DD`).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub updated_at: Option<String>,
    /// Confirmed longer ago than the configured months: worth a call before use.
    pub stale: bool,
    /// Highlighted pieces of the profile, if asked for.
    pub snippets: Vec<Snippet>,
}

/// One value of a facet and how many hits have it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Facet {
    /// The value to filter on (a code, a canonical certification).
    pub value: String,
    /// What to show (the name of the code).
    pub label: String,
    /// Hits with this value, over the whole result, not the page.
    pub count: usize,
}

/// Counts over every hit of a search (what narrowing by each value would
/// leave), the 30 most frequent values per facet.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Facets {
    /// Per JSIC division (a company counts once per division).
    pub jsic_division: Vec<Facet>,
    /// Per municipality.
    pub municipality: Vec<Facet>,
    /// Per certification held.
    pub certification: Vec<Facet>,
}

/// A page of search hits, with totals over the whole result.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchResponse {
    /// Hits in the whole result (what the caller may see).
    pub total: usize,
    /// The page's start, as asked.
    pub offset: usize,
    /// The page's size, as asked.
    pub limit: usize,
    /// The page.
    pub hits: Vec<Hit>,
    /// Facet counts, if asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub facets: Option<Facets>,
}

/// Collects (slot, score) of every matching document.
pub(crate) struct SlotCollector;

pub(crate) struct SlotSegment {
    slots: tantivy::columnar::Column<u64>,
    out: Vec<(u32, f32)>,
}

impl Collector for SlotCollector {
    type Fruit = Vec<(u32, f32)>;
    type Child = SlotSegment;

    fn for_segment(&self, _: SegmentOrdinal, seg: &SegmentReader) -> tantivy::Result<SlotSegment> {
        Ok(SlotSegment {
            slots: seg.fast_fields().u64("slot")?,
            out: Vec::new(),
        })
    }
    fn requires_scoring(&self) -> bool {
        true
    }
    fn merge_fruits(&self, fruits: Vec<Vec<(u32, f32)>>) -> tantivy::Result<Vec<(u32, f32)>> {
        Ok(fruits.into_iter().flatten().collect())
    }
}

impl SegmentCollector for SlotSegment {
    type Fruit = Vec<(u32, f32)>;
    fn collect(&mut self, doc: DocId, score: Score) {
        if let Some(s) = self.slots.first(doc) {
            self.out.push((s as u32, score));
        }
    }
    fn harvest(self) -> Vec<(u32, f32)> {
        self.out
    }
}

/// Filters resolved against the tables once per request.
pub(crate) struct ResolvedFilters {
    jsic: Vec<JsicCode>,
    municipalities: Vec<u32>,
    prefectures: Vec<u8>,
    near: Option<(GeoPoint, f64)>,
    certifications: Vec<String>,
    equipment: Option<String>,
    employees: (Option<u32>, Option<u32>),
    updated_since: Option<Date>,
    stale_cutoff: Option<Date>,
    visibility: Option<Visibility>,
}

impl ResolvedFilters {
    pub(crate) fn matches(&self, f: &CompanyFeatures) -> bool {
        if !self.jsic.is_empty()
            && !self
                .jsic
                .iter()
                .any(|want| f.jsic.iter().any(|have| jsic_covers(want, have)))
        {
            return false;
        }
        if !self.municipalities.is_empty() && !self.municipalities.contains(&f.municipality.base())
        {
            return false;
        }
        if !self.prefectures.is_empty() && !self.prefectures.contains(&f.municipality.prefecture())
        {
            return false;
        }
        if let Some((p, km)) = self.near {
            match f.location {
                Some(l) if l.distance_km(p) <= km => {}
                _ => return false,
            }
        }
        if !self
            .certifications
            .iter()
            .all(|c| f.certifications.contains(c))
        {
            return false;
        }
        if let Some(e) = &self.equipment {
            if !f.equipment.iter().any(|x| x.contains(e.as_str())) {
                return false;
            }
        }
        if let (Some(min), n) = (self.employees.0, f.employees) {
            if n.is_none_or(|n| n < min) {
                return false;
            }
        }
        if let (Some(max), n) = (self.employees.1, f.employees) {
            if n.is_none_or(|n| n > max) {
                return false;
            }
        }
        if let Some(since) = self.updated_since {
            if f.updated_at.is_none_or(|d| d < since) {
                return false;
            }
        }
        if let Some(cutoff) = self.stale_cutoff {
            if f.is_stale(cutoff) {
                return false;
            }
        }
        if let Some(v) = self.visibility {
            if f.visibility != v {
                return false;
            }
        }
        true
    }
}

/// Does a wanted code (any level) cover a company's code? A division
/// covers its groups and classes; a section covers its divisions.
pub(crate) fn jsic_covers(want: &JsicCode, have: &JsicCode) -> bool {
    have.as_str().starts_with(want.as_str())
}

impl ResolvedFilters {
    /// `f` checked and resolved against the tables: clusters and sections
    /// expanded to their codes, municipalities to their base codes,
    /// certifications to their canonical names; `stale_cutoff` is the
    /// engine's (profiles not confirmed since are stale).
    pub(crate) fn resolve(
        f: &Filters,
        tax: &Taxonomy,
        stale_cutoff: Date,
    ) -> Result<ResolvedFilters, SearchError> {
        let mut jsic = Vec::new();
        for j in &f.jsic {
            if let Some(c) = tax.cluster(j) {
                jsic.extend(c.codes.iter().cloned());
                continue;
            }
            let code: JsicCode = j.parse().map_err(|_| SearchError::UnknownJsic(j.clone()))?;
            if let crate::taxonomy::JsicCheck::Unknown(_) = tax.check_jsic(&code) {
                return Err(SearchError::UnknownJsic(j.clone()));
            }
            // A section letter covers the divisions under it (and itself).
            if code.level() == crate::model::JsicLevel::Section {
                jsic.push(code.clone());
                jsic.extend(
                    tax.jsic_entries()
                        .filter(|e| {
                            e.level == crate::model::JsicLevel::Division
                                && e.parent.as_deref() == Some(code.as_str())
                        })
                        .map(|e| e.code.clone()),
                );
            } else {
                jsic.push(code);
            }
        }
        for m in &f.municipalities {
            if tax.municipality(*m).is_none() {
                return Err(SearchError::UnknownMunicipality(m.to_string()));
            }
        }
        let mut prefectures = Vec::new();
        for p in &f.prefectures {
            match p.parse::<u8>() {
                Ok(v) if p.len() == 2 && (1..=47).contains(&v) => prefectures.push(v),
                _ => return Err(SearchError::UnknownPrefecture(p.clone())),
            }
        }
        let near = match &f.near {
            None => None,
            Some(n) => {
                if !(n.km.is_finite() && n.km > 0.0) {
                    return Err(SearchError::BadDistance(n.km));
                }
                let point = match (n.lat, n.lon, n.municipality) {
                    (Some(lat), Some(lon), None) if lat.is_finite() && lon.is_finite() => {
                        GeoPoint { lat, lon }
                    }
                    // Only a municipality of the table: `office` would fall
                    // back to the prefecture's office for an unknown code.
                    (None, None, Some(m)) => tax
                        .municipality(m)
                        .map(|x| x.office)
                        .ok_or_else(|| SearchError::UnknownMunicipality(m.to_string()))?,
                    _ => return Err(SearchError::BadNear),
                };
                Some((point, n.km))
            }
        };
        if let (Some(a), Some(b)) = (f.employees_min, f.employees_max) {
            if a > b {
                return Err(SearchError::BadRange(a, b));
            }
        }
        Ok(ResolvedFilters {
            jsic,
            municipalities: f.municipalities.iter().map(|m| m.base()).collect(),
            prefectures,
            near,
            certifications: f
                .certifications
                .iter()
                .map(|c| tax.canonical_certification(c))
                .collect(),
            equipment: f
                .equipment
                .as_deref()
                .map(crate::analysis::normalize_key)
                .filter(|e| !e.is_empty()),
            employees: (f.employees_min, f.employees_max),
            updated_since: f.updated_since,
            stale_cutoff: f.exclude_stale.then_some(stale_cutoff),
            visibility: f.visibility,
        })
    }
}

/// The boosts of the searched text fields: matching's (config `[fields]`),
/// but for the name (see `matching::FieldBoosts`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TextBoosts {
    pub name: f32,
    pub capabilities: f32,
    pub products: f32,
    pub equipment: f32,
}

/// The text query of a search and the terms to highlight; `None` when
/// the text has nothing searchable (only stop words or symbols).
pub(crate) fn search_query(
    f: &CompanyFields,
    analyzer: &Analyzer,
    b: TextBoosts,
    parsed: &ParsedQuery,
    bigrams: bool,
) -> (Option<Box<dyn Query>>, Vec<QueryTerm>) {
    let terms = query::expand_terms(analyzer, &analyzer.analyze(&parsed.free));
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut should: Vec<(Occur, Box<dyn Query>)> = query::terms_query(
        &terms,
        &[
            (f.name, b.name),
            (f.capabilities, b.capabilities),
            (f.products, b.products),
            (f.equipment, b.equipment),
        ],
    );
    if let Some(q) = query::bigram_query(&parsed.free, f.grams, 0.3).filter(|_| bigrams) {
        should.push((Occur::Should, q));
    }
    if let Some(q) =
        query::kana_only(&parsed.free).and_then(|k| query::bigram_query(&k, f.reading, 2.0))
    {
        should.push((Occur::Should, q));
    }
    if !should.is_empty() {
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(should))));
    }
    let text_fields = [f.name, f.capabilities, f.products, f.equipment];
    let mut highlight = terms;
    for p in &parsed.phrases {
        if let Some(q) = query::phrase_query(analyzer, p, &text_fields) {
            clauses.push((Occur::Must, Box::new(BoostQuery::new(q, 2.0))));
            for t in analyzer.analyze(p) {
                highlight.push(QueryTerm {
                    term: t.term,
                    weight: 1.0,
                });
            }
        }
    }
    for x in &parsed.excluded {
        for t in analyzer.analyze(x) {
            for &field in &text_fields {
                let q = TermQuery::new(
                    Term::from_field_text(field, &t.term),
                    IndexRecordOption::Basic,
                );
                clauses.push((Occur::MustNot, Box::new(q)));
            }
        }
    }
    if clauses.is_empty() {
        return (None, highlight);
    }
    if clauses.iter().all(|(o, _)| *o == Occur::MustNot) {
        clauses.push((Occur::Must, Box::new(AllQuery)));
    }
    (Some(Box::new(BooleanQuery::new(clauses))), highlight)
}

/// Slots matching `q` that `role` may see and `filters` keep, with scores:
/// where search applies the privacy rule, so every hit, total and facet
/// count comes from slots `role` may see.
pub(crate) fn matching_slots(
    v: &View,
    q: &dyn Query,
    role: Role,
    filters: &ResolvedFilters,
) -> tantivy::Result<Vec<(u32, f32)>> {
    let raw = v.search_companies(role, q, &SlotCollector)?;
    let rec = &v.records;
    Ok(raw
        .into_iter()
        .filter(|(slot, _)| {
            rec.companies
                .get(*slot)
                .is_some_and(|f| role.may_see(f.visibility) && filters.matches(f))
        })
        .collect())
}

/// The answer to `req` from its `hits` (what [`matching_slots`] kept):
/// sorted, counted, faceted, and the requested page with its highlights.
pub(crate) fn page(
    v: &View,
    ctx: &Context,
    req: &SearchRequest,
    mut hits: Vec<(u32, f32)>,
    highlight_terms: &[QueryTerm],
    stale_cutoff: Date,
) -> tantivy::Result<SearchResponse> {
    let rec = &v.records;
    let id_of = |s: u32| rec.companies.get(s).map(|f| f.id.as_str()).unwrap_or("");
    match req.sort {
        Sort::Relevance => {
            hits.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| id_of(a.0).cmp(id_of(b.0))))
        }
        Sort::UpdatedAt => {
            let date = |s: u32| rec.companies.get(s).and_then(|f| f.updated_at);
            hits.sort_by(|a, b| {
                date(b.0)
                    .cmp(&date(a.0))
                    .then_with(|| id_of(a.0).cmp(id_of(b.0)))
            });
        }
    }
    let facets = req.facets.then(|| facets(&ctx.taxonomy, rec, &hits));
    let page: Vec<(u32, f32)> = hits
        .iter()
        .skip(req.offset)
        .take(req.limit)
        .copied()
        .collect();
    let total = hits.len();
    let page_feats: Vec<(&CompanyFeatures, f32)> = page
        .iter()
        .filter_map(|(s, sc)| rec.companies.get(*s).map(|f| (f, *sc)))
        .collect();
    let mut out = Vec::with_capacity(page_feats.len());
    for (f, score) in page_feats {
        let snippets = if req.highlight {
            match v.stored_company(f.id.as_str())? {
                Some(c) => snippets(&ctx.analyzer, &c, highlight_terms, req.formatted),
                None => Vec::new(),
            }
        } else {
            Vec::new()
        };
        out.push(Hit {
            id: f.id.to_string(),
            name: f.name.clone(),
            score,
            municipality_code: f.municipality.to_string(),
            municipality: ctx
                .taxonomy
                .municipality(f.municipality)
                .map(|m| m.name.clone()),
            industry_codes: f.jsic.iter().map(|j| j.to_string()).collect(),
            updated_at: f.updated_at.map(|d| d.to_string()),
            stale: f.is_stale(stale_cutoff),
            snippets,
        });
    }
    Ok(SearchResponse {
        total,
        offset: req.offset,
        limit: req.limit,
        hits: out,
        facets,
    })
}

fn snippets(
    analyzer: &Analyzer,
    c: &crate::model::Company,
    terms: &[QueryTerm],
    formatted: bool,
) -> Vec<Snippet> {
    let want: std::collections::HashSet<&str> = terms.iter().map(|t| t.term.as_str()).collect();
    let eq = super::schema::equipment_text(c);
    [
        ("capabilities", c.capabilities.as_str()),
        ("products", c.products.as_deref().unwrap_or("")),
        ("equipment", eq.as_str()),
    ]
    .into_iter()
    .filter_map(|(field, text)| snippet(analyzer, field, text, &want, formatted))
    .collect()
}

fn facets(tax: &Taxonomy, rec: &super::records::Records, hits: &[(u32, f32)]) -> Facets {
    let mut div: HashMap<String, usize> = HashMap::new();
    let mut muni: HashMap<MunicipalityCode, usize> = HashMap::new();
    let mut cert: HashMap<String, usize> = HashMap::new();
    for (s, _) in hits {
        let Some(f) = rec.companies.get(*s) else {
            continue;
        };
        let mut divs: Vec<&str> = f.jsic.iter().filter_map(|j| j.division()).collect();
        divs.sort_unstable();
        divs.dedup();
        for d in divs {
            *div.entry(d.to_owned()).or_default() += 1;
        }
        *muni.entry(f.municipality).or_default() += 1;
        for c in &f.certifications {
            *cert.entry(c.clone()).or_default() += 1;
        }
    }
    fn top(mut v: Vec<Facet>) -> Vec<Facet> {
        v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        v.truncate(30);
        v
    }
    Facets {
        jsic_division: top(div
            .into_iter()
            .map(|(d, count)| Facet {
                label: tax.jsic(&d).map(|e| e.name.clone()).unwrap_or_default(),
                value: d,
                count,
            })
            .collect()),
        municipality: top(muni
            .into_iter()
            .map(|(m, count)| Facet {
                value: m.to_string(),
                label: tax
                    .municipality(m)
                    .map(|x| x.name.clone())
                    .unwrap_or_default(),
                count,
            })
            .collect()),
        certification: top(cert
            .into_iter()
            .map(|(c, count)| Facet {
                label: c.clone(),
                value: c,
                count,
            })
            .collect()),
    }
}
