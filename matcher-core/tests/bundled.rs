//! The reference data compiled into the crate (`Context::bundled`) against
//! the same files read from a folder (`Context::load`), and what a bad file
//! in a folder reports: which part failed, the file and the line.
//!
//! Run: `cargo test -p matcher-core --test bundled`

use std::path::Path;

use matcher_core::fixtures::fixtures_dir;
use matcher_core::{Context, ContextError, DataSource};

/// The files `Context::load` reads, relative to a fixtures folder.
const REFERENCE_FILES: &[&str] = &[
    "jsic.tsv",
    "jsic_clusters.tsv",
    "municipalities.tsv",
    "certifications.tsv",
    "concepts.jsonl",
    "dict/user_dict.csv",
    "dict/stopwords.txt",
    "dict/synonyms.tsv",
];

/// A folder with a copy of the reference files only (no companies, needs
/// or judgments), for a test to damage.
fn reference_copy() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::create_dir(tmp.path().join("dict")).expect("dict folder");
    for f in REFERENCE_FILES {
        std::fs::copy(fixtures_dir().join(f), tmp.path().join(f)).expect("copy a fixture");
    }
    tmp
}

fn append(path: &Path, line: &str) -> usize {
    let mut text = std::fs::read_to_string(path).expect("read");
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(line);
    text.push('\n');
    std::fs::write(path, &text).expect("write");
    text.lines().count()
}

#[test]
fn the_bundled_context_is_the_fixtures_folder() {
    let bundled = Context::bundled().expect("bundled context");
    let folder = Context::load(&fixtures_dir()).expect("fixtures context");
    // Same ontology text: an index built with one reads as built with the other.
    assert_eq!(
        bundled.ontology.fingerprint(),
        folder.ontology.fingerprint()
    );
    assert_eq!(bundled.ontology.len(), folder.ontology.len());
    assert!(bundled.ontology.len() > 300, "{}", bundled.ontology.len());
    let t = (&bundled.taxonomy, &folder.taxonomy);
    assert_eq!(t.0.jsic_entries().count(), t.1.jsic_entries().count());
    assert_eq!(t.0.clusters().count(), t.1.clusters().count());
    assert_eq!(t.0.municipalities().count(), t.1.municipalities().count());
    assert!(t.0.municipalities().count() > 1700);
    assert_eq!(
        t.0.canonical_certification("ＩＳＯ９００１"),
        t.1.canonical_certification("ＩＳＯ９００１")
    );
    assert_eq!(
        bundled.analyzer.synonyms().len(),
        folder.analyzer.synonyms().len()
    );
    // The user dictionary and stop words: the same terms for a sentence
    // that needs both (a domain compound, a stop word).
    let text = "５軸マシニングセンターでSUS304の精密部品を加工します";
    assert_eq!(
        bundled.analyzer.analyze(text),
        folder.analyzer.analyze(text)
    );
}

#[test]
fn a_bad_table_line_names_the_part_the_file_and_the_line() {
    let dir = reference_copy();
    let jsic = dir.path().join("jsic.tsv");
    let line = append(&jsic, "class\t2999\t299\t存在しない分類");
    let err = Context::load(dir.path()).err().expect("a bad JSIC line");
    assert!(
        matches!(&err, ContextError::Tables { from: DataSource::Dir(d), .. } if d == dir.path()),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("reference tables"), "{msg}");
    assert!(
        msg.contains(&format!("{}:{line}:", jsic.display())),
        "{msg}"
    );
}

#[test]
fn a_missing_word_list_names_the_analyzer_and_the_file() {
    let dir = reference_copy();
    std::fs::remove_file(dir.path().join("dict/stopwords.txt")).expect("remove");
    let err = Context::load(dir.path()).err().expect("no stop words");
    assert!(matches!(err, ContextError::Lexicon { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("word lists"), "{msg}");
    assert!(msg.contains("stopwords.txt"), "{msg}");
}

#[test]
fn a_bad_ontology_line_names_the_line() {
    let dir = reference_copy();
    let concepts = dir.path().join("concepts.jsonl");
    let line = append(
        &concepts,
        r#"{"id":"Bad Id","name":"x","kind":"process","surface":["x"],"examples":["x"]}"#,
    );
    let err = Context::load(dir.path()).err().expect("a bad concept id");
    assert!(matches!(err, ContextError::Ontology { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("capability ontology"), "{msg}");
    assert!(
        msg.contains(&format!("{}:{line}:", concepts.display())),
        "{msg}"
    );
}
