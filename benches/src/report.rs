//! The `report` command: generate, index, measure, write.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use matcher_benches::{self as mb, BoxError, IndexStats, Memory};
use matcher_core::generator::GeneratorConfig;
use matcher_core::matching::{batch, MatchOptions};
use matcher_core::model::{Need, NeedStatus};
use matcher_core::{fixtures, Context, Engine, Role};
use serde::{Deserialize, Serialize};

use crate::{bm25s, http};

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Companies to generate and index (10000, 100000, 1000000).
    #[arg(long, default_value_t = 10_000)]
    pub companies: usize,
    /// Needs to generate (default: max(1000, companies / 50)).
    #[arg(long)]
    pub needs: Option<usize>,
    /// Corpus seed.
    #[arg(long, default_value_t = mb::DEFAULT_SEED)]
    pub seed: u64,
    /// Distinct needs timed one by one for the latency percentiles (at least 1000).
    #[arg(long, default_value_t = 1_000)]
    pub latency_needs: usize,
    /// Output path without extension: writes OUT.json and OUT.md
    /// (`benches/REPORT` refreshes the report kept in the repository).
    #[arg(long, default_value = "target/bench-report/report")]
    pub out: PathBuf,
    /// Data folder to index into (default: a temporary folder, removed at the end).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Markdown appended to the report under "Notes" (hand-written analysis).
    #[arg(long)]
    pub notes: Option<PathBuf>,
    /// Skip the HTTP section.
    #[arg(long)]
    pub no_http: bool,
    /// The `matcher` binary (default: next to this executable, i.e. target/release/matcher).
    #[arg(long)]
    pub matcher_bin: Option<PathBuf>,
    /// Seconds per HTTP load run.
    #[arg(long, default_value_t = 10)]
    pub http_secs: u32,
    /// Header carrying the API key; `{key}` is replaced by the coordinator key.
    #[arg(long, default_value = "Authorization: Bearer {key}")]
    pub auth_header: String,
    /// A coordinator key valid in DATA/keys.tsv (default: the server is given a
    /// fresh key file and the key it prints is used).
    #[arg(long, env = "MATCHER_BENCH_KEY")]
    pub api_key: Option<String>,
    /// Skip the bm25s baseline section.
    #[arg(long)]
    pub no_bm25s: bool,
    /// Python with bm25s installed (default: the venv of scripts/bench-deps.sh,
    /// `$BENCH_VENV` or bench-venv/ in the target folder of this executable).
    #[arg(long)]
    pub bm25s_python: Option<PathBuf>,
    /// Seconds after which the bm25s baseline is stopped (the section then says failed).
    #[arg(long, default_value_t = 600)]
    pub bm25s_timeout_secs: u64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Report {
    pub generated_at: String,
    pub command: String,
    pub machine: Machine,
    pub commit: Option<String>,
    pub corpus: Corpus,
    pub indexing: Indexing,
    pub disk: Disk,
    pub open: Open,
    pub analyzer: Vec<AnalyzerRun>,
    pub latency: Vec<Latency>,
    pub batch: Batch,
    pub serving_memory: Option<ServingMemory>,
    /// The fresh-process probe (open time, memory after open and after 200 matches).
    #[serde(default)]
    pub probe: Option<ProbeOut>,
    pub http: http::HttpSection,
    /// The same-run bm25s baseline (issue #13); absent in older reports.
    #[serde(default)]
    pub bm25s: Option<bm25s::Bm25sSection>,
    pub targets: Vec<Target>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Machine {
    /// Cargo profile of the report binary: "release" for numbers, "dev" for
    /// CI's smoke run (dependencies and matcher-core optimized, the rest not).
    #[serde(default)]
    pub build_profile: String,
    pub cores: usize,
    pub cpu_model: String,
    pub memory_bytes: u64,
    pub kernel: String,
    pub rayon_threads: usize,
    /// /proc/loadavg (1, 5, 15 min) when the report started and ended: other
    /// work on the machine (builds) shows here and skews every number.
    pub load_average_start: String,
    pub load_average_end: String,
    /// Cores' worth of CPU used by other processes during each in-process
    /// phase (/proc/stat minus this process): above ~0.1 the phase shared the machine.
    pub other_load: Vec<PhaseLoad>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct PhaseLoad {
    pub phase: String,
    pub other_cores: f64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Corpus {
    pub generator: String,
    pub seed: u64,
    pub companies: usize,
    pub needs: usize,
    pub open_needs: usize,
    /// Bytes of companies + needs as JSON Lines (the "raw text" of the disk target).
    pub jsonl_bytes: u64,
    pub companies_jsonl_bytes: u64,
    pub needs_jsonl_bytes: u64,
    /// Bytes of the free-text fields only (see `IndexStats::text_bytes`).
    pub text_bytes: u64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Indexing {
    pub companies_per_sec: f64,
    pub companies_secs: f64,
    pub needs_per_sec: f64,
    pub needs_secs: f64,
    pub snapshot_save_secs: f64,
    pub generate_secs: f64,
    pub context_load_secs: f64,
    /// VmHWM of the report process after indexing and saving the snapshot.
    pub peak_rss_bytes: u64,
    pub memory_after: Memory,
    /// Postings and heap bytes of the in-memory matching index after
    /// indexing (absent in reports made before it existed).
    #[serde(default)]
    pub matching_index: Option<(usize, usize)>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Disk {
    pub total_bytes: u64,
    pub companies_index_bytes: u64,
    pub needs_index_bytes: u64,
    pub snapshot_bytes: u64,
    pub ratio_to_jsonl: f64,
    pub ratio_to_text: f64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Open {
    /// `Engine::open` in this process right after dropping the indexing engine (3 times).
    pub in_process_secs: Vec<f64>,
    /// `Engine::open` in a fresh process (the probe), page cache warm.
    pub fresh_process_secs: Option<f64>,
    /// `Context::load` (dictionary, tables, ontology), paid once per process.
    pub context_load_secs: f64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct AnalyzerRun {
    pub text: String,
    pub bytes: usize,
    pub analyze_mb_per_sec: f64,
    pub analyze_tokens_per_sec: f64,
    pub lindera_mb_per_sec: f64,
    pub lindera_tokens_per_sec: f64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Latency {
    pub pool: String,
    pub needs: usize,
    pub top_k: usize,
    pub explain: bool,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
    pub mean_candidates: f64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Batch {
    pub top_k: usize,
    pub needs: usize,
    pub secs: f64,
    pub needs_per_sec: f64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ServingMemory {
    pub source: String,
    pub memory: Memory,
    pub per_company_bytes: f64,
    /// 1.5 KB × companies + 100 MB.
    pub budget_bytes: u64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Target {
    pub name: String,
    pub target: String,
    pub measured: String,
    /// None when the target does not apply at this corpus size or was not measured.
    pub met: Option<bool>,
    pub note: String,
}

/// What the probe process prints.
#[derive(Debug, Serialize, Deserialize)]
pub struct ProbeOut {
    pub context_load_secs: f64,
    pub open_secs: f64,
    pub companies: usize,
    pub warmup: usize,
    pub after_open: Memory,
    pub after_warmup: Memory,
}

fn say(msg: impl AsRef<str>) {
    eprintln!("report: {}", msg.as_ref());
}

fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

pub fn run(args: Args) -> Result<(), BoxError> {
    let latency_needs = args.latency_needs.max(1_000);
    let n_needs = args
        .needs
        .unwrap_or((args.companies / 50).max(1_000))
        .max(latency_needs);
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let load_start = loadavg();
    let tmp = tempfile::tempdir()?;
    let data = args.data.clone().unwrap_or_else(|| tmp.path().join("data"));
    if data.join("FORMAT").exists() {
        return Err(format!(
            "{} is not empty; give an empty or new folder",
            data.display()
        )
        .into());
    }
    say(format!(
        "{} companies, {n_needs} needs, seed {}, data {}",
        args.companies,
        args.seed,
        data.display()
    ));

    let t = Instant::now();
    let ctx = Arc::new(Context::load(&fixtures::fixtures_dir())?);
    let context_load_secs = secs(t);

    // 1. Indexing.
    let cfg = GeneratorConfig {
        companies: args.companies,
        needs: n_needs,
        seed: args.seed,
    };
    let mut other_load = Vec::new();
    let mut phase = |name: &str, since: &mb::CpuSnap| {
        other_load.push(PhaseLoad {
            phase: name.to_owned(),
            other_cores: since.others_since(),
        })
    };
    let cpu = mb::CpuSnap::now();
    let (stats, snapshot_save_secs, memory_after, peak, matching_index) = {
        let engine = Engine::open(&data, ctx.clone())?;
        let started = Instant::now();
        let step = (args.companies / 10).max(1);
        let mut next = step;
        let stats: IndexStats = mb::index_corpus(&engine, &cfg, |done| {
            if done >= next || done == args.companies {
                say(format!(
                    "indexed {done} companies ({:.0}/s wall)",
                    done as f64 / secs(started)
                ));
                next = done + step;
            }
        })?;
        let t = Instant::now();
        engine.save_snapshot()?;
        let save = secs(t);
        let mem = mb::memory(None);
        let mi = engine.view().matching_index_size()?;
        (stats, save, mem, mem.peak_rss, mi)
    };
    phase("indexing", &cpu);
    say(format!(
        "companies {:.1}s ({:.0}/s), needs {:.1}s, snapshot {:.2}s, peak RSS {} MB",
        stats.companies_secs,
        stats.companies as f64 / stats.companies_secs,
        stats.needs_secs,
        snapshot_save_secs,
        peak >> 20
    ));

    // 2. Disk.
    let dir_size = |p: &Path| dir_bytes(p);
    let disk_total = dir_size(&data);
    let snapshot_bytes = std::fs::metadata(data.join("snapshot.bin")).map_or(0, |m| m.len());
    let jsonl = stats.companies_jsonl_bytes + stats.needs_jsonl_bytes;
    let disk = Disk {
        total_bytes: disk_total,
        companies_index_bytes: dir_size(&data.join("companies")),
        needs_index_bytes: dir_size(&data.join("needs")),
        snapshot_bytes,
        ratio_to_jsonl: disk_total as f64 / jsonl.max(1) as f64,
        ratio_to_text: disk_total as f64 / stats.text_bytes.max(1) as f64,
    };

    // 3. Cold open, in this process (engine dropped above).
    let mut in_process = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let e = Engine::open(&data, ctx.clone())?;
        in_process.push(secs(t));
        drop(e);
    }
    say(format!("cold open (in process): {in_process:.3?} s"));

    // 4. Analyzer (for the punctuation target).
    let analyzer = analyzer_runs(&ctx)?;

    // 5. Latency and batch.
    let engine = Engine::open(&data, ctx.clone())?;
    let (companies_n, _) = engine.counts();
    let all_needs = engine.needs(Role::Coordinator);
    let open_needs = all_needs
        .iter()
        .filter(|n| n.status == NeedStatus::Open)
        .count();
    let sample: Vec<Need> = all_needs.iter().take(latency_needs).cloned().collect();
    let opts = MatchOptions {
        top_k: 20,
        explain: true,
        ..MatchOptions::default()
    };
    let mut latency = Vec::new();
    // The target's configuration first (top-20 with explanations, default
    // pool), then one core only, then without explanations (their cost).
    for (threads, explain) in [(0usize, true), (1, true), (0, false)] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()?;
        let label = if threads == 1 {
            "1-thread rayon pool".to_owned()
        } else {
            format!("rayon pool ({} threads)", pool.current_num_threads())
        };
        let o = MatchOptions { explain, ..opts };
        let cpu = mb::CpuSnap::now();
        let l = pool.install(|| time_needs(&engine, &sample, &o))?;
        phase(&format!("latency ({label}, explanations {explain})"), &cpu);
        say(format!(
            "latency, {label}, explain {explain}: p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            l.p50_ms, l.p95_ms, l.p99_ms, l.max_ms
        ));
        latency.push(Latency { pool: label, ..l });
    }
    let cpu = mb::CpuSnap::now();
    let t = Instant::now();
    let cancel = AtomicBool::new(false);
    let done = batch::run(
        &engine.matcher(),
        Role::Coordinator,
        10,
        &cancel,
        |l| {
            std::hint::black_box(l);
            Ok::<(), std::convert::Infallible>(())
        },
        |_, _| {},
    )?;
    let batch_secs = secs(t);
    phase("batch", &cpu);
    let batch = Batch {
        top_k: 10,
        needs: done,
        secs: batch_secs,
        needs_per_sec: done as f64 / batch_secs,
    };
    say(format!(
        "batch: {done} open needs in {batch_secs:.1}s ({:.0}/s)",
        batch.needs_per_sec
    ));
    let stored_need = sample
        .iter()
        .find(|n| n.status == NeedStatus::Open)
        .map(|n| n.id.to_string());
    let post_need = sample
        .iter()
        .find(|n| n.status == NeedStatus::Open && n.company_id.is_none())
        .or(sample.first())
        .cloned();
    drop(engine);

    // 6. The same corpus in bm25s (plain BM25), in this run.
    let bm25s = if args.no_bm25s {
        bm25s::Bm25sSection::skipped("skipped: --no-bm25s")
    } else {
        let pool = |l: &Latency| {
            format!(
                "matcher p50, `Matcher::match_need` top-{}, explanations {}, {}, {} needs",
                l.top_k,
                if l.explain { "on" } else { "off" },
                l.pool,
                l.needs
            )
        };
        let numbers = bm25s::MatcherNumbers {
            latency: latency.iter().map(|l| (pool(l), l.p50_ms)).collect(),
            batch: (
                format!(
                    "matcher `batch::run`, all {} open needs, top-{}, no explanations, rayon pool ({} threads)",
                    batch.needs,
                    batch.top_k,
                    rayon::current_num_threads()
                ),
                batch.needs_per_sec,
            ),
        };
        say("bm25s: the same-run baseline");
        let s = bm25s::section(
            &ctx,
            &cfg,
            &all_needs,
            &sample,
            &tmp.path().join("bm25s"),
            bm25s::python(args.bm25s_python.as_deref()),
            std::time::Duration::from_secs(args.bm25s_timeout_secs),
            &numbers,
        );
        say(format!("bm25s: {}", s.status));
        for c in &s.comparisons {
            say(format!(
                "bm25s: {} {:.3} / bm25s {:.3} = {:.2}",
                c.name, c.matcher_value, c.bm25s_value, c.ratio
            ));
        }
        s
    };

    // 7. A fresh process: open time and memory while serving.
    let probe = run_probe(&data);
    let serving_probe = match &probe {
        Ok(p) => {
            say(format!(
                "probe: open {:.3}s, RSS after warm-up {} MB",
                p.open_secs,
                p.after_warmup.rss >> 20
            ));
            Some(serving(
                "fresh `matcher-benches probe` process: Engine::open + 200 matches".into(),
                p.after_warmup,
                companies_n,
            ))
        }
        Err(e) => {
            say(format!("probe failed: {e}"));
            None
        }
    };

    // 8. HTTP.
    let http = if args.no_http {
        http::HttpSection::skipped("skipped: --no-http")
    } else {
        http::run(&args, &data, stored_need.as_deref(), post_need.as_ref())
    };
    let serving_memory = match (&http.server_memory, serving_probe) {
        (Some(m), _) => Some(serving(
            "`matcher serve` after the HTTP load runs".into(),
            *m,
            companies_n,
        )),
        (None, p) => p,
    };

    let commit = commit();
    let mut machine = machine(rayon::current_num_threads());
    machine.load_average_start = load_start;
    machine.load_average_end = loadavg();
    machine.other_load = other_load;
    let corpus = Corpus {
        generator: "matcher_core::generator (synthetic, deterministic per seed)".into(),
        seed: args.seed,
        companies: stats.companies,
        needs: stats.needs,
        open_needs,
        jsonl_bytes: jsonl,
        companies_jsonl_bytes: stats.companies_jsonl_bytes,
        needs_jsonl_bytes: stats.needs_jsonl_bytes,
        text_bytes: stats.text_bytes,
    };
    let indexing = Indexing {
        companies_per_sec: stats.companies as f64 / stats.companies_secs,
        companies_secs: stats.companies_secs,
        needs_per_sec: stats.needs as f64 / stats.needs_secs.max(1e-9),
        needs_secs: stats.needs_secs,
        snapshot_save_secs,
        generate_secs: stats.generate_secs,
        context_load_secs,
        peak_rss_bytes: peak,
        memory_after,
        matching_index: Some(matching_index),
    };
    let open = Open {
        in_process_secs: in_process,
        fresh_process_secs: probe.as_ref().ok().map(|p| p.open_secs),
        context_load_secs,
    };
    let probe = probe.map_err(|e| e.to_string());
    let mut report = Report {
        generated_at: now_utc(),
        command,
        machine,
        commit,
        corpus,
        indexing,
        disk,
        open,
        analyzer,
        latency,
        batch,
        serving_memory,
        probe: probe.ok(),
        http,
        bm25s: Some(bm25s),
        targets: Vec::new(),
    };
    report.targets = targets(&report);

    let notes = match &args.notes {
        Some(p) => Some(std::fs::read_to_string(p)?),
        None => None,
    };
    if let Some(parent) = args.out.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)?;
        }
    }
    let json_path = args.out.with_extension("json");
    let md_path = args.out.with_extension("md");
    std::fs::write(&json_path, serde_json::to_string_pretty(&report)? + "\n")?;
    std::fs::write(&md_path, crate::markdown::render(&report, notes.as_deref()))?;
    say(format!(
        "wrote {} and {}",
        json_path.display(),
        md_path.display()
    ));
    for t in &report.targets {
        let mark = match t.met {
            Some(true) => "met   ",
            Some(false) => "MISSED",
            None => "n/a   ",
        };
        say(format!(
            "{mark} {}: {} (target {})",
            t.name, t.measured, t.target
        ));
    }
    drop(tmp);
    Ok(())
}

fn serving(source: String, m: Memory, companies: usize) -> ServingMemory {
    ServingMemory {
        source,
        memory: m,
        per_company_bytes: m.rss.saturating_sub(100 << 20) as f64 / companies.max(1) as f64,
        budget_bytes: (1536 * companies as u64) + (100 << 20),
    }
}

/// Time `match_need` for each need, sequentially, on the current pool.
fn time_needs(engine: &Engine, needs: &[Need], opts: &MatchOptions) -> Result<Latency, BoxError> {
    // Warm-up: page in the index and the snapshot features.
    for n in needs.iter().take(50) {
        engine.matcher().match_need(n, Role::Coordinator, opts)?;
    }
    let mut ms = Vec::with_capacity(needs.len());
    let mut cands = 0usize;
    for n in needs {
        let t = Instant::now();
        let r = engine.matcher().match_need(n, Role::Coordinator, opts)?;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        cands += r.candidates;
        std::hint::black_box(r);
    }
    let mean = ms.iter().sum::<f64>() / ms.len().max(1) as f64;
    ms.sort_by(f64::total_cmp);
    Ok(Latency {
        pool: String::new(),
        needs: needs.len(),
        top_k: opts.top_k,
        explain: opts.explain,
        p50_ms: mb::percentile(&ms, 0.50),
        p95_ms: mb::percentile(&ms, 0.95),
        p99_ms: mb::percentile(&ms, 0.99),
        max_ms: ms.last().copied().unwrap_or(0.0),
        mean_ms: mean,
        mean_candidates: cands as f64 / needs.len().max(1) as f64,
    })
}

fn analyzer_runs(ctx: &Context) -> Result<Vec<AnalyzerRun>, BoxError> {
    let dir = fixtures::fixtures_dir();
    let corpus = mb::fixture_capabilities(&dir)?;
    let texts = [
        ("fixture capabilities (all)", corpus.clone()),
        ("2 KB prose", mb::prose_2k(&corpus)),
        (
            "2 KB prose, punctuation removed",
            mb::no_punctuation_2k(&corpus),
        ),
        (
            "2 KB business lines run together",
            mb::business_lines_2k(&dir)?,
        ),
    ];
    let a = &ctx.analyzer;
    let mut out = Vec::new();
    for (name, text) in texts {
        let rate = |f: &dyn Fn() -> usize| -> (f64, f64) {
            for _ in 0..3 {
                f();
            }
            let t = Instant::now();
            let (mut calls, mut toks) = (0usize, 0usize);
            while t.elapsed().as_secs_f64() < 0.5 {
                toks += f();
                calls += 1;
            }
            let s = secs(t);
            ((calls * text.len()) as f64 / s / 1e6, toks as f64 / s)
        };
        let (amb, atok) = rate(&|| a.analyze(&text).len());
        let (lmb, ltok) = rate(&|| a.segment_raw(&text));
        out.push(AnalyzerRun {
            text: name.to_owned(),
            bytes: text.len(),
            analyze_mb_per_sec: amb,
            analyze_tokens_per_sec: atok,
            lindera_mb_per_sec: lmb,
            lindera_tokens_per_sec: ltok,
        });
    }
    Ok(out)
}

/// `render`: write OUT.md again from OUT.json, with (new) notes.
pub fn render(json: &Path, notes: Option<&Path>, out: &Path) -> Result<(), BoxError> {
    let report: Report = serde_json::from_str(&std::fs::read_to_string(json)?)?;
    let notes = match notes {
        Some(p) => Some(std::fs::read_to_string(p)?),
        None => None,
    };
    std::fs::write(out, crate::markdown::render(&report, notes.as_deref()))?;
    Ok(())
}

/// Run this executable's `probe` on `data` and parse its JSON.
fn run_probe(data: &Path) -> Result<ProbeOut, BoxError> {
    let exe = std::env::current_exe()?;
    let out = std::process::Command::new(exe)
        .arg("probe")
        .arg("--data")
        .arg(data)
        .output()?;
    if !out.status.success() {
        return Err(format!("probe: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// `probe`: open `data` in this (fresh) process, warm up, print JSON.
pub fn probe(data: &Path, warmup: usize) -> Result<(), BoxError> {
    if !data.join("FORMAT").exists() {
        return Err(format!("{} is not a data folder", data.display()).into());
    }
    let t = Instant::now();
    let ctx = mb::context()?;
    let context_load_secs = secs(t);
    let t = Instant::now();
    let engine = Engine::open(data, ctx)?;
    let open_secs = secs(t);
    let after_open = mb::memory(None);
    let opts = MatchOptions::default();
    let needs = engine.needs(Role::Coordinator);
    for n in needs.iter().take(warmup) {
        engine.matcher().match_need(n, Role::Coordinator, &opts)?;
    }
    let out = ProbeOut {
        context_load_secs,
        open_secs,
        companies: engine.counts().0,
        warmup: warmup.min(needs.len()),
        after_open,
        after_warmup: mb::memory(None),
    };
    println!("{}", serde_json::to_string(&out)?);
    Ok(())
}

fn dir_bytes(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_bytes(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------
// Machine, commit, time
// ---------------------------------------------------------------------------

fn machine(rayon_threads: usize) -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|r| r.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_else(|| "unknown".into());
    let memory_bytes = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines().find_map(|l| {
                let kb: u64 = l
                    .strip_prefix("MemTotal:")?
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse()
                    .ok()?;
                Some(kb * 1024)
            })
        })
        .unwrap_or(0);
    Machine {
        build_profile: if cfg!(debug_assertions) {
            "dev".into()
        } else {
            "release".into()
        },
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        cpu_model,
        memory_bytes,
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_owned())
            .unwrap_or_default(),
        rayon_threads,
        load_average_start: String::new(),
        load_average_end: String::new(),
        other_load: Vec::new(),
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The checked-out commit, read from `.git` (no git process): `MATCHER_COMMIT`
/// or `GITHUB_SHA` if set.
fn commit() -> Option<String> {
    for k in ["MATCHER_COMMIT", "GITHUB_SHA"] {
        if let Ok(v) = std::env::var(k) {
            if !v.trim().is_empty() {
                return Some(v.trim().to_owned());
            }
        }
    }
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let mut git = root.join(".git");
    if git.is_file() {
        let s = std::fs::read_to_string(&git).ok()?;
        let p = PathBuf::from(s.trim().strip_prefix("gitdir:")?.trim());
        git = if p.is_absolute() { p } else { root.join(p) };
    }
    let common = std::fs::read_to_string(git.join("commondir"))
        .ok()
        .map(|c| git.join(c.trim()))
        .unwrap_or_else(|| git.clone());
    let head = std::fs::read_to_string(git.join("HEAD")).ok()?;
    let head = head.trim();
    let Some(r) = head.strip_prefix("ref:") else {
        return Some(head.to_owned());
    };
    let r = r.trim();
    for base in [&git, &common] {
        if let Ok(s) = std::fs::read_to_string(base.join(r)) {
            return Some(s.trim().to_owned());
        }
    }
    let packed = std::fs::read_to_string(common.join("packed-refs")).ok()?;
    packed.lines().find_map(|l| {
        let (sha, name) = l.split_once(' ')?;
        (name.trim() == r).then(|| sha.to_owned())
    })
}

/// Now as `YYYY-MM-DDTHH:MM:SSZ`.
fn now_utc() -> String {
    let s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (days, rem) = (s.div_euclid(86_400), s.rem_euclid(86_400));
    // civil_from_days (H. Hinnant)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

// ---------------------------------------------------------------------------
// Targets
// ---------------------------------------------------------------------------

fn mbytes(b: u64) -> String {
    format!("{:.0} MB", b as f64 / (1u64 << 20) as f64)
}

/// The targets for this machine, evaluated at this corpus size.
fn targets(r: &Report) -> Vec<Target> {
    let n = r.corpus.companies;
    let scale = if n >= 1_000_000 {
        Scale::M1
    } else if n >= 100_000 {
        Scale::K100
    } else {
        Scale::Small
    };
    let at = |s: Scale| match s {
        Scale::Small => format!("not set at {n} companies (targets are for 100k and 1M)"),
        _ => String::new(),
    };
    let mut out = Vec::new();
    let small = scale == Scale::Small;
    let gate = |met: bool| if small { None } else { Some(met) };

    let cps = r.indexing.companies_per_sec;
    out.push(Target {
        name: "indexing throughput".into(),
        target: "≥ 10,000 companies/s (100k, 1M)".into(),
        measured: format!("{cps:.0} companies/s"),
        met: gate(cps >= 10_000.0),
        note: at(scale),
    });
    let peak = r.indexing.peak_rss_bytes;
    out.push(Target {
        name: "peak RSS while indexing".into(),
        target: "≤ 1 GB at 1M".into(),
        measured: mbytes(peak),
        met: (scale == Scale::M1).then_some(peak <= 1 << 30),
        note: if scale == Scale::M1 {
            String::new()
        } else {
            "set for 1M only".into()
        },
    });
    out.push(Target {
        name: "index size on disk".into(),
        target: "≤ 0.6 × raw text (raw = JSON Lines of companies + needs)".into(),
        measured: format!(
            "{:.2} × JSON Lines ({} / {}); {:.2} × free-text fields",
            r.disk.ratio_to_jsonl,
            mbytes(r.disk.total_bytes),
            mbytes(r.corpus.jsonl_bytes),
            r.disk.ratio_to_text
        ),
        met: Some(r.disk.ratio_to_jsonl <= 0.6),
        note: String::new(),
    });
    let lat = r.latency.first();
    let (p50t, p99t) = if scale == Scale::M1 {
        (3.0, 20.0)
    } else {
        (1.0, 5.0)
    };
    if let Some(l) = lat {
        out.push(Target {
            name: "need → top-20 with explanations".into(),
            target: format!(
                "p50 ≤ {p50t} ms, p99 ≤ {p99t} ms ({})",
                if scale == Scale::M1 { "1M" } else { "100k" }
            ),
            measured: format!(
                "p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms ({} needs, {})",
                l.p50_ms, l.p95_ms, l.p99_ms, l.needs, l.pool
            ),
            met: gate(l.p50_ms <= p50t && l.p99_ms <= p99t),
            note: at(scale),
        });
    }
    let bt = if scale == Scale::M1 { 500.0 } else { 3_000.0 };
    out.push(Target {
        name: "batch, all open needs, top-10".into(),
        target: format!(
            "≥ {bt:.0} needs/s ({})",
            if scale == Scale::M1 { "1M" } else { "100k" }
        ),
        measured: format!(
            "{:.0} needs/s ({} needs in {:.1} s)",
            r.batch.needs_per_sec, r.batch.needs, r.batch.secs
        ),
        met: gate(r.batch.needs_per_sec >= bt),
        note: at(scale),
    });
    let runs = &r.http.runs;
    let matches: Vec<&http::HttpRun> = runs
        .iter()
        .filter(|x| x.endpoint.contains("match"))
        .collect();
    if matches.is_empty() {
        out.push(Target {
            name: "HTTP /v1/match, 16–64 connections".into(),
            target: "≥ 5,000 req/s at 100k".into(),
            measured: "not measured".into(),
            met: None,
            note: r.http.status.clone(),
        });
    } else {
        let worst = matches
            .iter()
            .map(|x| x.requests_per_sec)
            .fold(f64::INFINITY, f64::min);
        let desc: Vec<String> = matches
            .iter()
            .map(|x| {
                format!(
                    "{} c={}: {:.0} req/s, p99 {:.1} ms",
                    x.endpoint, x.connections, x.requests_per_sec, x.p99_ms
                )
            })
            .collect();
        out.push(Target {
            name: "HTTP /v1/match, 16–64 connections".into(),
            target: "≥ 5,000 req/s at 100k".into(),
            measured: desc.join("; "),
            met: (scale == Scale::K100)
                .then_some(worst >= 5_000.0 && matches.iter().all(|x| x.errors == 0)),
            note: if scale == Scale::K100 {
                String::new()
            } else {
                "set for 100k only".into()
            },
        });
    }
    let health: Vec<&http::HttpRun> = runs
        .iter()
        .filter(|x| x.endpoint == "GET /healthz")
        .collect();
    out.push(Target {
        name: "HTTP /healthz".into(),
        target: "≥ 50,000 req/s".into(),
        measured: if health.is_empty() {
            "not measured".into()
        } else {
            health
                .iter()
                .map(|x| format!("c={}: {:.0} req/s", x.connections, x.requests_per_sec))
                .collect::<Vec<_>>()
                .join("; ")
        },
        met: if health.is_empty() {
            None
        } else {
            Some(
                health
                    .iter()
                    .map(|x| x.requests_per_sec)
                    .fold(0.0, f64::max)
                    >= 50_000.0,
            )
        },
        note: if health.is_empty() {
            r.http.status.clone()
        } else {
            String::new()
        },
    });
    match &r.serving_memory {
        Some(s) => out.push(Target {
            name: "memory while serving".into(),
            target: "≤ 1.5 KB per company + 100 MB".into(),
            measured: format!(
                "RSS {} (anon {}, file-backed {}) = {:.0} B/company above 100 MB; budget {}",
                mbytes(s.memory.rss),
                mbytes(s.memory.rss_anon),
                mbytes(s.memory.rss_file),
                s.per_company_bytes,
                mbytes(s.budget_bytes)
            ),
            met: Some(s.memory.rss <= s.budget_bytes),
            note: s.source.clone(),
        }),
        None => out.push(Target {
            name: "memory while serving".into(),
            target: "≤ 1.5 KB per company + 100 MB".into(),
            measured: "not measured".into(),
            met: None,
            note: "the probe process failed".into(),
        }),
    }
    let open = r.open.fresh_process_secs.unwrap_or_else(|| {
        r.open
            .in_process_secs
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min)
    });
    let ot = if scale == Scale::M1 { 0.5 } else { 0.2 };
    out.push(Target {
        name: "cold open of a persisted engine".into(),
        target: format!(
            "≤ {:.0} ms ({})",
            ot * 1e3,
            if scale == Scale::M1 { "1M" } else { "100k" }
        ),
        measured: format!(
            "{:.0} ms in a fresh process (in process: {})",
            open * 1e3,
            r.open
                .in_process_secs
                .iter()
                .map(|s| format!("{:.0}", s * 1e3))
                .collect::<Vec<_>>()
                .join(", ")
                + " ms"
        ),
        met: gate(open <= ot),
        note: if small {
            at(scale)
        } else {
            "Engine::open only; Context::load (dictionary, tables) is separate".into()
        },
    });
    // Issue #13: ratios to bm25s measured in this run (scale-free goals).
    let cmp = |name: &str| {
        r.bm25s
            .as_ref()
            .and_then(|b| b.comparisons.iter().find(|c| c.name == name))
    };
    let bm25s_status = r
        .bm25s
        .as_ref()
        .map_or("not in this report".to_owned(), |b| b.status.clone());
    for (name, title, goal, unit) in [
        (
            "p50 latency",
            "p50 vs bm25s (same run)",
            "matcher p50 ≤ 0.5 × bm25s p50",
            "ms",
        ),
        (
            "batch throughput",
            "batch vs bm25s (same run)",
            "matcher batch ≥ 4 × bm25s single-thread needs/s",
            "needs/s",
        ),
    ] {
        out.push(match cmp(name) {
            Some(c) => Target {
                name: title.into(),
                target: goal.into(),
                measured: format!(
                    "{:.2} × ({:.2} {unit} / {:.2} {unit})",
                    c.ratio, c.matcher_value, c.bm25s_value
                ),
                met: c.met,
                note: format!("{}; {}", c.matcher, c.bm25s),
            },
            None => Target {
                name: title.into(),
                target: goal.into(),
                measured: "not measured".into(),
                met: None,
                note: bm25s_status.clone(),
            },
        });
    }
    let find = |s: &str| r.analyzer.iter().find(|a| a.text == s);
    if let (Some(prose), Some(np), Some(bl)) = (
        find("2 KB prose"),
        find("2 KB prose, punctuation removed"),
        find("2 KB business lines run together"),
    ) {
        let slow = np.analyze_mb_per_sec.min(bl.analyze_mb_per_sec);
        out.push(Target {
            name: "analyzer without punctuation".into(),
            target: "2 KB texts with no punctuation within 2× of prose speed".into(),
            measured: format!(
                "prose {:.2} MB/s; no punctuation {:.2} MB/s; business lines {:.2} MB/s (slowest {:.2}× slower)",
                prose.analyze_mb_per_sec,
                np.analyze_mb_per_sec,
                bl.analyze_mb_per_sec,
                prose.analyze_mb_per_sec / slow
            ),
            met: Some(slow * 2.0 >= prose.analyze_mb_per_sec),
            note: String::new(),
        });
    }
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scale {
    Small,
    K100,
    M1,
}
