//! Privacy contract (issue 4 roles): a restricted company never reaches a
//! public caller through any surface (hits, totals, facets, snippets, get
//! by id, id lists, matching, opportunities, batch), even when it matches
//! the query better than every public company; a coordinator sees it.
//!
//! Run: `cargo test -p matcher-core --test privacy`

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::AtomicBool;
use std::sync::OnceLock;

use matcher_core::index::Filters;
use matcher_core::matching::{batch, MatchOptions, MatchResult};
use matcher_core::model::{Company, Equipment, Need, NeedKind, NeedStatus, Visibility};
use matcher_core::{Engine, Role, SearchRequest};

use common::*;

/// Strings that belong only to restricted companies: none may appear in
/// anything a public caller receives.
const SECRET_MARKERS: &[&str] = &[
    "sec-1",
    "sec-2",
    "sec-3",
    "秘匿",
    "隠れ",
    "非公開",
    "ヒミツ",
    "秘密機械",
    "132292",
    "西東京",
    "ISO26262",
    "輸送用機械",
];

/// Public profiles mention the query words once, in longer text (so BM25
/// length normalization cannot lift them above the restricted ones).
const FILLER: &str = "創業以来、地域のお客様の図面をもとに丁寧な仕事を心がけています。納期や数量のご相談にも柔軟に応じますので、お気軽にお問い合わせください。";

fn public_companies() -> Vec<Company> {
    let mut p1 = company("pub-1", "株式会社大森製作所", "チタン合金の切削加工。");
    p1.certifications = vec!["ISO9001".into()];
    let mut p2 = company("pub-2", "株式会社糀谷工業", "チタンの旋盤加工と研削。");
    p2.industry_codes = vec!["26".parse().unwrap()];
    let mut p3 = company(
        "pub-3",
        "株式会社八王子アルミ",
        "アルミの切削加工。チタンも対応。",
    );
    p3.municipality_code = "132012".parse().unwrap();
    let mut p4 = company("pub-4", "株式会社多摩樹脂", "樹脂の射出成形と組立。");
    p4.municipality_code = "132012".parse().unwrap();
    p4.industry_codes = vec!["18".parse().unwrap()];
    let mut v = vec![p1, p2, p3, p4];
    for c in &mut v {
        c.capabilities = format!("{FILLER}{}{FILLER}", c.capabilities);
    }
    v
}

/// Restricted companies that match チタン/切削 far better than the public ones,
/// and own the only 西東京市 address, JSIC division 31 and ISO26262 (not
/// AS9100 any more: since #15 it is folded into the canonical JISQ9100).
fn restricted_companies() -> Vec<Company> {
    let mut s1 = company(
        "sec-1",
        "秘匿チタン工業株式会社",
        "チタン合金の切削加工、チタンの溶接、チタンの研削。チタン専門の切削加工。ヒミツ加工法で薄肉チタン部品を切削。",
    );
    s1.municipality_code = "132292".parse().unwrap();
    s1.industry_codes = vec!["31".parse().unwrap()];
    s1.certifications = vec!["ISO26262".into()];
    s1.equipment = vec![Equipment {
        name: "5軸マシニングセンタ".into(),
        maker: Some("秘密機械製作所".into()),
        model: None,
        count: Some(2),
        spec: None,
    }];
    s1.products = Some("チタン製の切削部品".into());
    let mut s2 = company(
        "sec-2",
        "株式会社隠れ切削",
        "チタン切削加工のチタン専門工場。チタン合金の切削と研削。",
    );
    s2.municipality_code = "132292".parse().unwrap();
    s2.certifications = vec!["ISO9001".into(), "ISO26262".into()];
    let mut s3 = company(
        "sec-3",
        "株式会社非公開精工",
        "チタン合金の5軸切削加工。チタン切削の試作。",
    );
    s3.industry_codes = vec!["31".parse().unwrap()];
    for c in [&mut s1, &mut s2, &mut s3] {
        c.visibility = Visibility::Restricted;
    }
    vec![s1, s2, s3]
}

fn need(id: &str, owner: Option<&str>, title: &str, text: &str) -> Need {
    Need {
        id: id.parse().unwrap(),
        company_id: owner.map(|o| o.parse().unwrap()),
        kind: NeedKind::Subcontracting,
        title: title.into(),
        text: text.into(),
        industry_codes: Vec::new(),
        equipment: Vec::new(),
        certifications_required: Vec::new(),
        region: None,
        status: NeedStatus::Open,
    }
}

fn needs() -> Vec<Need> {
    vec![
        need(
            "need-ti",
            Some("pub-4"),
            "チタン部品の切削",
            "チタン合金部品の切削加工をお願いできる会社を探しています。",
        ),
        need(
            "need-weld",
            Some("pub-1"),
            "チタン溶接の外注",
            "チタンの溶接と研削を外注したいと考えています。",
        ),
        need(
            "need-resin",
            Some("sec-1"),
            "樹脂部品の調達",
            "樹脂の射出成形品を調達したい。",
        ),
    ]
}

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| {
        let mut all = public_companies();
        all.extend(restricted_companies());
        let e = memory_engine(all);
        e.upsert_needs(needs()).unwrap();
        e
    })
}

fn public_ids() -> BTreeSet<String> {
    public_companies()
        .iter()
        .map(|c| c.id.to_string())
        .collect()
}

fn secret_ids() -> BTreeSet<String> {
    restricted_companies()
        .iter()
        .map(|c| c.id.to_string())
        .collect()
}

/// Nothing of a restricted company in a serialized answer.
fn assert_no_secret(what: &str, json: &str) {
    for m in SECRET_MARKERS {
        assert!(!json.contains(m), "{what} reveals {m:?}: {json}");
    }
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap()
}

fn opts() -> MatchOptions {
    MatchOptions {
        top_k: 200,
        mutual: true,
        explain: true,
        ..MatchOptions::default()
    }
}

// ---------------------------------------------------------------------------
// Search surfaces

#[test]
fn the_corpus_premise_restricted_companies_match_best() {
    let e = engine();
    let r = search(e, &req("チタン 切削"), Role::Coordinator);
    let top: BTreeSet<String> = r.hits.iter().take(3).map(|h| h.id.clone()).collect();
    assert_eq!(
        top,
        secret_ids(),
        "restricted companies rank first for a coordinator"
    );
    let m = e
        .matcher()
        .match_need(&needs()[0], Role::Coordinator, &opts())
        .unwrap();
    assert!(
        secret_ids().contains(&m.matches[0].company_id),
        "a restricted company is the best match: {:?}",
        m.matches
            .iter()
            .map(|x| (&x.company_id, x.score))
            .collect::<Vec<_>>()
    );
}

#[test]
fn public_search_hits_totals_facets_and_snippets_hide_restricted() {
    let e = engine();
    for q in [
        "チタン 切削",
        "チタン",
        "切削",
        "\"チタン合金\"",
        "加工 -樹脂",
        "ちたん",
    ] {
        let coord = all_ids(e, &req(q), Role::Coordinator);
        let want: BTreeSet<String> = coord.intersection(&public_ids()).cloned().collect();
        assert!(
            coord.iter().any(|id| secret_ids().contains(id)),
            "{q}: premise"
        );
        for limit in [1, 2, 20] {
            let r = SearchRequest {
                query: q.into(),
                limit,
                ..Default::default()
            };
            let resp = search(e, &r, Role::Public);
            assert_eq!(resp.total, want.len(), "{q}: public total");
            assert!(resp.hits.iter().all(|h| want.contains(&h.id)), "{q}");
            assert_eq!(resp.hits.len(), want.len().min(limit), "{q}");
            assert_no_secret(&format!("search {q:?} limit {limit}"), &json(&resp));
            // the facets count exactly the visible matches
            let f = resp.facets.as_ref().unwrap();
            let n: usize = facet_map(&f.municipality).values().sum();
            assert_eq!(
                n,
                want.len(),
                "{q}: municipality facet sums to the public total"
            );
        }
        let all = all_ids(e, &req(q), Role::Public);
        assert_eq!(all, want, "{q}: public ids over all pages");
    }
}

#[test]
fn facets_for_a_public_caller_are_brute_force_over_public_records() {
    let e = engine();
    let tax = &ctx().taxonomy;
    let r = search(e, &req("チタン"), Role::Public);
    let f = r.facets.unwrap();
    let visible: Vec<Company> = public_companies()
        .into_iter()
        .filter(|c| r.hits.iter().any(|h| h.id == c.id.as_str()))
        .collect();
    assert_eq!(visible.len(), r.total);
    let count = |pred: &dyn Fn(&Company) -> bool| visible.iter().filter(|c| pred(c)).count();
    for x in &f.jsic_division {
        assert_eq!(
            x.count,
            count(&|c| c
                .industry_codes
                .iter()
                .any(|j| j.as_str().starts_with(&x.value)))
        );
    }
    for x in &f.municipality {
        assert_eq!(
            x.count,
            count(&|c| c.municipality_code.to_string() == x.value)
        );
    }
    for x in &f.certification {
        assert_eq!(
            x.count,
            count(&|c| c
                .certifications
                .iter()
                .any(|y| tax.canonical_certification(y) == x.value))
        );
    }
    let values: BTreeSet<&str> = f
        .jsic_division
        .iter()
        .chain(&f.municipality)
        .chain(&f.certification)
        .map(|x| x.value.as_str())
        .collect();
    for secret in ["31", "132292", "ISO26262"] {
        assert!(!values.contains(secret), "facet value {secret} leaks");
    }
    // a coordinator does see them
    let c = search(e, &req("チタン"), Role::Coordinator).facets.unwrap();
    assert!(facet_map(&c.municipality).contains_key("132292"));
    assert!(facet_map(&c.jsic_division).contains_key("31"));
    assert!(facet_map(&c.certification).contains_key("ISO26262"));
}

#[test]
fn filters_that_select_only_restricted_companies_find_nothing_publicly() {
    let e = engine();
    let d = Filters::default;
    let cases = [
        Filters {
            municipalities: vec!["132292".parse().unwrap()],
            ..d()
        },
        Filters {
            jsic: vec!["31".into()],
            ..d()
        },
        Filters {
            jsic: vec!["transport_equipment".into()],
            ..d()
        },
        Filters {
            certifications: vec!["ISO26262".into()],
            ..d()
        },
        Filters {
            equipment: Some("秘密機械".into()),
            ..d()
        },
        Filters {
            visibility: Some(Visibility::Restricted),
            ..d()
        },
    ];
    for f in cases {
        for q in ["", "チタン"] {
            let mut r = filter_req(f.clone());
            r.query = q.into();
            let coord = search(e, &r, Role::Coordinator);
            assert!(coord.total > 0, "{f:?}: premise");
            let public = search(e, &r, Role::Public);
            assert_eq!(public.total, 0, "{f:?} {q:?}");
            assert!(public.hits.is_empty());
            let facets = public.facets.unwrap();
            assert!(facets.jsic_division.is_empty());
            assert!(facets.municipality.is_empty());
            assert!(facets.certification.is_empty());
        }
    }
    // words only restricted companies use
    for q in ["ヒミツ", "秘匿", "隠れ", "非公開精工"] {
        assert!(search(e, &req(q), Role::Coordinator).total > 0, "{q}");
        let r = search(e, &req(q), Role::Public);
        assert_eq!(r.total, 0, "{q}");
        assert_no_secret(q, &json(&r));
    }
}

// ---------------------------------------------------------------------------
// Get by id and lists

#[test]
fn get_by_id_is_none_exactly_as_for_a_missing_id() {
    let e = engine();
    let missing = e.company("sec-404", Role::Public).unwrap();
    assert_eq!(missing, None);
    for id in secret_ids() {
        assert_eq!(e.company(&id, Role::Public).unwrap(), missing, "{id}");
        let c = e
            .company(&id, Role::Coordinator)
            .unwrap()
            .expect("coordinator");
        assert_eq!(c.visibility, Visibility::Restricted);
        assert_eq!(e.company(&id, Role::Admin).unwrap(), Some(c));
    }
    for id in public_ids() {
        assert!(e.company(&id, Role::Public).unwrap().is_some());
    }
}

#[test]
fn id_lists_hide_restricted_companies() {
    let e = engine();
    let public: Vec<String> = public_ids().into_iter().collect();
    assert_eq!(e.company_ids(Role::Public), public);
    let mut all: Vec<String> = public_ids().union(&secret_ids()).cloned().collect();
    all.sort();
    assert_eq!(e.company_ids(Role::Coordinator), all);
    assert_eq!(e.company_ids(Role::Admin), all);
}

// ---------------------------------------------------------------------------
// Matching

fn assert_public_match(what: &str, r: &MatchResult) {
    for m in &r.matches {
        assert!(
            public_ids().contains(&m.company_id),
            "{what}: {} in a public match",
            m.company_id
        );
    }
    assert!(r.candidates >= r.matches.len());
    assert_no_secret(what, &json(r));
}

#[test]
fn match_need_never_includes_restricted_companies_publicly() {
    let e = engine();
    for n in needs() {
        let r = e.matcher().match_need(&n, Role::Public, &opts()).unwrap();
        assert_public_match(&format!("match {}", n.id), &r);
        let by_id = e
            .matcher()
            .match_need_id(n.id.as_str(), Role::Public, &opts())
            .unwrap()
            .unwrap();
        assert_eq!(by_id, r);
        let c = e
            .matcher()
            .match_need(&n, Role::Coordinator, &opts())
            .unwrap();
        let visible: Vec<&str> = c
            .matches
            .iter()
            .filter(|m| public_ids().contains(&m.company_id))
            .map(|m| m.company_id.as_str())
            .collect();
        // the public candidate set is the coordinator's minus restricted ones
        let pub_ids: BTreeSet<&str> = r.matches.iter().map(|m| m.company_id.as_str()).collect();
        assert_eq!(pub_ids, visible.iter().copied().collect(), "{}", n.id);
        assert_eq!(r.candidates, pub_ids.len(), "{}: candidates", n.id);
    }
    let c = e
        .matcher()
        .match_need(&needs()[0], Role::Coordinator, &opts())
        .unwrap();
    assert!(c
        .matches
        .iter()
        .any(|m| secret_ids().contains(&m.company_id)));
}

#[test]
fn batch_matching_is_filtered_by_role() {
    let e = engine();
    let cancel = AtomicBool::new(false);
    let mut lines = Vec::new();
    batch::run(
        &e.matcher(),
        Role::Public,
        50,
        &cancel,
        |l| {
            lines.push(l);
            Ok::<(), std::convert::Infallible>(())
        },
        |_, _| {},
    )
    .unwrap();
    assert_eq!(lines.len(), needs().len());
    for l in &lines {
        assert!(l
            .matches
            .iter()
            .all(|m| public_ids().contains(&m.company_id)));
    }
    assert_no_secret("batch", &json(&lines));
    let mut coord = Vec::new();
    batch::run(
        &e.matcher(),
        Role::Coordinator,
        50,
        &cancel,
        |l| {
            coord.push(l);
            Ok::<(), std::convert::Infallible>(())
        },
        |_, _| {},
    )
    .unwrap();
    assert!(coord
        .iter()
        .flat_map(|l| &l.matches)
        .any(|m| secret_ids().contains(&m.company_id)));
}

#[test]
fn opportunities_of_a_restricted_company_are_none_like_a_missing_one() {
    let e = engine();
    let missing = e
        .matcher()
        .opportunities("sec-404", Role::Public, &opts())
        .unwrap();
    assert_eq!(missing, None);
    for id in secret_ids() {
        assert_eq!(
            e.matcher()
                .opportunities(&id, Role::Public, &opts())
                .unwrap(),
            missing,
            "{id}"
        );
        assert!(e
            .matcher()
            .opportunities(&id, Role::Coordinator, &opts())
            .unwrap()
            .is_some());
    }
    let o = e
        .matcher()
        .opportunities("pub-1", Role::Public, &opts())
        .unwrap()
        .unwrap();
    assert_no_secret("opportunities of pub-1", &json(&o));
}

/// A public caller's opportunity rank and score are those of the public
/// ranking: they must not count restricted competitors.
#[test]
fn opportunity_rank_does_not_count_restricted_competitors() {
    let e = engine();
    let mut checked = 0;
    for id in ["pub-1", "pub-2", "pub-3"] {
        let ops = e
            .matcher()
            .opportunities(id, Role::Public, &opts())
            .unwrap()
            .unwrap();
        for o in ops {
            let n = e.need(&o.need_id, Role::Coordinator).unwrap();
            let m = e.matcher().match_need(&n, Role::Public, &opts()).unwrap();
            let pos = m
                .matches
                .iter()
                .position(|x| x.company_id == id)
                .expect("the company is a public candidate of its opportunity");
            assert_eq!(o.rank, pos + 1, "{id} for {}", o.need_id);
            assert!(
                (o.score - m.matches[pos].score).abs() < 1e-5,
                "{id} for {}: {} vs {}",
                o.need_id,
                o.score,
                m.matches[pos].score
            );
            checked += 1;
        }
    }
    assert!(checked > 0);
}

/// A need naming a restricted company as its owner must match, for a
/// public caller, exactly like a need naming an unknown company: the
/// owner's location and codes would otherwise reveal that it exists.
#[test]
fn a_restricted_owner_is_treated_like_an_unknown_one() {
    let e = engine();
    let with_secret = need(
        "probe",
        Some("sec-1"),
        "チタン部品の切削",
        "チタン合金部品の切削加工をお願いできる会社を探しています。",
    );
    let mut with_missing = with_secret.clone();
    with_missing.company_id = Some("sec-404".parse().unwrap());
    let ra = e
        .matcher()
        .match_need(&with_secret, Role::Public, &opts())
        .unwrap();
    let rb = e
        .matcher()
        .match_need(&with_missing, Role::Public, &opts())
        .unwrap();
    assert_eq!(json(&ra), json(&rb));
}

// ---------------------------------------------------------------------------
// The real fixtures (24 restricted companies among 275)

#[test]
fn fixture_corpus_public_answers_exclude_restricted() {
    let companies = fixture_companies();
    let restricted: BTreeSet<String> = companies
        .iter()
        .filter(|c| c.visibility == Visibility::Restricted)
        .map(|c| c.id.to_string())
        .collect();
    assert!(restricted.len() >= 10);
    let e = memory_engine(companies);
    let fixture_needs = fixture_needs();
    e.upsert_needs(fixture_needs.clone()).unwrap();

    let ids = e.company_ids(Role::Public);
    assert!(ids.iter().all(|id| !restricted.contains(id)));
    assert_eq!(
        ids.len() + restricted.len(),
        e.company_ids(Role::Coordinator).len()
    );
    let mut hidden = 0;
    for q in [
        "加工",
        "溶接 板金",
        "ソフトウェア 開発",
        "検査",
        "めっき",
        "食品",
    ] {
        let coord = all_ids(&e, &req(q), Role::Coordinator);
        let public = all_ids(&e, &req(q), Role::Public);
        let want: BTreeSet<String> = coord.difference(&restricted).cloned().collect();
        hidden += coord.len() - want.len();
        assert_eq!(public, want, "{q}");
    }
    assert!(
        hidden >= 5,
        "premise: restricted companies match these queries"
    );
    // every open need, batch-matched for a portal
    let cancel = AtomicBool::new(false);
    let mut seen = 0;
    batch::run(
        &e.matcher(),
        Role::Public,
        30,
        &cancel,
        |l| {
            for m in &l.matches {
                assert!(
                    !restricted.contains(&m.company_id),
                    "{}: {}",
                    l.need_id,
                    m.company_id
                );
                seen += 1;
            }
            Ok::<(), std::convert::Infallible>(())
        },
        |_, _| {},
    )
    .unwrap();
    assert!(seen > 100);
    for id in &restricted {
        assert_eq!(e.company(id, Role::Public).unwrap(), None);
        assert_eq!(
            e.matcher()
                .opportunities(id, Role::Public, &opts())
                .unwrap(),
            None
        );
    }
}
