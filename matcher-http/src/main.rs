//! The `matcher` binary: the REST server and the coordinator's command-line tools.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

mod cli;

#[derive(Parser)]
#[command(
    name = "matcher",
    version,
    about = "Japanese business matching for regional industrial promotion"
)]
struct Cli {
    /// Data folder (indexes, snapshot, keys).
    #[arg(long, global = true, env = "MATCHER_DATA", default_value = "data")]
    data: PathBuf,
    /// Fixtures folder (dictionary, tables, ontology, bundled data).
    #[arg(long, global = true, env = "MATCHER_FIXTURES")]
    fixtures: Option<PathBuf>,
    /// Matching configuration (weights, candidate count), TOML.
    #[arg(long, global = true, env = "MATCHER_CONFIG")]
    config: Option<PathBuf>,
    /// Log lines on stderr: text, or json (one object per line). Default:
    /// the config file's [server] log_format, else text.
    #[arg(long, global = true, env = "MATCHER_LOG_FORMAT", value_enum)]
    log_format: Option<matcher_http::http::config::LogFormat>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Kind {
    Companies,
    Needs,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum CliRole {
    Portal,
    Coordinator,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the REST API (loads the bundled fixtures into an empty data folder).
    Serve {
        #[arg(long, env = "MATCHER_ADDR", default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// API key file (default: DATA/keys.tsv, created with new keys if missing).
        #[arg(long, env = "MATCHER_KEYS")]
        keys: Option<PathBuf>,
        /// Allowed CORS origins (repeatable).
        #[arg(long = "cors-origin")]
        cors_origins: Vec<String>,
    },
    /// Copy the data folder to DEST (new or empty), consistently, also while
    /// `matcher serve` writes to it. Restore: serve the copy (--data DEST).
    Backup { dest: PathBuf },
    /// Analyze and index every stored company and need again with the
    /// current dictionary, word lists and ontology. Run it after editing
    /// concepts.jsonl or the synonyms, or after an upgrade that changes what
    /// a text evokes; stop `matcher serve` first (it takes the writer lock).
    Reindex,
    /// Import companies or needs from JSON Lines or CSV (UTF-8 or Shift_JIS).
    Import {
        file: PathBuf,
        /// What the file holds (default: detected from its content).
        #[arg(long, value_enum)]
        kind: Option<Kind>,
        /// Text encoding (default: detected).
        #[arg(long, value_enum, default_value = "auto")]
        encoding: cli::CliEncoding,
    },
    /// Candidate partners for a stored need (by id) or a need in a JSON file.
    Match {
        /// Need id
        need: Option<String>,
        /// A need object (interchange shape, id optional) in a JSON file.
        #[arg(long)]
        file: Option<PathBuf>,
        #[arg(long, default_value_t = 10)]
        top: usize,
        #[arg(long)]
        json: bool,
        /// Also compute reciprocal (mutual) scores.
        #[arg(long)]
        mutual: bool,
        #[arg(long, value_enum, default_value = "coordinator")]
        role: CliRole,
    },
    /// All open needs, one JSON object per line on stdout.
    Batch {
        #[arg(long, default_value_t = 10)]
        top: usize,
    },
    /// Print the terms the index would store for TEXT, with byte offsets.
    Analyze {
        /// JSON array of {term, start, end}
        #[arg(long)]
        json: bool,
        text: String,
    },
    /// Print the capability concepts found in TEXT, with their evidence; or,
    /// with --coverage, how much of a corpus the ontology covers.
    Concepts {
        #[arg(long)]
        json: bool,
        /// Read TEXT as a need (exclusions, self-description) rather than a profile.
        #[arg(long)]
        need: bool,
        /// Report ontology coverage of these JSON Lines files of companies
        /// and/or needs: the share of requirement sentences evoking no
        /// concept and the most frequent uncovered noun phrases.
        #[arg(long, value_name = "FILE", num_args = 1.., conflicts_with_all = ["text", "need"])]
        coverage: Vec<PathBuf>,
        /// With --coverage: keep only the records a split file (`id<TAB>half`,
        /// e.g. fixtures/blind/split.tsv) assigns to --half.
        #[arg(long, requires_all = ["coverage", "half"], value_name = "SPLIT.tsv")]
        split: Option<PathBuf>,
        /// With --split: the half to keep (tune, test).
        #[arg(long, requires = "split")]
        half: Option<String>,
        /// With --coverage: how many phrases and machines to list.
        #[arg(long, default_value_t = 40)]
        top: usize,
        /// With --coverage: also list every uncovered requirement sentence.
        #[arg(long)]
        list: bool,
        #[arg(required_unless_present = "coverage")]
        text: Option<String>,
    },
    /// Evaluate ranking quality on judged sets (nDCG@10, Recall@50, MRR), side by side.
    Eval {
        #[arg(long)]
        json: bool,
        /// Sets to evaluate: fixtures, blind-tune, blind-test (repeatable or
        /// comma-separated; default all). Never tune on blind-test.
        #[arg(long = "set", value_name = "NAME", value_delimiter = ',')]
        sets: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let fixtures = cli
        .fixtures
        .clone()
        .unwrap_or_else(matcher_core::fixtures::fixtures_dir);
    let env = cli::Env {
        data: cli.data.clone(),
        fixtures,
        config: cli.config.clone(),
        log_format: cli.log_format,
    };
    let result = match cli.command {
        Command::Serve {
            addr,
            keys,
            cors_origins,
        } => cli::serve(&env, addr, keys, cors_origins),
        Command::Backup { dest } => cli::backup(&env, &dest),
        Command::Reindex => cli::reindex(&env),
        Command::Import {
            file,
            kind,
            encoding,
        } => cli::import(&env, &file, kind, encoding),
        Command::Match {
            need,
            file,
            top,
            json,
            mutual,
            role,
        } => cli::match_need(&env, need, file, top, json, mutual, role),
        Command::Batch { top } => cli::batch(&env, top),
        Command::Analyze { json, text } => cli::analyze(&env, &text, json),
        Command::Concepts {
            json,
            need,
            coverage,
            split,
            half,
            top,
            list,
            text,
        } => match text {
            Some(text) if coverage.is_empty() => cli::concepts(&env, &text, json, need),
            _ => {
                let filter = split.zip(half);
                cli::coverage(&env, &coverage, filter, top, list, json)
            }
        },
        Command::Eval { json, sets } => cli::eval(&env, json, &sets),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
