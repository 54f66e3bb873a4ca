//! Helpers shared by the `import`, `index` and `privacy` integration tests.
//!
//! The analysis context is loaded once per test binary; fixture records are
//! parsed once and cloned by the tests that need them.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

use matcher_core::index::search::SearchError;
use matcher_core::index::{Facet, Filters, Hit};
use matcher_core::model::{Company, Date, Need, Visibility};
use matcher_core::{fixtures, Context, Engine, EngineError, Role, SearchRequest, SearchResponse};

/// The analysis context from the real fixtures, loaded once per binary.
pub fn ctx() -> Arc<Context> {
    static CTX: OnceLock<Arc<Context>> = OnceLock::new();
    CTX.get_or_init(|| {
        Arc::new(Context::load(&fixtures::fixtures_dir()).expect("load the fixtures context"))
    })
    .clone()
}

/// Every fixture company, parsed and validated (the fixtures have no bad rows).
pub fn fixture_companies() -> Vec<Company> {
    static C: OnceLock<Vec<Company>> = OnceLock::new();
    C.get_or_init(|| {
        let ctx = ctx();
        let p = fixtures::companies(&fixtures::fixtures_dir(), &ctx.taxonomy)
            .expect("read fixture companies");
        assert!(
            p.rejected.is_empty(),
            "fixture rows rejected: {:?}",
            p.rejected
        );
        assert!(
            p.records.len() > 200,
            "expected the bundled fixture companies"
        );
        p.records
    })
    .clone()
}

/// Every fixture need.
pub fn fixture_needs() -> Vec<Need> {
    static N: OnceLock<Vec<Need>> = OnceLock::new();
    N.get_or_init(|| {
        let ctx = ctx();
        let p = fixtures::needs(&fixtures::fixtures_dir(), &ctx.taxonomy).expect("read needs");
        assert!(
            p.rejected.is_empty(),
            "fixture needs rejected: {:?}",
            p.rejected
        );
        p.records
    })
    .clone()
}

/// The raw JSON lines of the bundled company files, in file order.
pub fn fixture_company_lines() -> &'static [String] {
    static L: OnceLock<Vec<String>> = OnceLock::new();
    L.get_or_init(read_fixture_company_lines)
}

fn read_fixture_company_lines() -> Vec<String> {
    let dir = fixtures::fixtures_dir();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            n.starts_with("companies") && n.ends_with(".jsonl")
        })
        .collect();
    files.sort();
    let mut lines = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read fixture");
        lines.extend(
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_owned),
        );
    }
    lines
}

/// A minimal valid public company in 大田区 (131113), JSIC 24, updated today.
pub fn company(id: &str, name: &str, capabilities: &str) -> Company {
    Company {
        id: id.parse().expect("test id"),
        name: name.to_owned(),
        name_kana: None,
        municipality_code: "131113".parse().expect("大田区"),
        address: None,
        location: None,
        industry_codes: vec!["24".parse().expect("jsic")],
        capabilities: capabilities.to_owned(),
        products: None,
        equipment: Vec::new(),
        certifications: Vec::new(),
        employees: None,
        capital_jpy: None,
        founded_year: None,
        visibility: Visibility::Public,
        updated_at: Some(Date::today()),
    }
}

/// An in-memory engine holding `companies`.
pub fn memory_engine(companies: Vec<Company>) -> Engine {
    let e = Engine::in_memory(ctx()).expect("in-memory engine");
    if !companies.is_empty() {
        e.upsert_companies(companies).expect("upsert");
    }
    e
}

/// A text query with defaults.
pub fn req(q: &str) -> SearchRequest {
    SearchRequest {
        query: q.to_owned(),
        limit: 100,
        ..Default::default()
    }
}

/// A filter-only request.
pub fn filter_req(filters: Filters) -> SearchRequest {
    SearchRequest {
        query: String::new(),
        filters,
        limit: 100,
        ..Default::default()
    }
}

pub fn search(e: &Engine, r: &SearchRequest, role: Role) -> SearchResponse {
    e.search(r, role)
        .unwrap_or_else(|err| panic!("search {:?} failed: {err}", r.query))
}

/// Every hit of a request, paging through with the largest page.
pub fn all_hits(e: &Engine, r: &SearchRequest, role: Role) -> (usize, Vec<Hit>) {
    let mut out = Vec::new();
    let mut r = r.clone();
    r.limit = matcher_core::index::search::MAX_PAGE_SIZE;
    r.offset = 0;
    // ids, scores and flags only: snippets and facets are checked elsewhere
    r.highlight = false;
    r.facets = false;
    let first = search(e, &r, role);
    let total = first.total;
    out.extend(first.hits);
    while out.len() < total {
        r.offset = out.len();
        let page = search(e, &r, role);
        assert_eq!(page.total, total, "total changed while paging");
        assert!(
            !page.hits.is_empty(),
            "empty page before the total was reached"
        );
        out.extend(page.hits);
    }
    (total, out)
}

pub fn all_ids(e: &Engine, r: &SearchRequest, role: Role) -> BTreeSet<String> {
    let (total, hits) = all_hits(e, r, role);
    let ids: BTreeSet<String> = hits.into_iter().map(|h| h.id).collect();
    assert_eq!(ids.len(), total, "paging returned duplicates or lost hits");
    ids
}

/// The typed search error of a request that must fail.
pub fn search_err(e: &Engine, r: &SearchRequest, role: Role) -> SearchError {
    match e.search(r, role) {
        Ok(resp) => panic!(
            "expected an error for {:?}, got {} hits",
            r.query, resp.total
        ),
        Err(EngineError::Search(s)) => s,
        Err(other) => panic!("expected a SearchError, got {other:?}"),
    }
}

/// Great-circle distance in km, written independently of the engine.
pub fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let r = 6371.0_f64;
    let (p1, p2) = (a.0.to_radians(), b.0.to_radians());
    let dp = p2 - p1;
    let dl = (b.1 - a.1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * r * h.sqrt().asin()
}

/// Facet list as value → count.
pub fn facet_map(f: &[Facet]) -> BTreeMap<String, usize> {
    f.iter().map(|x| (x.value.clone(), x.count)).collect()
}

/// Deterministic xorshift generator (no external randomness in tests).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}
