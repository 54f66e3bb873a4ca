//! Where the bundled data lives, and loading it into an engine.

use std::path::{Path, PathBuf};

use crate::engine::{Engine, EngineError};
use crate::import::{self, Encoding, Format, Parsed};
use crate::model::{Company, Need};
use crate::taxonomy::Taxonomy;

/// Why the sample data could not be read or loaded.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// A file of the fixtures folder could not be read.
    #[error(
        "cannot read {}: {source}; set MATCHER_FIXTURES to the repository's fixtures folder",
        path.display()
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The engine refused the records or could not save its snapshot.
    #[error("loading the sample data from {}: {source}", dir.display())]
    Load {
        /// The fixtures folder.
        dir: PathBuf,
        /// What the engine said.
        source: EngineError,
    },
}

fn read(path: &Path) -> Result<Vec<u8>, FixtureError> {
    std::fs::read(path).map_err(|source| FixtureError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// The fixtures folder: `MATCHER_FIXTURES` if set, else the repository's `fixtures/`.
pub fn fixtures_dir() -> PathBuf {
    std::env::var_os("MATCHER_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures")))
}

/// The analyzer's dictionary folder inside the fixtures.
pub fn dict_dir() -> PathBuf {
    fixtures_dir().join("dict")
}

fn files(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    name.starts_with(prefix) && name.ends_with(".jsonl")
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Parse every `companies*.jsonl` of the fixtures folder.
pub fn companies(dir: &Path, tax: &Taxonomy) -> Result<Parsed<Company>, FixtureError> {
    let mut all: Option<Parsed<Company>> = None;
    for f in files(dir, "companies") {
        let bytes = read(&f)?;
        let mut p: Parsed<Company> = import::parse(&bytes, Format::JsonLines, Encoding::Utf8, tax);
        match &mut all {
            None => all = Some(p),
            Some(a) => {
                a.records.append(&mut p.records);
                a.rejected.append(&mut p.rejected);
                a.warnings.append(&mut p.warnings);
            }
        }
    }
    Ok(all.unwrap_or(Parsed {
        records: Vec::new(),
        rejected: Vec::new(),
        warnings: Vec::new(),
        encoding: "utf-8",
    }))
}

/// Parse `needs.jsonl` of the fixtures folder.
pub fn needs(dir: &Path, tax: &Taxonomy) -> Result<Parsed<Need>, FixtureError> {
    let bytes = read(&dir.join("needs.jsonl"))?;
    Ok(import::parse(
        &bytes,
        Format::JsonLines,
        Encoding::Utf8,
        tax,
    ))
}

/// Graded judgments: need id → (company id → grade).
pub fn qrels(
    dir: &Path,
) -> Result<std::collections::HashMap<String, std::collections::HashMap<String, u8>>, FixtureError>
{
    let path = dir.join("qrels.tsv");
    let text = std::fs::read_to_string(&path).map_err(|source| FixtureError::Read {
        path: path.clone(),
        source,
    })?;
    let mut out: std::collections::HashMap<String, std::collections::HashMap<String, u8>> =
        Default::default();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        if let [n, c, g] = f[..] {
            if let Ok(g) = g.trim().parse::<u8>() {
                out.entry(n.to_owned()).or_default().insert(c.to_owned(), g);
            }
        }
    }
    Ok(out)
}

/// What loading the bundled fixtures did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FixtureLoad {
    /// Companies indexed.
    pub companies: usize,
    /// Needs indexed.
    pub needs: usize,
    /// Rows of either that did not validate (the tests keep this at 0).
    pub rejected: usize,
}

/// Load the bundled companies and needs into `engine` (used by `matcher serve`
/// on first start with an empty data folder) and save a snapshot.
pub fn load_into(engine: &Engine, dir: &Path) -> Result<FixtureLoad, FixtureError> {
    let tax = &engine.ctx.taxonomy;
    let c = companies(dir, tax)?;
    let n = needs(dir, tax)?;
    let out = FixtureLoad {
        companies: c.records.len(),
        needs: n.records.len(),
        rejected: c.rejected.len() + n.rejected.len(),
    };
    let load = |source| FixtureError::Load {
        dir: dir.to_path_buf(),
        source,
    };
    engine.upsert_companies(c.records).map_err(load)?;
    engine.upsert_needs(n.records).map_err(load)?;
    engine.save_snapshot().map_err(load)?;
    Ok(out)
}
