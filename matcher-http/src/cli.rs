//! Subcommands that print to the terminal.

use matcher_core::analysis::Analyzer;
use matcher_core::fixtures;

pub type CliResult = Result<(), Box<dyn std::error::Error>>;

pub fn analyze(text: &str, json: bool) -> CliResult {
    let analyzer = Analyzer::from_dir(&fixtures::dict_dir())?;
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
