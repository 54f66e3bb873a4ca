//! The subcommands. Each is a thin call into `matcher-core` plus printing.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};
use matcher_core::analysis::scope::ScopeKind;
use matcher_core::analysis::Analyzer;
use matcher_core::import::{self, Encoding, Format};
use matcher_core::matching::{batch, eval, MatchOptions};
use matcher_core::model::{Company, Need, NeedDraft};
use matcher_core::{Context, Engine, MatchConfig, Role};

use crate::{CliRole, Kind};

pub type CliResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// Where things are.
pub struct Env {
    pub data: PathBuf,
    pub fixtures: PathBuf,
    pub config: Option<PathBuf>,
    /// `--log-format`; `None`: the config file's, else text.
    pub log_format: Option<matcher_http::http::config::LogFormat>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum CliEncoding {
    Auto,
    Utf8,
    ShiftJis,
}

impl Env {
    fn context(&self) -> Result<Arc<Context>, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Arc::new(Context::load(&self.fixtures)?))
    }

    /// The matching configuration of `--config`, or the defaults.
    fn match_config(&self) -> Result<MatchConfig, Box<dyn std::error::Error + Send + Sync>> {
        Ok(match &self.config {
            Some(c) => matcher_http::http::config::FileConfig::load(c)?.matching,
            None => MatchConfig::default(),
        })
    }

    fn engine(&self) -> Result<Engine, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Engine::open(&self.data, self.context()?)?.with_match_config(self.match_config()?))
    }
}

fn progress(total: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(total);
    pb.set_style(
        ProgressStyle::with_template(&format!("{{bar:40}} {{pos}}/{{len}} {what} {{elapsed}}"))
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb
}

pub fn serve(
    env: &Env,
    addr: std::net::SocketAddr,
    keys: Option<PathBuf>,
    cors: Vec<String>,
) -> CliResult {
    let config = matcher_http::http::ServeConfig {
        addr,
        data_dir: env.data.clone(),
        fixtures_dir: env.fixtures.clone(),
        key_file: keys,
        cors_origins: cors,
        match_config: env.config.clone(),
    };
    let file = matcher_http::http::config::FileConfig::load_or_default(env.config.as_deref())?;
    let log_format = env
        .log_format
        .or(file.server.log_format)
        .unwrap_or_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (data, fixtures) = (env.data.clone(), env.fixtures.clone());
    runtime.block_on(matcher_http::http::serve(config, log_format, move |s| {
        announce(s, &data, &fixtures)
    }))
}

/// The start banner on stdout: what was opened, new keys (shown only
/// now), the address and a request to try.
fn announce(s: &matcher_http::http::Started, data: &Path, fixtures: &Path) {
    use matcher_http::http::KeyRole;
    match s.loaded_fixtures {
        Some((companies, needs, rejected)) => println!(
            "matcher: the data folder {} was empty: loaded the bundled fixtures from {} ({companies} companies, {needs} needs, {rejected} rejected)",
            data.display(),
            fixtures.display(),
        ),
        None => println!(
            "matcher: opened {} ({} companies, {} needs)",
            data.display(),
            s.companies,
            s.needs
        ),
    }
    let local = s.addr;
    let host = if local.ip().is_unspecified() {
        format!("127.0.0.1:{}", local.port())
    } else {
        local.to_string()
    };
    let try_key = if s.new_keys.is_empty() {
        println!(
            "matcher: API keys from {} (stored hashed; use one of yours below)",
            s.key_file.display()
        );
        "$MATCHER_KEY".to_owned()
    } else {
        println!(
            "matcher: created {} with three API keys. They are stored hashed and shown only now:",
            s.key_file.display()
        );
        for k in &s.new_keys {
            println!("  {:<12} {}", k.role.as_str(), k.key);
        }
        s.new_keys
            .iter()
            .find(|k| k.role == KeyRole::Coordinator)
            .map(|k| k.key.clone())
            .unwrap_or_default()
    };
    println!("matcher: listening on http://{local} (API description: http://{host}/openapi.json)");
    let auth = if try_key.starts_with('$') {
        format!("\"Authorization: Bearer {try_key}\"")
    } else {
        shell_quote(&format!("Authorization: Bearer {try_key}"))
    };
    println!("try:");
    println!(
        "  curl -s -H {auth} -H 'Content-Type: application/json' -d '{{\"query\":\"5軸 マシニング\",\"limit\":3}}' http://{host}/v1/search"
    );
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

pub fn backup(env: &Env, dest: &Path) -> CliResult {
    let r = matcher_core::backup::backup(&env.data, dest)?;
    println!(
        "backed up {} to {}: {} files, {:.1} MB{}",
        env.data.display(),
        dest.display(),
        r.files,
        r.bytes as f64 / 1e6,
        if r.retries > 0 {
            format!(
                " ({} index copies restarted after a concurrent merge)",
                r.retries
            )
        } else {
            String::new()
        }
    );
    println!("restore: matcher serve --data {}", dest.display());
    Ok(())
}

pub fn reindex(env: &Env) -> CliResult {
    let engine = env.engine()?;
    let r = engine.reindex()?;
    println!(
        "indexed again in {}: {} companies, {} needs{}",
        env.data.display(),
        r.companies,
        r.needs,
        if r.unreadable.is_empty() {
            String::new()
        } else {
            format!(
                "; {} stored records could not be read back and were left as they are \
                 (listed above; re-import them from their source)",
                r.unreadable.len()
            )
        }
    );
    Ok(())
}

pub fn import(env: &Env, file: &Path, kind: Option<Kind>, encoding: CliEncoding) -> CliResult {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let name = file.file_name().and_then(|n| n.to_str());
    let format = Format::detect(name, &bytes);
    let encoding = match encoding {
        CliEncoding::Auto => Encoding::Auto,
        CliEncoding::Utf8 => Encoding::Utf8,
        CliEncoding::ShiftJis => Encoding::ShiftJis,
    };
    let kind = kind.unwrap_or_else(|| detect_kind(&bytes));
    let engine = env.engine()?;
    let tax = &engine.ctx.taxonomy;
    let (accepted, rejected, warnings, summary) = match kind {
        Kind::Companies => {
            let p = import::parse::<Company>(&bytes, format, encoding, tax);
            let n = p.records.len();
            let pb = progress(n as u64, "companies");
            let mut summary = matcher_core::engine::WriteSummary::default();
            for chunk in p.records.chunks(matcher_core::engine::COMMIT_BATCH) {
                let s = engine.upsert_companies(chunk.to_vec())?;
                summary.created += s.created;
                summary.updated += s.updated;
                pb.inc(chunk.len() as u64);
            }
            pb.finish_and_clear();
            (n, p.rejected, p.warnings, summary)
        }
        Kind::Needs => {
            let p = import::parse::<Need>(&bytes, format, encoding, tax);
            let n = p.records.len();
            let s = engine.upsert_needs(p.records)?;
            (n, p.rejected, p.warnings, s)
        }
    };
    engine.save_snapshot()?;
    for r in &rejected {
        eprintln!("rejected: {r}");
    }
    for w in &warnings {
        eprintln!("warning: line {}: {}: {}", w.line, w.id, w.message);
    }
    println!(
        "{}: {accepted} accepted ({} new, {} updated), {} rejected, {} warnings → {}",
        file.display(),
        summary.created,
        summary.updated,
        rejected.len(),
        warnings.len(),
        env.data.display()
    );
    Ok(())
}

/// Companies have `capabilities`; needs have `title`.
fn detect_kind(bytes: &[u8]) -> Kind {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    if head.contains("capabilities") || head.contains("技術・強み") {
        Kind::Companies
    } else {
        Kind::Needs
    }
}

pub fn match_need(
    env: &Env,
    need: Option<String>,
    file: Option<PathBuf>,
    top: usize,
    json: bool,
    mutual: bool,
    role: CliRole,
) -> CliResult {
    let engine = env.engine()?;
    let role = match role {
        CliRole::Portal => Role::Public,
        CliRole::Coordinator => Role::Coordinator,
    };
    // One view for the need and its matches.
    let matcher = engine.matcher();
    let need: Need = match (need, file) {
        (Some(id), None) => matcher
            .view()
            .need(&id, role)
            .ok_or_else(|| format!("no need with id {id:?}"))?,
        (None, Some(f)) => {
            let text = std::fs::read_to_string(&f)
                .map_err(|e| format!("cannot read {}: {e}", f.display()))?;
            let draft: NeedDraft =
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", f.display()))?;
            let mut n = draft.into_need();
            matcher_core::model::validate::need(&mut n, &engine.ctx.taxonomy)?;
            n
        }
        _ => return Err("give a need id or --file NEED.json (one of them)".into()),
    };
    let opts = MatchOptions {
        top_k: top,
        mutual,
        ..MatchOptions::default()
    };
    let r = matcher.match_need(&need, role, &opts)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(());
    }
    println!("{} — {} ({} candidates)", need.id, need.title, r.candidates);
    println!(
        "{:>3}  {:<10} {:>6}  {:<28} why",
        "#", "company", "score", "name"
    );
    for (i, m) in r.matches.iter().enumerate() {
        let why = m.explanation.as_ref().map(|e| e.why.as_str()).unwrap_or("");
        let stale = if m.stale { " [stale]" } else { "" };
        let mutual = m
            .mutual
            .as_ref()
            .filter(|x| x.is_mutual)
            .map(|x| format!(" [mutual {:.2}]", x.score))
            .unwrap_or_default();
        println!(
            "{:>3}  {:<10} {:>6.3}  {:<28} {why}{stale}{mutual}",
            i + 1,
            m.company_id,
            m.score,
            m.name
        );
    }
    Ok(())
}

pub fn batch(env: &Env, top: usize) -> CliResult {
    let engine = env.engine()?;
    // The batch reads one view; its progress bar counts that view's needs.
    let matcher = engine.matcher();
    let total = matcher
        .view()
        .needs(Role::Coordinator)
        .iter()
        .filter(|n| n.status == matcher_core::model::NeedStatus::Open)
        .count();
    let pb = progress(total as u64, "needs");
    let cancel = AtomicBool::new(false);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    batch::run(
        &matcher,
        Role::Coordinator,
        top,
        &cancel,
        |line| -> std::io::Result<()> {
            serde_json::to_writer(&mut out, &line)?;
            writeln!(out)
        },
        |done, _| pb.set_position(done as u64),
    )?;
    pb.finish_and_clear();
    out.flush()?;
    Ok(())
}

pub fn analyze(env: &Env, text: &str, json: bool) -> CliResult {
    let analyzer = Analyzer::from_dir(&env.fixtures.join("dict"))?;
    let terms = analyzer.analyze(text);
    if json {
        println!("{}", serde_json::to_string(&terms)?);
    } else {
        for t in &terms {
            println!(
                "{}\t{}..{}\t{}",
                t.term,
                t.start,
                t.end,
                &text[t.start..t.end]
            );
        }
    }
    Ok(())
}

pub fn concepts(env: &Env, text: &str, json: bool, need: bool) -> CliResult {
    let analyzer = Arc::new(Analyzer::from_dir(&env.fixtures.join("dict"))?);
    let ontology = matcher_core::concepts::Ontology::load(
        &env.fixtures.join("concepts.jsonl"),
        Some(analyzer),
    )?;
    let mut mentions = ontology.extract_text(text, need);
    mentions.sort_by_key(|m| (m.start, m.concept));
    #[derive(serde::Serialize)]
    struct Row<'a> {
        concept: &'a str,
        name: &'a str,
        weight: f32,
        start: usize,
        end: usize,
        evidence: &'a str,
        broader: Vec<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        scope: Option<ScopeKind>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        head_word: bool,
    }
    let rows: Vec<Row> = mentions
        .iter()
        .map(|m| {
            let c = ontology.concept(m.concept);
            Row {
                concept: &c.id,
                name: &c.name,
                weight: m.weight,
                start: m.start,
                end: m.end,
                evidence: &m.evidence,
                scope: m.scope,
                head_word: m.head_word,
                broader: ontology
                    .ancestors(m.concept)
                    .iter()
                    .map(|a| ontology.concept(*a).name.as_str())
                    .collect(),
            }
        })
        .collect();
    if json {
        println!("{}", serde_json::to_string(&rows)?);
    } else {
        // The scope decisions first: which clauses count for less or nothing.
        for sc in matcher_core::analysis::scope::scopes(text, need) {
            let kind = serde_json::to_value(sc.kind)?;
            println!(
                "# scope\t{}\t{}..{}\t「{}」",
                kind.as_str().unwrap_or_default(),
                sc.start,
                sc.end,
                &text[sc.start..sc.end]
            );
        }
        for r in rows {
            let mut note = match r.scope {
                Some(ScopeKind::Outsourced) => "  (outsourced: counts little)",
                Some(ScopeKind::Optional) => "  (nice-to-have: counts little)",
                Some(ScopeKind::SelfDescription) => {
                    "  (out of scope: not counted — the owner describing itself)"
                }
                Some(ScopeKind::InHouse) => {
                    "  (out of scope: not counted — done or supplied in-house)"
                }
                Some(ScopeKind::Excluded) => "  (out of scope: not counted — excluded)",
                Some(ScopeKind::Replaced) => {
                    "  (out of scope: not counted — the method being replaced)"
                }
                Some(ScopeKind::Refused) => "  (out of scope: not counted — not offered)",
                None => "",
            }
            .to_owned();
            if r.head_word {
                note.push_str("  (head word only)");
            }
            println!(
                "{}\t{}\t{}..{}\t「{}」\t⊂ {}{note}",
                r.concept,
                r.name,
                r.start,
                r.end,
                r.evidence,
                r.broader.join(" ⊂ ")
            );
        }
    }
    Ok(())
}

/// `matcher eval [--set NAME]...`: every named set in its own in-memory
/// engine, reported side by side (one table, a set column).
pub fn eval(env: &Env, json: bool, sets: &[String]) -> CliResult {
    let mut chosen: Vec<eval::EvalSet> = Vec::new();
    for name in sets {
        let set = eval::EvalSet::parse(name).ok_or_else(|| {
            let known: Vec<&str> = eval::EvalSet::ALL.iter().map(|s| s.name()).collect();
            format!("unknown eval set {name:?} (known: {})", known.join(", "))
        })?;
        if !chosen.contains(&set) {
            chosen.push(set);
        }
    }
    if chosen.is_empty() {
        chosen = eval::EvalSet::ALL.to_vec();
    }
    let ctx = env.context()?;
    let config = env.match_config()?;
    let mut reports = Vec::new();
    for set in chosen {
        let r = eval::evaluate_set(ctx.clone(), config.clone(), &env.fixtures, set)?;
        if r.rejected > 0 {
            eprintln!("warning: {}: {} rows rejected on import", r.set, r.rejected);
        }
        reports.push(r);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        print!("{}", eval::markdown_sets(&reports));
    }
    Ok(())
}

/// `matcher concepts --coverage FILE…`: how much of a corpus of profiles
/// and needs the ontology covers, and what it misses (see
/// `matcher_core::concepts::coverage`). Each file is JSON Lines of one kind
/// (detected like `import`); rows the importer would reject are reported
/// with line, field and reason and left out. `filter` (a split file and a
/// half) keeps only the records that half lists, so a tuning half can be
/// measured without reading the test half.
pub fn coverage(
    env: &Env,
    files: &[PathBuf],
    filter: Option<(PathBuf, String)>,
    top: usize,
    list: bool,
    json: bool,
) -> CliResult {
    use matcher_core::concepts::coverage::{self, SplitFilter, Tally, Vocabulary};
    let ctx = env.context()?;
    let split = match &filter {
        Some((path, half)) => Some(SplitFilter::load(path, half)?),
        None => None,
    };
    let (mut needs, mut companies, mut dropped) = (Vec::new(), Vec::new(), 0usize);
    for file in files {
        let bytes =
            std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let name = file.file_name().and_then(|n| n.to_str());
        let format = Format::detect(name, &bytes);
        let keep = |id: &str| split.as_ref().is_none_or(|s| s.keeps(id));
        let rejected = match detect_kind(&bytes) {
            Kind::Companies => {
                let p = import::parse::<Company>(&bytes, format, Encoding::Auto, &ctx.taxonomy);
                for c in p.records {
                    if keep(c.id.as_str()) {
                        companies.push(c);
                    } else {
                        dropped += 1;
                    }
                }
                p.rejected
            }
            Kind::Needs => {
                let p = import::parse::<Need>(&bytes, format, Encoding::Auto, &ctx.taxonomy);
                for n in p.records {
                    if keep(n.id.as_str()) {
                        needs.push(n);
                    } else {
                        dropped += 1;
                    }
                }
                p.rejected
            }
        };
        for r in &rejected {
            eprintln!("rejected: {}: {r}", file.display());
        }
    }
    let vocabulary = Vocabulary::new(&ctx.taxonomy);
    let mut report = coverage::measure(
        &ctx.ontology,
        &ctx.analyzer,
        &vocabulary,
        &needs,
        &companies,
    );
    if let Some((path, half)) = &filter {
        eprintln!(
            "split {}: kept half {half:?}, left out {dropped} records",
            path.display()
        );
    }
    report.jsic_gaps = coverage::jsic_gaps(&ctx.ontology, &ctx.taxonomy, &["E", "G"]);
    report.phrases.truncate(top);
    report.equipment.truncate(top);
    if !list && !json {
        report.uncovered.clear();
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "ontology coverage ({} concepts): requirement sentences that evoke no concept",
        report.concepts
    );
    println!(
        "{:<10} {:>7} {:>9} {:>12} {:>9} {:>7}   set aside: out of scope / constraint / no content; head word only",
        "", "records", "sentences", "requirements", "uncovered", "share"
    );
    let row = |name: &str, t: &Tally| {
        println!(
            "{name:<10} {:>7} {:>9} {:>12} {:>9} {:>6.1}%   {} / {} / {}; {}",
            t.records,
            t.sentences,
            t.requirements,
            t.uncovered,
            100.0 * t.uncovered_share(),
            t.out_of_scope,
            t.constraint,
            t.no_content,
            t.head_word_only
        );
    };
    row("needs", &report.needs);
    row("companies", &report.companies);
    row("all", &report.total());
    println!(
        "\nmost frequent uncovered noun phrases (sentences evoking no concept / evoking others):"
    );
    for p in &report.phrases {
        println!(
            "{:>5} {:>5}  {}\t{} {:?}: {}",
            p.in_uncovered,
            p.in_covered,
            p.phrase,
            p.example.id,
            p.example.field,
            p.example.sentence
        );
    }
    if !report.equipment.is_empty() {
        println!("\nequipment that implies no concept:");
        for p in &report.equipment {
            println!("{:>5}  {}\t{}", p.in_uncovered, p.phrase, p.example.id);
        }
    }
    if !report.jsic_gaps.is_empty() {
        println!(
            "\nJSIC groups of E and G that no concept hints at ({}):",
            report.jsic_gaps.len()
        );
        for g in &report.jsic_gaps {
            println!("  {} {}", g.code, g.name);
        }
    }
    if list {
        println!("\nuncovered requirement sentences:");
        for e in &report.uncovered {
            println!("{} {:?}: {}", e.id, e.field, e.sentence);
        }
    }
    Ok(())
}
