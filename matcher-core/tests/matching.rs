//! Matching behaviour on the bundled fixtures plus small hand-made records.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};

use matcher_core::concepts::Ontology;
use matcher_core::matching::{batch, Explanation, MatchOptions};
use matcher_core::model::{Company, Need};
use matcher_core::{fixtures, Context, Engine, Role};

fn ctx() -> Arc<Context> {
    static CTX: OnceLock<Arc<Context>> = OnceLock::new();
    CTX.get_or_init(|| Arc::new(Context::load(&fixtures::fixtures_dir()).expect("fixtures")))
        .clone()
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let e = Engine::in_memory(ctx()).expect("engine");
        fixtures::load_into(&e, &fixtures::fixtures_dir()).expect("load");
        e
    })
}

fn company(json: &str) -> Company {
    let mut c: Company = serde_json::from_str(json).expect("company json");
    matcher_core::model::validate::company(&mut c, &ctx().taxonomy).expect("valid company");
    c
}

fn need(json: &str) -> Need {
    let mut n: Need = serde_json::from_str(json).expect("need json");
    matcher_core::model::validate::need(&mut n, &ctx().taxonomy).expect("valid need");
    n
}

fn ids(e: &Engine, n: &Need, role: Role) -> Vec<String> {
    let opts = MatchOptions {
        top_k: 50,
        ..MatchOptions::default()
    };
    e.matcher()
        .match_need(n, role, &opts)
        .expect("match")
        .matches
        .into_iter()
        .map(|m| m.company_id)
        .collect()
}

#[test]
fn paraphrased_need_finds_the_technique_and_explains_why() {
    let e = engine();
    let n = need(
        r#"{"id":"t1","kind":"subcontracting","title":"シャフトの外径仕上げ","text":"焼入れしたシャフトの外径を仕上げてくれる会社を探しています。"}"#,
    );
    let r = e
        .matcher()
        .match_need(&n, Role::Coordinator, &MatchOptions::default())
        .unwrap();
    let top = &r.matches[0];
    let ex = top.explanation.as_ref().unwrap();
    assert!(!ex.why.is_empty());
    assert!(
        ex.concepts
            .iter()
            .any(|c| c.have.contains("研削") || c.have.contains("旋削")),
        "top match {} should be explained by grinding or turning: {:?}",
        top.company_id,
        ex.concepts
    );
    // Every signal is in [0, 1] and contributions add up to the total.
    let sum: f32 = top.signals.iter().map(|s| s.contribution).sum();
    assert!((sum - top.score).abs() < 1e-4, "{sum} vs {}", top.score);
    assert!(top.signals.iter().all(|s| (0.0..=1.0).contains(&s.value)));
    // Term evidence points into the company's own text.
    let c = e
        .company(&top.company_id, Role::Coordinator)
        .unwrap()
        .unwrap();
    for ev in &ex.terms {
        let text = match ev.field.as_str() {
            "capabilities" => c.capabilities.clone(),
            "products" => c.products.clone().unwrap_or_default(),
            _ => continue,
        };
        assert_eq!(&text[ev.start..ev.end], ev.text);
    }
}

#[test]
fn out_of_scope_terms_do_not_attract_candidates() {
    let e = Engine::in_memory(ctx()).unwrap();
    e.upsert_companies(vec![
        company(r#"{"id":"paint","name":"塗装専業","municipality_code":"131113","industry_codes":["24"],"capabilities":"焼付塗装と粉体塗装の専門工場です。"}"#),
        company(r#"{"id":"mill","name":"切削工場","municipality_code":"131113","industry_codes":["24"],"capabilities":"アルミの切削加工、マシニングセンタで部品加工。"}"#),
    ])
    .unwrap();
    let with = need(
        r#"{"id":"a","kind":"subcontracting","title":"部品加工","text":"アルミ部品の切削加工をお願いしたい。塗装は対象外です。"}"#,
    );
    assert_eq!(ids(&e, &with, Role::Coordinator), ["mill"]);
    let without = need(
        r#"{"id":"b","kind":"subcontracting","title":"部品加工","text":"アルミ部品の切削加工と塗装をお願いしたい。"}"#,
    );
    assert!(ids(&e, &without, Role::Coordinator).contains(&"paint".to_string()));
}

#[test]
fn refused_work_in_a_profile_does_not_match() {
    let e = Engine::in_memory(ctx()).unwrap();
    e.upsert_companies(vec![
        company(r#"{"id":"nocast","name":"加工所","municipality_code":"131113","industry_codes":["24"],"capabilities":"旋盤加工が専門。鋳造には対応しておりません。"}"#),
        company(r#"{"id":"cast","name":"鋳物所","municipality_code":"112038","industry_codes":["22"],"capabilities":"鋳造（砂型）で鋳物を製作します。"}"#),
    ])
    .unwrap();
    let n = need(
        r#"{"id":"c","kind":"subcontracting","title":"鋳物","text":"鋳造をお願いできる会社を探しています。"}"#,
    );
    assert_eq!(ids(&e, &n, Role::Coordinator), ["cast"]);
}

#[test]
fn owner_region_and_certifications_are_hard_constraints() {
    let e = engine();
    let owned = need(
        r#"{"id":"o","company_id":"tk-001","kind":"subcontracting","title":"研削","text":"円筒研削をお願いしたい"}"#,
    );
    assert!(!ids(e, &owned, Role::Coordinator).contains(&"tk-001".to_string()));
    let regional = need(
        r#"{"id":"r","kind":"subcontracting","title":"研削","text":"円筒研削をお願いしたい","region":{"prefecture_codes":["13"]}}"#,
    );
    for id in ids(e, &regional, Role::Coordinator) {
        let c = e.company(&id, Role::Coordinator).unwrap().unwrap();
        assert_eq!(
            c.municipality_code.prefecture(),
            13,
            "{id} is outside Tokyo"
        );
    }
    let certified = need(
        r#"{"id":"q","kind":"subcontracting","title":"切削","text":"切削加工","certifications_required":["ＩＳＯ９００１"]}"#,
    );
    let got = ids(e, &certified, Role::Coordinator);
    assert!(!got.is_empty());
    for id in got {
        let c = e.company(&id, Role::Coordinator).unwrap().unwrap();
        assert!(
            c.certifications.iter().any(|x| x == "ISO9001"),
            "{id}: {:?}",
            c.certifications
        );
    }
}

#[test]
fn ranking_is_deterministic() {
    let e = engine();
    let n = need(
        r#"{"id":"d","kind":"subcontracting","title":"板金","text":"ステンレスの板金と溶接"}"#,
    );
    let a = ids(e, &n, Role::Coordinator);
    let b = ids(e, &n, Role::Coordinator);
    assert_eq!(a, b);
}

#[test]
fn mutual_matches_score_both_directions() {
    let e = Engine::in_memory(ctx()).unwrap();
    e.upsert_companies(vec![
        company(r#"{"id":"a","name":"A精機","municipality_code":"131113","industry_codes":["24"],"capabilities":"NC旋盤による切削加工。"}"#),
        company(r#"{"id":"b","name":"B鍍金","municipality_code":"131113","industry_codes":["24"],"capabilities":"無電解ニッケルめっき、亜鉛めっき。"}"#),
    ])
    .unwrap();
    e.upsert_needs(vec![
        need(r#"{"id":"na","company_id":"a","kind":"subcontracting","title":"めっき","text":"無電解ニッケルめっきをお願いしたい"}"#),
        need(r#"{"id":"nb","company_id":"b","kind":"subcontracting","title":"切削","text":"治具部品のNC旋盤による切削加工をお願いしたい"}"#),
    ])
    .unwrap();
    let opts = MatchOptions {
        top_k: 5,
        mutual: true,
        ..MatchOptions::default()
    };
    let r = e
        .matcher()
        .match_need_id("na", Role::Coordinator, &opts)
        .unwrap()
        .unwrap();
    let m = r
        .matches
        .iter()
        .find(|m| m.company_id == "b")
        .expect("b matches a's need");
    let mutual = m.mutual.as_ref().expect("b has an open need");
    assert_eq!(mutual.need_id, "nb");
    assert!(mutual.reverse_score > 0.0 && mutual.is_mutual, "{mutual:?}");
    let hm = 2.0 * m.score * mutual.reverse_score / (m.score + mutual.reverse_score);
    assert!((mutual.score - hm).abs() < 1e-5);
    // Reverse: the open needs company a could serve.
    let opp = e
        .matcher()
        .opportunities("a", Role::Coordinator, &opts)
        .unwrap()
        .unwrap();
    assert_eq!(opp.first().map(|o| o.need_id.as_str()), Some("nb"));
}

#[test]
fn batch_is_deterministic_in_need_order_and_cancellable() {
    let e = engine();
    let run = |cancel: &AtomicBool| {
        let mut lines = Vec::new();
        batch::run(
            &e.matcher(),
            Role::Coordinator,
            5,
            cancel,
            |l| {
                lines.push(l);
                Ok::<(), std::convert::Infallible>(())
            },
            |_, _| {},
        )
        .unwrap();
        lines
    };
    let a = run(&AtomicBool::new(false));
    let b = run(&AtomicBool::new(false));
    assert_eq!(a, b);
    let open = e
        .needs(Role::Coordinator)
        .iter()
        .filter(|n| n.status == matcher_core::model::NeedStatus::Open)
        .count();
    assert_eq!(a.len(), open);
    let ids: Vec<&str> = a.iter().map(|l| l.need_id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    assert!(run(&AtomicBool::new(true)).is_empty());
}

/// (need id, [(company id, explanation)]).
type Explained = (String, Vec<(String, Option<Explanation>)>);

/// Every fixture need's top explanations, by need.
fn explanations(e: &Engine) -> Vec<Explained> {
    let opts = MatchOptions {
        top_k: 10,
        ..MatchOptions::default()
    };
    e.needs(Role::Coordinator)
        .iter()
        .map(|n| {
            let r = e
                .matcher()
                .match_need(n, Role::Coordinator, &opts)
                .expect("match");
            let m = r.matches.into_iter();
            (
                n.id.to_string(),
                m.map(|m| (m.company_id, m.explanation)).collect(),
            )
        })
        .collect()
}

/// Explanations read evidence stored at indexing, extracted with the
/// ontology of that time. Opened with another concepts file (here the same
/// concepts and one more blank line, so nothing else may move), the engine
/// must not trust it and analyzes the records again: same explanations.
#[test]
fn evidence_from_another_ontology_is_computed_again() {
    let fx = fixtures::fixtures_dir();
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let want = {
        let e = Engine::open(&data, ctx()).expect("open");
        fixtures::load_into(&e, &fx).expect("load");
        explanations(&e)
    };
    assert!(want.iter().any(|(_, ms)| ms.iter().any(|(_, x)| x
        .as_ref()
        .is_some_and(|x| !x.terms.is_empty() && !x.concepts.is_empty()))));
    let mut concepts = std::fs::read_to_string(fx.join("concepts.jsonl")).expect("concepts");
    concepts.push('\n');
    let edited = dir.path().join("concepts.jsonl");
    std::fs::write(&edited, concepts).expect("write concepts");
    let base = ctx();
    let other = Context {
        analyzer: base.analyzer.clone(),
        taxonomy: matcher_core::taxonomy::Taxonomy::load(&fx).expect("tables"),
        ontology: Ontology::load(&edited, Some(base.analyzer.clone())).expect("ontology"),
    };
    assert_ne!(other.ontology.fingerprint(), base.ontology.fingerprint());
    let e = Engine::open(&data, Arc::new(other)).expect("reopen");
    assert_eq!(explanations(&e), want);
}

/// The relation says where the company's concept stands in the hierarchy,
/// nothing else: an exact concept found through a machine, or outsourced,
/// is "exact" with its lower weight (it used to read "narrower" and
/// "sibling"), and only what the company firmly offers enters the "why".
#[test]
fn concept_relation_is_the_hierarchy_and_the_weight_is_apart() {
    let e = Engine::in_memory(ctx()).expect("engine");
    let by_machine = company(
        r#"{"id":"zz-machine","name":"機械保有精工","municipality_code":"131113","industry_codes":["24"],
            "capabilities":"アルミ部品の試作を承ります。",
            "equipment":[{"name":"5軸マシニングセンタ","maker":"DMG森精機","count":2}],
            "updated_at":"2026-06-01"}"#,
    );
    let outsourced = company(
        r#"{"id":"zz-outsourced","name":"外注精工","municipality_code":"131113","industry_codes":["24"],
            "capabilities":"板金加工が主力です。5軸加工は協力会社に外注しています。",
            "updated_at":"2026-06-01"}"#,
    );
    let in_house = company(
        r#"{"id":"zz-in-house","name":"自社精工","municipality_code":"131113","industry_codes":["24"],
            "capabilities":"5軸加工でインペラを削り出します。",
            "updated_at":"2026-06-01"}"#,
    );
    e.upsert_companies(vec![by_machine, outsourced, in_house])
        .unwrap();
    let n = need(
        r#"{"id":"zz-need-5ax","kind":"subcontracting","title":"5軸加工の依頼先",
            "text":"5軸加工ができる会社を探しています。"}"#,
    );
    let r = e
        .matcher()
        .match_need(&n, Role::Coordinator, &MatchOptions::default())
        .unwrap();
    let five_axis = |id: &str| {
        let m = r
            .matches
            .iter()
            .find(|m| m.company_id == id)
            .unwrap_or_else(|| panic!("{id} not matched: {r:?}"));
        let x = m.explanation.as_ref().unwrap();
        let c = x
            .concepts
            .iter()
            .find(|c| c.wanted == "5軸加工")
            .unwrap_or_else(|| panic!("{id}: no 5軸加工 evidence: {x:?}"))
            .clone();
        (c, x.why.clone())
    };
    let (machine, machine_why) = five_axis("zz-machine");
    let (out, out_why) = five_axis("zz-outsourced");
    let (own, own_why) = five_axis("zz-in-house");
    for (c, id) in [
        (&machine, "machine"),
        (&out, "outsourced"),
        (&own, "in-house"),
    ] {
        assert_eq!(c.have, "5軸加工", "{id}");
        assert_eq!(
            serde_json::to_value(c.relation).unwrap(),
            "exact",
            "{id}: {c:?}"
        );
    }
    assert_eq!(own.weight, 1.0);
    assert!(machine.weight < 1.0 && machine.weight >= 0.5, "{machine:?}");
    assert!(out.weight < machine.weight, "{out:?} vs {machine:?}");
    assert!(
        machine.source.starts_with("equipment: 5軸マシニングセンタ"),
        "{machine:?}"
    );
    assert!(own_why.contains("5軸加工"), "{own_why}");
    assert!(machine_why.contains("5軸加工"), "{machine_why}");
    assert!(
        !out_why.contains("5軸加工に対応"),
        "outsourced is no offer: {out_why}"
    );
}
