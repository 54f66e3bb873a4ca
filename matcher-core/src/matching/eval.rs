//! Quality on judged needs: nDCG@10, Recall@50 and MRR, for each step of
//! the method side by side, measured in one run.
//!
//! Relevance: `qrels.tsv` grades 0–3. nDCG uses gain 2^g − 1 with the ideal
//! ranking of all judged companies; Recall@50 counts companies graded ≥ 1;
//! MRR is the reciprocal rank of the first company graded ≥ 2. Candidate
//! recall is the share of grade ≥ 1 companies present in the candidate set
//! before rescoring (what the candidate cut loses). Evaluation runs as a
//! coordinator (restricted companies are judged like the others).

use std::collections::HashMap;

use rayon::prelude::*;
use serde::Serialize;

use super::{Ablation, MatchConfig, MatchError, MatchOptions};
use crate::access::Role;
use crate::engine::{Engine, EngineError};
use crate::fixtures::FixtureError;
use crate::model::{Need, NeedStatus};

/// Why an evaluation failed: each with the file or step that did.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// Matching a judged need failed.
    #[error("evaluation: {0}")]
    Match(#[from] MatchError),
    /// The engine failed (building the set's index, searching).
    #[error("evaluation: {0}")]
    Engine(#[from] EngineError),
    /// The set's records or judgments could not be read.
    #[error("evaluation: {0}")]
    Fixtures(#[from] FixtureError),
    /// The blind set's split file could not be read.
    #[error(
        "evaluation: cannot read the split file {}: {source}; the blind sets need \
         fixtures/blind/split.tsv (need id, tab, tune or test)",
        path.display()
    )]
    Split {
        /// The split file.
        path: std::path::PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
}

/// Need id → company id → grade.
pub type Qrels = HashMap<String, HashMap<String, u8>>;

/// The quality of one configuration of the method over a judged set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    /// Which step of the method (see [`steps`]).
    pub name: String,
    /// Judged needs averaged over.
    pub needs: usize,
    /// Mean nDCG@10 (gain 2^grade − 1).
    pub ndcg_at_10: f64,
    /// Mean share of the grade ≥ 1 companies in the top 50.
    pub recall_at_50: f64,
    /// Mean reciprocal rank of the first company graded ≥ 2.
    pub mrr: f64,
    /// Mean share of the grade ≥ 1 companies among the candidates before
    /// rescoring: what the candidate cut loses.
    pub candidate_recall: f64,
}

/// The evaluated steps: each adds one part of the method; then the
/// concept channel alone, the other thing the hybrid must beat.
pub fn steps() -> Vec<(&'static str, Ablation)> {
    vec![
        ("bm25", Ablation::BM25),
        (
            "+constraints",
            Ablation {
                constraints: true,
                ..Ablation::BM25
            },
        ),
        (
            "+synonyms",
            Ablation {
                constraints: true,
                synonyms: true,
                ..Ablation::BM25
            },
        ),
        (
            "+rescoring",
            Ablation {
                constraints: true,
                synonyms: true,
                concepts: false,
                ..Ablation::FULL
            },
        ),
        ("+concepts (hybrid)", Ablation::FULL),
        ("concepts alone", Ablation::CONCEPTS),
    ]
}

impl Metrics {
    /// Metrics averaged over `needs` needs from their sums (nDCG@10,
    /// Recall@50, MRR, candidate recall).
    fn mean(name: &str, needs: usize, sums: [f64; 4]) -> Metrics {
        let n = needs.max(1) as f64;
        Metrics {
            name: name.to_owned(),
            needs,
            ndcg_at_10: sums[0] / n,
            recall_at_50: sums[1] / n,
            mrr: sums[2] / n,
            candidate_recall: sums[3] / n,
        }
    }
}

/// The open needs with at least one relevant judgment.
fn judged_needs<'a>(needs: &'a [Need], qrels: &Qrels) -> Vec<&'a Need> {
    needs
        .iter()
        .filter(|n| {
            n.status == NeedStatus::Open
                && qrels
                    .get(n.id.as_str())
                    .is_some_and(|j| j.values().any(|&g| g >= 1))
        })
        .collect()
}

fn dcg(grades: &[u8]) -> f64 {
    grades
        .iter()
        .enumerate()
        .map(|(i, &g)| ((1u32 << g) - 1) as f64 / (i as f64 + 2.0).log2())
        .sum()
}

/// Metrics of one ranking against one need's judgments.
pub fn score_ranking(ranking: &[String], judged: &HashMap<String, u8>) -> (f64, f64, f64) {
    let grade = |id: &String| judged.get(id).copied().unwrap_or(0);
    let top10: Vec<u8> = ranking.iter().take(10).map(grade).collect();
    let mut ideal: Vec<u8> = judged.values().copied().collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    ideal.truncate(10);
    let idcg = dcg(&ideal);
    let ndcg = if idcg > 0.0 { dcg(&top10) / idcg } else { 0.0 };
    let relevant = judged.values().filter(|&&g| g >= 1).count();
    let found = ranking.iter().take(50).filter(|id| grade(id) >= 1).count();
    let recall = if relevant > 0 {
        found as f64 / relevant as f64
    } else {
        0.0
    };
    let mrr = ranking
        .iter()
        .position(|id| grade(id) >= 2)
        .map_or(0.0, |p| 1.0 / (p as f64 + 1.0));
    (ndcg, recall, mrr)
}

/// Evaluate every step on the open, judged needs.
pub fn evaluate(engine: &Engine, needs: &[Need], qrels: &Qrels) -> Result<Vec<Metrics>, EvalError> {
    let judged = judged_needs(needs, qrels);
    // One view for the whole evaluation: every step ranks the same data.
    let matcher = engine.matcher();
    let mut out = Vec::new();
    for (name, ab) in steps() {
        let opts = MatchOptions {
            top_k: 50,
            explain: false,
            ablation: ab,
            ..MatchOptions::default()
        };
        let per: Vec<Result<(f64, f64, f64, f64), MatchError>> = judged
            .par_iter()
            .map(|n| {
                let j = &qrels[n.id.as_str()];
                let v = matcher.view();
                let r = matcher.match_need(n, Role::Coordinator, &opts)?;
                let ranking: Vec<String> = r.matches.into_iter().map(|m| m.company_id).collect();
                let (ndcg, recall, mrr) = score_ranking(&ranking, j);
                let p = matcher.prepare_need(&v, n, ab, Role::Coordinator);
                let cands = matcher.candidates(&v, &p, Role::Coordinator, ab)?;
                let rec = &v.records;
                let relevant = j.values().filter(|&&g| g >= 1).count().max(1);
                let in_cands = cands
                    .iter()
                    .filter(|c| {
                        rec.companies
                            .get(c.slot)
                            .is_some_and(|f| j.get(f.id.as_str()).is_some_and(|&g| g >= 1))
                    })
                    .count();
                Ok((ndcg, recall, mrr, in_cands as f64 / relevant as f64))
            })
            .collect();
        let mut sums = [0.0; 4];
        for r in per {
            let (a, b, c, d) = r?;
            for (sum, v) in sums.iter_mut().zip([a, b, c, d]) {
                *sum += v;
            }
        }
        out.push(Metrics::mean(name, judged.len(), sums));
    }
    Ok(out)
}

/// Company search (not matching) on the same judgments, the need's title as
/// the query: words only, then words + character bigrams. Shows what the
/// bigram field adds (recall of partial compounds and unknown words).
pub fn evaluate_search(
    engine: &Engine,
    needs: &[Need],
    qrels: &Qrels,
) -> Result<Vec<Metrics>, EvalError> {
    let judged = judged_needs(needs, qrels);
    let mut out = Vec::new();
    for (name, bigrams) in [("search: words", false), ("search: words + bigrams", true)] {
        // Search has no candidate stage: its candidate recall is undefined.
        let mut sums = [0.0, 0.0, 0.0, f64::NAN];
        for n in &judged {
            let ranking = engine.search_ranking(&n.title, bigrams, 50)?;
            let (a, b, c) = score_ranking(&ranking, &qrels[n.id.as_str()]);
            for (sum, v) in sums.iter_mut().zip([a, b, c]) {
                *sum += v;
            }
        }
        out.push(Metrics::mean(name, judged.len(), sums));
    }
    Ok(out)
}

/// A named judged set `matcher eval --set` can report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EvalSet {
    /// The bundled judged fixtures (`fixtures/needs.jsonl`, `qrels.tsv`).
    Fixtures,
    /// The blind set's tuning half (`fixtures/blind/`, `split.tsv` = tune).
    BlindTune,
    /// The blind set's test half: report only, never tune on it.
    BlindTest,
}

impl EvalSet {
    /// Every set, in report order.
    pub const ALL: [EvalSet; 3] = [EvalSet::Fixtures, EvalSet::BlindTune, EvalSet::BlindTest];

    /// The set's name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            EvalSet::Fixtures => "fixtures",
            EvalSet::BlindTune => "blind-tune",
            EvalSet::BlindTest => "blind-test",
        }
    }

    /// The set named `s`, if any.
    pub fn parse(s: &str) -> Option<EvalSet> {
        EvalSet::ALL.into_iter().find(|x| x.name() == s.trim())
    }

    /// The split half a blind set keeps (`None`: every need).
    fn half(self) -> Option<&'static str> {
        match self {
            EvalSet::Fixtures => None,
            EvalSet::BlindTune => Some("tune"),
            EvalSet::BlindTest => Some("test"),
        }
    }
}

/// The metrics of one set, with what was loaded for it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetReport {
    /// The set's name.
    pub set: String,
    /// Companies indexed for it.
    pub companies: usize,
    /// Needs of the set (after the split), judged or not.
    pub needs: usize,
    /// Records of the set that did not validate.
    pub rejected: usize,
    /// One row per step of the method.
    pub metrics: Vec<Metrics>,
}

/// `split.tsv`: need id → half (`tune` / `test`). Header and `#` lines are
/// skipped; columns after the second are ignored.
pub fn read_split(path: &std::path::Path) -> std::io::Result<HashMap<String, String>> {
    let text = std::fs::read_to_string(path)?;
    Ok(text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("need_id"))
        .filter_map(|l| {
            let mut f = l.split('\t');
            Some((f.next()?.to_owned(), f.next()?.trim().to_owned()))
        })
        .collect())
}

/// Evaluate one set in its own in-memory engine built on `ctx` (the bundled
/// ontology, dictionaries and taxonomy) and matching with `config`.
/// `fixtures` is the fixtures folder; the blind sets live in its `blind/`
/// subfolder.
pub fn evaluate_set(
    ctx: std::sync::Arc<crate::Context>,
    config: MatchConfig,
    fixtures: &std::path::Path,
    set: EvalSet,
) -> Result<SetReport, EvalError> {
    let dir = match set {
        EvalSet::Fixtures => fixtures.to_path_buf(),
        EvalSet::BlindTune | EvalSet::BlindTest => fixtures.join("blind"),
    };
    let engine = Engine::in_memory(ctx)?.with_match_config(config);
    let load = crate::fixtures::load_into(&engine, &dir)?;
    let mut needs = engine.needs(Role::Coordinator);
    if let Some(half) = set.half() {
        let path = dir.join("split.tsv");
        let split = read_split(&path).map_err(|source| EvalError::Split { path, source })?;
        needs.retain(|n| split.get(n.id.as_str()).is_some_and(|h| h == half));
    }
    let qrels = crate::fixtures::qrels(&dir)?;
    let mut metrics = evaluate(&engine, &needs, &qrels)?;
    metrics.extend(evaluate_search(&engine, &needs, &qrels)?);
    Ok(SetReport {
        set: set.name().to_owned(),
        companies: load.companies,
        needs: needs.len(),
        rejected: load.rejected,
        metrics,
    })
}

/// Markdown: one row per set and method, the sets side by side in one table.
pub fn markdown_sets(reports: &[SetReport]) -> String {
    let mut s = String::from("| set | method | needs | nDCG@10 | Recall@50 | MRR | candidate recall |\n|---|---|---|---|---|---|---|\n");
    for r in reports {
        for m in &r.metrics {
            s.push_str(&format!(
                "| {} | {} | {} | {:.3} | {:.3} | {:.3} | {:.3} |\n",
                r.set, m.name, m.needs, m.ndcg_at_10, m.recall_at_50, m.mrr, m.candidate_recall
            ));
        }
    }
    s
}

/// A Markdown table of the metrics.
pub fn markdown(metrics: &[Metrics]) -> String {
    let mut s = String::from("| method | needs | nDCG@10 | Recall@50 | MRR | candidate recall |\n|---|---|---|---|---|---|\n");
    for m in metrics {
        s.push_str(&format!(
            "| {} | {} | {:.3} | {:.3} | {:.3} | {:.3} |\n",
            m.name, m.needs, m.ndcg_at_10, m.recall_at_50, m.mrr, m.candidate_recall
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_of_a_known_ranking() {
        let judged: HashMap<String, u8> = [("a", 3), ("b", 2), ("c", 1)]
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect();
        let perfect: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let (ndcg, recall, mrr) = score_ranking(&perfect, &judged);
        assert!(
            (ndcg - 1.0).abs() < 1e-9 && (recall - 1.0).abs() < 1e-9 && (mrr - 1.0).abs() < 1e-9
        );
        let worse: Vec<String> = ["x", "c", "b"].iter().map(|s| s.to_string()).collect();
        let (ndcg2, recall2, mrr2) = score_ranking(&worse, &judged);
        assert!(
            ndcg2 < ndcg && (recall2 - 2.0 / 3.0).abs() < 1e-9 && (mrr2 - 1.0 / 3.0).abs() < 1e-9
        );
    }
}
