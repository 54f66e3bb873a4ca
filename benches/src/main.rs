//! `matcher-benches report`: index a generated corpus and write a JSON and a
//! Markdown report of what it cost (the README's development section has the
//! commands; the last 100k report is `benches/REPORT.md`).
//!
//! ```sh
//! bash scripts/bench-deps.sh                      # wrk (HTTP section), bm25s venv (baseline)
//! cargo build --release -p matcher-http           # the server the HTTP section starts
//! cargo run --release -p matcher-benches -- report --companies 100000 \
//!     --out benches/REPORT --notes benches/report-notes.md
//! ```
//!
//! Nothing here fails on a timing: missed targets are reported, the exit
//! status is 0 unless the report itself could not be made.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bm25s;
mod http;
mod markdown;
mod report;

#[derive(Parser)]
#[command(
    name = "matcher-benches",
    about = "matcher's benchmark report (the micro-benchmarks are `cargo bench -p matcher-benches`)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a corpus, index it, measure, and write OUT.json and OUT.md.
    Report(report::Args),
    /// Write the Markdown of an existing JSON report again (e.g. after editing the notes).
    Render {
        /// The report's JSON (e.g. benches/REPORT.json).
        json: PathBuf,
        /// Markdown appended under "Notes".
        #[arg(long)]
        notes: Option<PathBuf>,
        /// The Markdown to write (e.g. benches/REPORT.md).
        #[arg(long)]
        out: PathBuf,
    },
    /// (internal) Open a persisted data folder in a fresh process, warm it
    /// up and print open time and memory as JSON.
    #[command(hide = true)]
    Probe {
        #[arg(long)]
        data: PathBuf,
        #[arg(long, default_value_t = 200)]
        warmup: usize,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = match cli.command {
        Command::Report(args) => report::run(args),
        Command::Render { json, notes, out } => report::render(&json, notes.as_deref(), &out),
        Command::Probe { data, warmup } => report::probe(&data, warmup),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
