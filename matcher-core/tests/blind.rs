//! The blind judged set (fixtures/blind/, issue #16): it imports cleanly,
//! every need of the split is judged, and on the test half the hybrid ranks
//! better than plain BM25. Only the test half's aggregate is asserted here;
//! tuning reads the tune half.

use std::collections::HashMap;
use std::sync::Arc;

use matcher_core::matching::eval::{self, EvalSet};
use matcher_core::{fixtures, Context, MatchConfig};

#[test]
fn every_blind_need_is_in_the_split_and_judged() {
    let dir = fixtures::fixtures_dir().join("blind");
    let split = eval::read_split(&dir.join("split.tsv")).expect("split.tsv");
    let qrels = fixtures::qrels(&dir).expect("qrels.tsv");
    let text = std::fs::read_to_string(dir.join("needs.jsonl")).expect("needs.jsonl");
    let ids: Vec<String> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("need line");
            v["id"].as_str().expect("need id").to_owned()
        })
        .collect();
    assert!(
        ids.len() >= 200,
        "at least 200 blind needs, found {}",
        ids.len()
    );
    assert_eq!(split.len(), ids.len(), "split.tsv covers every need once");
    let mut halves: HashMap<&str, usize> = HashMap::new();
    for id in &ids {
        let half = split
            .get(id)
            .unwrap_or_else(|| panic!("{id} is not in split.tsv"));
        assert!(half == "tune" || half == "test", "{id}: half {half:?}");
        *halves.entry(half.as_str()).or_default() += 1;
        let j = qrels
            .get(id)
            .unwrap_or_else(|| panic!("{id} has no judgments"));
        let good = j.values().filter(|&&g| g >= 2).count();
        let low = j.values().filter(|&&g| g <= 1).count();
        assert!(good >= 3, "{id}: {good} companies graded >= 2");
        assert!(low >= 2, "{id}: {low} companies graded 0/1");
    }
    let (tune, test) = (halves["tune"], halves["test"]);
    assert!(
        tune.abs_diff(test) <= ids.len() / 10,
        "tune {tune} / test {test}"
    );
}

#[test]
fn blind_test_half_imports_cleanly_and_hybrid_beats_bm25() {
    let dir = fixtures::fixtures_dir();
    let ctx = Arc::new(Context::load(&dir).expect("fixtures load"));
    let r = eval::evaluate_set(ctx, MatchConfig::default(), &dir, EvalSet::BlindTest)
        .expect("evaluate blind-test");
    eprintln!("{}", eval::markdown_sets(std::slice::from_ref(&r)));
    assert_eq!(r.rejected, 0, "the blind set must import cleanly");
    assert!(r.companies >= 1000, "{} blind companies", r.companies);
    let get = |name: &str| {
        r.metrics
            .iter()
            .find(|m| m.name.starts_with(name))
            .unwrap_or_else(|| panic!("no row {name}"))
    };
    let (bm25, hybrid) = (get("bm25"), get("+concepts"));
    // and the concept channel alone: words and the other signals add to it
    let concepts = get("concepts alone");
    assert!(
        hybrid.ndcg_at_10 > concepts.ndcg_at_10 && hybrid.mrr > concepts.mrr,
        "hybrid {:.3}/{:.3} vs concepts alone {:.3}/{:.3}",
        hybrid.ndcg_at_10,
        hybrid.mrr,
        concepts.ndcg_at_10,
        concepts.mrr
    );
    // every need of the test half is judged and evaluated
    assert_eq!(hybrid.needs, r.needs, "judged needs of the test half");
    assert!(r.needs >= 100, "{} test needs", r.needs);
    assert!(
        hybrid.ndcg_at_10 > bm25.ndcg_at_10,
        "nDCG@10: hybrid {:.3} vs bm25 {:.3}",
        hybrid.ndcg_at_10,
        bm25.ndcg_at_10
    );
    assert!(
        hybrid.mrr > bm25.mrr,
        "MRR: hybrid {:.3} vs bm25 {:.3}",
        hybrid.mrr,
        bm25.mrr
    );
}
