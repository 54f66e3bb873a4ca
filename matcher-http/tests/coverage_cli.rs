//! `matcher concepts --coverage`: the real binary over a small corpus.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_matcher");

fn run(args: &[&std::ffi::OsStr]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .arg("--fixtures")
        .arg(matcher_core::fixtures::fixtures_dir())
        .args(args)
        .output()
        .expect("run matcher");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn coverage_of_a_split_half_with_a_bad_row() {
    let dir = tempfile::tempdir().expect("temp dir");
    let needs = dir.path().join("needs.jsonl");
    std::fs::write(
        &needs,
        [
            r#"{"id":"t-1","kind":"subcontracting","title":"アルミ部品","text":"アルミ部品の切削加工をお願いしたい。社員旅行の行き先を決めてくれる会社を探しています。"}"#,
            r#"{"id":"t-2","kind":"subcontracting","title":"別の半分","text":"社員旅行の行き先を決めてくれる会社を探しています。"}"#,
            r#"{"id":"t-3","kind":"subcontracting","text":"題名がない"}"#,
        ]
        .join("\n"),
    )
    .expect("write needs");
    let split = dir.path().join("split.tsv");
    std::fs::write(
        &split,
        "need_id\thalf\tsector\nt-1\ttune\tmfg\nt-2\ttest\tmfg\n",
    )
    .expect("write split");
    let (ok, out, err) = run(&[
        "concepts".as_ref(),
        "--coverage".as_ref(),
        needs.as_os_str(),
        "--split".as_ref(),
        split.as_os_str(),
        "--half".as_ref(),
        "tune".as_ref(),
        "--json".as_ref(),
    ]);
    assert!(ok, "{err}");
    // the row without a title is named, with its line and field
    assert!(err.contains("line 3") && err.contains("title"), "{err}");
    let r: serde_json::Value = serde_json::from_str(&out).expect("json");
    let t = &r["needs"];
    assert_eq!(t["records"], 1, "only the tune half: {t}");
    assert_eq!(t["uncovered"], 1, "{t}");
    assert!(t["covered"].as_u64().is_some_and(|c| c >= 1), "{t}");
    let phrases: Vec<&str> = r["phrases"]
        .as_array()
        .expect("phrases")
        .iter()
        .filter(|p| p["in_uncovered"].as_u64() > Some(0))
        .filter_map(|p| p["phrase"].as_str())
        .collect();
    assert!(phrases.contains(&"社員旅行"), "{phrases:?}");
    assert_eq!(r["uncovered"][0]["id"], "t-1");

    // the text report says the same
    let (ok, out, err) = run(&[
        "concepts".as_ref(),
        "--coverage".as_ref(),
        needs.as_os_str(),
    ]);
    assert!(ok, "{err}");
    let needs_row = out
        .lines()
        .find(|l| l.starts_with("needs"))
        .expect("a needs row");
    let cols: Vec<&str> = needs_row.split_whitespace().collect();
    assert_eq!(cols[1], "2", "two needs kept without a split: {needs_row}");
    assert!(out.contains("社員旅行"), "{out}");

    // a half the split does not have is an error naming the file
    let (ok, _, err) = run(&[
        "concepts".as_ref(),
        "--coverage".as_ref(),
        needs.as_os_str(),
        "--split".as_ref(),
        split.as_os_str(),
        "--half".as_ref(),
        "dev".as_ref(),
    ]);
    assert!(!ok);
    assert!(err.contains("split.tsv") && err.contains("dev"), "{err}");
}
