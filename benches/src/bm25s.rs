//! The bm25s section (issue #13): the same generated corpus, analyzed by
//! matcher's own analyzer, indexed and queried by bm25s (PyPI) in the same
//! report run, so matcher's latency and batch throughput can be given as a
//! ratio to a plain BM25 library measured on the same machine at the same time.
//!
//! The report writes the terms as JSON Lines into its temporary folder and
//! runs `benches/bm25s_baseline.py` with the venv of `scripts/bench-deps.sh`.
//! Every failure becomes a "skipped: …" or "failed: …" status, never an error
//! of the report.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use matcher_benches::BoxError;
use matcher_core::engine::COMMIT_BATCH;
use matcher_core::generator::{Generator, GeneratorConfig};
use matcher_core::index::schema::equipment_text;
use matcher_core::model::{Company, Need, NeedStatus};
use matcher_core::Context;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The baseline script, in this crate's folder.
pub const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/bm25s_baseline.py");

#[derive(Debug, Serialize, Deserialize)]
pub struct Bm25sSection {
    /// "ok", "skipped: <why>" or "failed: <why>".
    pub status: String,
    /// The Python interpreter used (the venv's).
    pub python: Option<String>,
    /// Writing the analyzed terms (not part of any measured number).
    pub export_secs: Option<f64>,
    pub export_bytes: Option<u64>,
    /// What the script printed.
    pub baseline: Option<Baseline>,
    /// matcher's numbers over bm25s's, from this run.
    pub comparisons: Vec<Comparison>,
}

impl Bm25sSection {
    pub fn skipped(why: impl Into<String>) -> Self {
        Bm25sSection {
            status: why.into(),
            python: None,
            export_secs: None,
            export_bytes: None,
            baseline: None,
            comparisons: Vec::new(),
        }
    }
}

/// What `bm25s_baseline.py` prints.
#[derive(Debug, Serialize, Deserialize)]
pub struct Baseline {
    pub bm25s_version: String,
    pub numpy_version: String,
    pub python_version: String,
    pub backend: String,
    pub method: String,
    pub k1: f64,
    pub b: f64,
    pub companies: usize,
    pub corpus_tokens: u64,
    pub vocabulary: usize,
    /// Reading the JSON Lines (not timed against anything).
    pub load_secs: f64,
    /// `BM25().index(...)` on the pre-tokenized corpus.
    pub index_secs: f64,
    pub latency: BaselineLatency,
    pub batch: Option<BaselineBatch>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct BaselineLatency {
    pub needs: usize,
    pub top_k: usize,
    pub warmup: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
    pub cpu_secs: f64,
    /// Cores' worth of CPU other processes used meanwhile.
    pub other_cores: Option<f64>,
    /// Query terms (over all timed needs) not in the bm25s vocabulary.
    pub unknown_terms: usize,
    pub needs_without_known_terms: usize,
    pub mean_terms: f64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct BaselineBatch {
    pub needs: usize,
    pub top_k: usize,
    pub threads: usize,
    pub secs: f64,
    pub needs_per_sec: f64,
    pub cpu_secs: f64,
    pub other_cores: Option<f64>,
}

/// One matcher number over the bm25s number it is compared with.
#[derive(Debug, Serialize, Deserialize)]
pub struct Comparison {
    pub name: String,
    /// Exactly which matcher measurement of this report.
    pub matcher: String,
    pub matcher_value: f64,
    pub bm25s: String,
    pub bm25s_value: f64,
    /// Of both values: "ms" or "needs/s".
    #[serde(default)]
    pub unit: String,
    /// matcher_value / bm25s_value.
    pub ratio: f64,
    /// The goal for the ratio, if it sets one.
    pub goal: Option<String>,
    pub met: Option<bool>,
}

/// The interpreter of the bench venv: `--bm25s-python`, else
/// `$BENCH_VENV/bin/python`, else `bench-venv/bin/python` in the target
/// folder this executable was built into (where scripts/bench-deps.sh puts
/// it: `${CARGO_TARGET_DIR:-target}/bench-venv`).
pub fn python(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_owned());
    }
    if let Some(v) = std::env::var_os("BENCH_VENV").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(v).join("bin/python"));
    }
    let exe = std::env::current_exe().ok()?;
    // TARGET/{debug,release}/matcher-benches
    let target = exe.parent()?.parent()?;
    Some(target.join("bench-venv/bin/python"))
}

/// Deduplicated terms, first occurrence first.
fn push_unique(out: &mut Vec<String>, term: String) {
    if !out.contains(&term) {
        out.push(term);
    }
}

/// A need's query terms as `prepare_need` forms them without synonyms:
/// title and text analyzed with the need's scopes, then the equipment, deduplicated.
pub fn need_terms(ctx: &Context, n: &Need) -> Vec<String> {
    let a = &ctx.analyzer;
    let mut out = Vec::new();
    for t in a.analyze_scoped(&format!("{}\n{}", n.title, n.text), true) {
        push_unique(&mut out, t.term);
    }
    for e in &n.equipment {
        for t in a.analyze(e) {
            push_unique(&mut out, t.term);
        }
    }
    out
}

/// A company's terms as the scored text fields of the company index hold
/// them (`index/schema.rs`): name, capabilities and products (profile
/// scopes: refused work dropped), equipment. Repeats kept (they are the term
/// frequencies); bigrams, readings and concepts are left out.
pub fn company_terms(ctx: &Context, c: &Company) -> Vec<String> {
    let a = &ctx.analyzer;
    let mut out: Vec<String> = a.analyze(&c.name).into_iter().map(|t| t.term).collect();
    out.extend(
        a.analyze_scoped(&c.capabilities, false)
            .into_iter()
            .map(|t| t.term),
    );
    if let Some(p) = &c.products {
        out.extend(a.analyze_scoped(p, false).into_iter().map(|t| t.term));
    }
    out.extend(a.analyze(&equipment_text(c)).into_iter().map(|t| t.term));
    out
}

#[derive(Serialize)]
struct CompanyLine<'a> {
    id: &'a str,
    terms: Vec<String>,
}

#[derive(Serialize)]
struct NeedLine<'a> {
    id: &'a str,
    terms: Vec<String>,
    timed: bool,
    open: bool,
}

/// Write `dir/companies.jsonl` (the corpus of `cfg`, generated again: the
/// generator is deterministic per seed, and the report indexed exactly these)
/// and `dir/needs.jsonl` (every need; `timed` for those in `timed`, `open` for
/// those the batch runs). Returns the bytes written.
pub fn export(
    ctx: &Context,
    cfg: &GeneratorConfig,
    needs: &[Need],
    timed: &[Need],
    dir: &Path,
) -> Result<u64, BoxError> {
    let g = Generator::new(cfg, &ctx.taxonomy);
    let mut bytes = 0u64;
    let mut w = BufWriter::new(std::fs::File::create(dir.join("companies.jsonl"))?);
    let mut start = 0;
    while start < cfg.companies {
        let end = (start + COMMIT_BATCH).min(cfg.companies);
        let lines: Vec<Result<String, serde_json::Error>> = (start..end)
            .into_par_iter()
            .map(|i| {
                let c = g.company(i);
                serde_json::to_string(&CompanyLine {
                    id: c.id.as_str(),
                    terms: company_terms(ctx, &c),
                })
            })
            .collect();
        for l in lines {
            let l = l?;
            w.write_all(l.as_bytes())?;
            w.write_all(b"\n")?;
            bytes += l.len() as u64 + 1;
        }
        start = end;
    }
    w.flush()?;
    let timed_ids: std::collections::HashSet<&str> = timed.iter().map(|n| n.id.as_str()).collect();
    let lines: Vec<Result<String, serde_json::Error>> = needs
        .par_iter()
        .map(|n| {
            serde_json::to_string(&NeedLine {
                id: n.id.as_str(),
                terms: need_terms(ctx, n),
                timed: timed_ids.contains(n.id.as_str()),
                open: n.status == NeedStatus::Open,
            })
        })
        .collect();
    let mut w = BufWriter::new(std::fs::File::create(dir.join("needs.jsonl"))?);
    for l in lines {
        let l = l?;
        w.write_all(l.as_bytes())?;
        w.write_all(b"\n")?;
        bytes += l.len() as u64 + 1;
    }
    w.flush()?;
    Ok(bytes)
}

/// Run the script with `python` on the files in `dir`, killing it after `timeout`.
pub fn run_baseline(python: &Path, dir: &Path, timeout: Duration) -> Result<Baseline, BoxError> {
    let stdout = dir.join("bm25s.out.json");
    let stderr = dir.join("bm25s.err.txt");
    let mut child = Command::new(python)
        .arg(SCRIPT)
        .arg("--companies")
        .arg(dir.join("companies.jsonl"))
        .arg("--needs")
        .arg(dir.join("needs.jsonl"))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout)?)
        .stderr(std::fs::File::create(&stderr)?)
        .spawn()?;
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("timed out after {} s", timeout.as_secs()).into());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if !status.success() {
        let err = std::fs::read_to_string(&stderr).unwrap_or_default();
        let last: Vec<&str> = err.lines().rev().take(3).collect();
        let last: Vec<&str> = last.into_iter().rev().collect();
        return Err(format!("{status}: {}", last.join(" / ")).into());
    }
    Ok(serde_json::from_str(&std::fs::read_to_string(&stdout)?)?)
}

/// The whole section: export, run, compare.
#[allow(clippy::too_many_arguments)]
pub fn section(
    ctx: &Context,
    cfg: &GeneratorConfig,
    needs: &[Need],
    timed: &[Need],
    dir: &Path,
    python: Option<PathBuf>,
    timeout: Duration,
    matcher: &MatcherNumbers,
) -> Bm25sSection {
    let Some(py) = python else {
        return Bm25sSection::skipped("skipped: no bench venv found; run scripts/bench-deps.sh");
    };
    if !py.exists() {
        return Bm25sSection::skipped(format!(
            "skipped: {} not found; run scripts/bench-deps.sh",
            py.display()
        ));
    }
    let mut s = Bm25sSection::skipped("");
    s.python = Some(py.display().to_string());
    if let Err(e) = std::fs::create_dir_all(dir) {
        s.status = format!("failed: {}: {e}", dir.display());
        return s;
    }
    let t = Instant::now();
    match export(ctx, cfg, needs, timed, dir) {
        Ok(b) => {
            s.export_secs = Some(t.elapsed().as_secs_f64());
            s.export_bytes = Some(b);
        }
        Err(e) => {
            s.status = format!("failed: writing the terms: {e}");
            return s;
        }
    }
    match run_baseline(&py, dir, timeout) {
        Ok(b) => {
            s.comparisons = compare(matcher, &b);
            s.baseline = Some(b);
            s.status = "ok".into();
        }
        Err(e) => s.status = format!("failed: {}: {e}", SCRIPT_NAME),
    }
    s
}

const SCRIPT_NAME: &str = "benches/bm25s_baseline.py";

/// The matcher numbers of this report that are compared.
pub struct MatcherNumbers {
    /// (description, p50 ms) for each single-need latency row, the target's first.
    pub latency: Vec<(String, f64)>,
    /// (description, needs/s) of the batch.
    pub batch: (String, f64),
}

fn compare(m: &MatcherNumbers, b: &Baseline) -> Vec<Comparison> {
    let mut out = Vec::new();
    let bl = &b.latency;
    let bdesc = format!(
        "bm25s p50, `retrieve([need], k={})`, one need per call, {} needs, 1 thread",
        bl.top_k, bl.needs
    );
    for (i, (desc, p50)) in m.latency.iter().enumerate() {
        let ratio = p50 / bl.p50_ms.max(1e-12);
        let headline = i == 0;
        out.push(Comparison {
            name: if headline {
                "p50 latency".into()
            } else {
                "p50 latency (other configuration)".into()
            },
            matcher: desc.clone(),
            matcher_value: *p50,
            bm25s: bdesc.clone(),
            bm25s_value: bl.p50_ms,
            unit: "ms".into(),
            ratio,
            goal: headline.then(|| "≤ 0.5".to_owned()),
            met: headline.then_some(ratio <= 0.5),
        });
    }
    if let Some(bb) = &b.batch {
        let ratio = m.batch.1 / bb.needs_per_sec.max(1e-12);
        out.push(Comparison {
            name: "batch throughput".into(),
            matcher: m.batch.0.clone(),
            matcher_value: m.batch.1,
            bm25s: format!(
                "bm25s `retrieve(all {} open needs, k={}, n_threads=0)`, one call, 1 thread",
                bb.needs, bb.top_k
            ),
            bm25s_value: bb.needs_per_sec,
            unit: "needs/s".into(),
            ratio,
            goal: Some("≥ 4".into()),
            met: Some(ratio >= 4.0),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use matcher_core::fixtures;

    #[test]
    fn need_and_company_terms_come_from_matchers_analyzer() {
        let ctx = Context::load(&fixtures::fixtures_dir()).unwrap();
        let cfg = GeneratorConfig {
            companies: 3,
            needs: 3,
            seed: 1,
        };
        let g = Generator::new(&cfg, &ctx.taxonomy);
        let c = g.company(0);
        let terms = company_terms(&ctx, &c);
        assert!(!terms.is_empty());
        let n = g.need(0);
        let q = need_terms(&ctx, &n);
        assert!(!q.is_empty());
        let mut d = q.clone();
        d.sort();
        d.dedup();
        assert_eq!(d.len(), q.len(), "query terms are deduplicated");
    }

    #[test]
    fn ratios_are_matcher_over_bm25s() {
        let m = MatcherNumbers {
            latency: vec![("a".into(), 2.0), ("b".into(), 8.0)],
            batch: ("batch".into(), 400.0),
        };
        let b: Baseline = serde_json::from_value(serde_json::json!({
            "bm25s_version": "0", "numpy_version": "0", "python_version": "3",
            "backend": "numpy", "method": "lucene", "k1": 1.2, "b": 0.75,
            "companies": 10, "corpus_tokens": 100, "vocabulary": 50,
            "load_secs": 0.1, "index_secs": 0.1,
            "latency": {"needs": 5, "top_k": 20, "warmup": 5, "p50_ms": 4.0, "p95_ms": 5.0,
                "p99_ms": 6.0, "max_ms": 7.0, "mean_ms": 4.5, "cpu_secs": 0.1,
                "other_cores": null, "unknown_terms": 0, "needs_without_known_terms": 0,
                "mean_terms": 10.0},
            "batch": {"needs": 5, "top_k": 10, "threads": 1, "secs": 0.01,
                "needs_per_sec": 200.0, "cpu_secs": 0.01, "other_cores": 0.0}
        }))
        .unwrap();
        let c = compare(&m, &b);
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].ratio, 0.5);
        assert_eq!(c[0].met, Some(true));
        assert_eq!(c[1].met, None);
        assert_eq!(c[2].ratio, 2.0);
        assert_eq!(c[2].met, Some(false));
    }
}
