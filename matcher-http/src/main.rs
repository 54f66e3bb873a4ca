//! The `matcher` binary.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;

use matcher_http as _;

#[derive(Parser)]
#[command(
    name = "matcher",
    version,
    about = "Japanese business matching for regional industrial promotion"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the terms the index would store for TEXT, with byte offsets.
    Analyze {
        /// JSON array of {term, start, end}
        #[arg(long)]
        json: bool,
        text: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze { json, text } => cli::analyze(&text, json),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
