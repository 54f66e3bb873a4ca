//! Shared helpers for matcher's criterion benches (`benches/benches/*.rs`)
//! and the `report` command (`src/main.rs`): the fixed texts the analyzer is
//! measured on, streaming a generated corpus into an engine, and reading
//! memory figures from `/proc`.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use matcher_core::engine::COMMIT_BATCH;
use matcher_core::generator::{Generator, GeneratorConfig};
use matcher_core::model::{Company, Need};
use matcher_core::{fixtures, Context, Engine, EngineError};
use rayon::prelude::*;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The seed every bench and report uses unless told otherwise.
pub const DEFAULT_SEED: u64 = 20_260_401;

/// The analysis context from the repository's fixtures (`MATCHER_FIXTURES` to override).
pub fn context() -> Result<Arc<Context>, BoxError> {
    Ok(Arc::new(Context::load(&fixtures::fixtures_dir())?))
}

// ---------------------------------------------------------------------------
// Texts for the analyzer benches
// ---------------------------------------------------------------------------

/// Size of the short texts (the punctuation comparison).
pub const SHORT_TEXT_BYTES: usize = 2048;

/// Every `capabilities` of `fixtures/companies_*.jsonl`, in file order, one per line.
pub fn fixture_capabilities(fixtures_dir: &Path) -> Result<String, BoxError> {
    let mut files: Vec<_> = std::fs::read_dir(fixtures_dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("companies") && n.ends_with(".jsonl"))
        })
        .collect();
    files.sort();
    let mut out = String::new();
    for f in files {
        for line in std::fs::read_to_string(&f)?.lines() {
            let v: serde_json::Value = match serde_json::from_str(line) {
                Ok(v) => v,
                Err(_) => continue,
            };
            if let Some(c) = v.get("capabilities").and_then(|c| c.as_str()) {
                out.push_str(c);
                out.push('\n');
            }
        }
    }
    if out.is_empty() {
        return Err(format!("no capabilities in {}", fixtures_dir.display()).into());
    }
    Ok(out)
}

/// The longest prefix of `s` of at most `max` bytes that ends on a char boundary.
pub fn cut(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Ordinary prose: whole profile sentences from the fixtures, up to 2 KB.
pub fn prose_2k(corpus: &str) -> String {
    let mut out = String::new();
    for sentence in corpus.split_inclusive(['。', '\n']) {
        if out.len() + sentence.len() > SHORT_TEXT_BYTES {
            break;
        }
        out.push_str(sentence);
    }
    out
}

/// The same profile text with every punctuation mark, symbol and space
/// removed (a run-on of words), 2 KB.
pub fn no_punctuation_2k(corpus: &str) -> String {
    let stripped: String = corpus.chars().filter(|c| c.is_alphanumeric()).collect();
    cut(&stripped, SHORT_TEXT_BYTES).to_owned()
}

/// A list of business lines with no separators at all (JSIC class names
/// run together, as in a pasted 事業内容 cell), 2 KB.
pub fn business_lines_2k(fixtures_dir: &Path) -> Result<String, BoxError> {
    let text = std::fs::read_to_string(fixtures_dir.join("jsic.tsv"))?;
    let mut out = String::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() >= 4 && cols[0] != "section" {
            out.extend(cols[3].chars().filter(|c| c.is_alphanumeric()));
        }
        if out.len() >= SHORT_TEXT_BYTES {
            break;
        }
    }
    Ok(cut(&out, SHORT_TEXT_BYTES).to_owned())
}

// ---------------------------------------------------------------------------
// Corpora into engines
// ---------------------------------------------------------------------------

/// What streaming a generated corpus into an engine took.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct IndexStats {
    pub companies: usize,
    pub needs: usize,
    /// Time inside `Engine::upsert_companies` (features + tantivy + commits).
    pub companies_secs: f64,
    /// Time inside `Engine::upsert_needs`.
    pub needs_secs: f64,
    /// Time generating records and measuring their size (not indexing).
    pub generate_secs: f64,
    /// Bytes of the companies as JSON Lines (one `serde_json` object + `\n` each).
    pub companies_jsonl_bytes: u64,
    /// Bytes of the needs as JSON Lines.
    pub needs_jsonl_bytes: u64,
    /// Bytes of the free-text fields only: company name, capabilities,
    /// products, equipment (name, maker, model, spec); need title and text.
    pub text_bytes: u64,
}

fn company_text_bytes(c: &Company) -> u64 {
    let eq: usize = c
        .equipment
        .iter()
        .map(|e| {
            e.name.len()
                + e.maker.as_ref().map_or(0, String::len)
                + e.model.as_ref().map_or(0, String::len)
                + e.spec.as_ref().map_or(0, String::len)
        })
        .sum();
    (c.name.len() + c.capabilities.len() + c.products.as_ref().map_or(0, String::len) + eq) as u64
}

fn jsonl_len<T: serde::Serialize>(x: &T) -> u64 {
    serde_json::to_string(x).map_or(0, |s| s.len() as u64 + 1)
}

/// Generate `cfg` chunk by chunk ([`COMMIT_BATCH`] companies at a time, so
/// a 1M corpus never sits in memory) and upsert it into `engine`.
/// `progress(companies_done)` is called after each chunk.
pub fn index_corpus(
    engine: &Engine,
    cfg: &GeneratorConfig,
    mut progress: impl FnMut(usize),
) -> Result<IndexStats, EngineError> {
    let g = Generator::new(cfg, &engine.ctx.taxonomy);
    let mut st = IndexStats {
        companies: cfg.companies,
        needs: cfg.needs,
        ..Default::default()
    };
    let mut gen = Duration::ZERO;
    let mut idx = Duration::ZERO;
    let mut start = 0;
    while start < cfg.companies {
        let end = (start + COMMIT_BATCH).min(cfg.companies);
        let t = Instant::now();
        let chunk: Vec<Company> = (start..end).into_par_iter().map(|i| g.company(i)).collect();
        let (j, x) = chunk
            .par_iter()
            .map(|c| (jsonl_len(c), company_text_bytes(c)))
            .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
        st.companies_jsonl_bytes += j;
        st.text_bytes += x;
        gen += t.elapsed();
        let t = Instant::now();
        engine.upsert_companies(chunk)?;
        idx += t.elapsed();
        start = end;
        progress(end);
    }
    st.companies_secs = idx.as_secs_f64();
    let t = Instant::now();
    let needs: Vec<Need> = (0..cfg.needs).into_par_iter().map(|i| g.need(i)).collect();
    for n in &needs {
        st.needs_jsonl_bytes += jsonl_len(n);
        st.text_bytes += (n.title.len() + n.text.len()) as u64;
    }
    gen += t.elapsed();
    let t = Instant::now();
    if !needs.is_empty() {
        engine.upsert_needs(needs)?;
    }
    st.needs_secs = t.elapsed().as_secs_f64();
    st.generate_secs = gen.as_secs_f64();
    Ok(st)
}

/// An in-memory engine holding a generated corpus (for the criterion benches).
pub fn memory_engine(
    ctx: Arc<Context>,
    companies: usize,
    needs: usize,
) -> Result<(Engine, Vec<Need>), BoxError> {
    let engine = Engine::in_memory(ctx)?;
    let cfg = GeneratorConfig {
        companies,
        needs,
        seed: DEFAULT_SEED,
    };
    index_corpus(&engine, &cfg, |_| {})?;
    let needs = engine.needs(matcher_core::Role::Coordinator);
    Ok((engine, needs))
}

// ---------------------------------------------------------------------------
// /proc
// ---------------------------------------------------------------------------

/// A `kB` field of `/proc/<pid>/status` (`VmHWM`, `VmRSS`, `RssAnon`, `RssFile`), in bytes.
pub fn proc_status_bytes(pid: Option<u32>, field: &str) -> Option<u64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/status"),
        None => "/proc/self/status".to_owned(),
    };
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(field)?.strip_prefix(':')?;
        let kb: u64 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
        Some(kb * 1024)
    })
}

/// Memory of a process: resident, anonymous, file-backed, and peak resident (bytes).
#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize)]
pub struct Memory {
    pub rss: u64,
    pub rss_anon: u64,
    pub rss_file: u64,
    pub peak_rss: u64,
}

pub fn memory(pid: Option<u32>) -> Memory {
    let f = |k| proc_status_bytes(pid, k).unwrap_or(0);
    Memory {
        rss: f("VmRSS"),
        rss_anon: f("RssAnon"),
        rss_file: f("RssFile"),
        peak_rss: f("VmHWM"),
    }
}

/// CPU time counters: the whole machine's busy time and this process's.
#[derive(Debug, Clone, Copy)]
pub struct CpuSnap {
    machine_busy_ticks: u64,
    self_ticks: u64,
    at: std::time::Instant,
}

impl CpuSnap {
    pub fn now() -> CpuSnap {
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let machine_busy_ticks = stat
            .lines()
            .next()
            .filter(|l| l.starts_with("cpu "))
            .map(|l| {
                let v: Vec<u64> = l
                    .split_whitespace()
                    .skip(1)
                    .filter_map(|x| x.parse().ok())
                    .collect();
                // user nice system idle iowait irq softirq steal
                [0usize, 1, 2, 5, 6, 7]
                    .iter()
                    .filter_map(|&i| v.get(i))
                    .sum()
            })
            .unwrap_or(0);
        let me = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        // Fields after the command name (which may hold spaces): utime is the 14th field.
        let self_ticks = me
            .rsplit_once(')')
            .map(|(_, rest)| {
                let f: Vec<&str> = rest.split_whitespace().collect();
                let g = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
                g(11) + g(12)
            })
            .unwrap_or(0);
        CpuSnap {
            machine_busy_ticks,
            self_ticks,
            at: std::time::Instant::now(),
        }
    }

    /// Cores' worth of CPU used by *other* processes since `self` (e.g. 0.9 =
    /// other work took almost one of the cores): what skews a measurement.
    pub fn others_since(&self) -> f64 {
        let now = CpuSnap::now();
        let ticks_per_sec = 100.0; // USER_HZ on Linux
        let secs = now.at.duration_since(self.at).as_secs_f64().max(1e-9);
        let others = now
            .machine_busy_ticks
            .saturating_sub(self.machine_busy_ticks) as f64
            - now.self_ticks.saturating_sub(self.self_ticks) as f64;
        (others / ticks_per_sec / secs).max(0.0)
    }
}

/// Percentile (nearest rank) of sorted `v`, `q` in [0, 1].
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), 50.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&v, 1.0), 100.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }

    #[test]
    fn short_texts_are_2k_and_the_run_ons_have_no_punctuation() {
        let dir = fixtures::fixtures_dir();
        let corpus = fixture_capabilities(&dir).unwrap();
        let prose = prose_2k(&corpus);
        assert!(prose.len() > 1800 && prose.len() <= SHORT_TEXT_BYTES);
        assert!(prose.contains('。'));
        for t in [no_punctuation_2k(&corpus), business_lines_2k(&dir).unwrap()] {
            assert!(t.len() > 2000 && t.len() <= SHORT_TEXT_BYTES, "{}", t.len());
            assert!(t.chars().all(char::is_alphanumeric));
        }
    }
}
