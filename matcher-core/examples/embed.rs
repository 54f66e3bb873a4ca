//! matcher-core embedded in a program, end to end, with the reference data
//! bundled in the crate (no `fixtures/` folder, no server):
//!
//! 1. load the context ([`Context::bundled`]);
//! 2. open an engine on a data folder of its own;
//! 3. import companies from JSON Lines, one row of them bad, and read the report;
//! 4. search them as a portal would;
//! 5. match a need as a portal and as a coordinator (a restricted
//!    subcontractor is for coordinators only), printing the why;
//! 6. close the engine, open the folder again and get the same answer.
//!
//! Every step checks what it got and the program exits non-zero if a check
//! fails, so CI running it (`scripts/test.sh`) catches an embedding that
//! stopped working.
//!
//! Run: `cargo run -p matcher-core --example embed`

use std::error::Error;
use std::sync::Arc;

use matcher_core::import::{self, Encoding, Format};
use matcher_core::{
    Company, Context, Engine, MatchOptions, MatchResult, Need, Role, SearchRequest,
};

/// Five firms of 大田区 and 川崎市, as a city's export would list them. The
/// last row has a municipality code whose check digit is wrong.
const COMPANIES: &str = r#"{"id":"c-001","name":"大森研削工業","municipality_code":"131113","industry_codes":["269"],"capabilities":"円筒研削盤とセンタレス研削盤で、焼入れ後のシャフト・ピンの外径研削を行います。h6公差、面粗さRa0.4まで社内で測定・保証します。","equipment":[{"name":"円筒研削盤","maker":"ジェイテクト","count":2},{"name":"センタレス研削盤"}],"certifications":["ISO 9001:2015"]}
{"id":"c-002","name":"蒲田板金製作所","municipality_code":"131113","industry_codes":["2446"],"capabilities":"レーザー切断、ベンダーによる曲げ加工、TIG溶接で制御盤や装置カバーの筐体を製作します。粉体塗装まで一括対応。","equipment":[{"name":"ファイバーレーザー加工機"},{"name":"ベンディングマシン"}]}
{"id":"c-003","name":"六郷精密","municipality_code":"131113","industry_codes":["269"],"capabilities":"NC旋盤と複合加工機による丸物部品の旋削加工。SUS304、S45Cのシャフト、ピン、スリーブを1個から。","equipment":[{"name":"NC旋盤","count":3},{"name":"複合加工機"}]}
{"id":"c-004","name":"川崎研磨","municipality_code":"141305","industry_codes":["269"],"capabilities":"焼入れ鋼の円筒研削・内面研削を専門に、量産品の下請けをしています。","equipment":[{"name":"円筒研削盤"},{"name":"内面研削盤"}],"visibility":"restricted"}
{"id":"c-005","name":"桁違いの会社","municipality_code":"131112","industry_codes":["24"],"capabilities":"金属加工"}"#;

/// A need a portal user would post: grinding after heat treatment, in 大田区.
const NEED: &str = r#"{"id":"n-001","kind":"subcontracting","title":"焼入れ済みシャフトの外径仕上げ","text":"高周波焼入れしたシャフト（φ20、SUJ2）のベアリング部を、研削でh6公差まで仕上げてくれる会社を探しています。月に30本程度。","region":{"prefecture_codes":["13","14"]}}"#;

fn check(ok: bool, what: &str) -> Result<(), Box<dyn Error>> {
    if ok {
        Ok(())
    } else {
        Err(format!("check failed: {what}").into())
    }
}

fn print(result: &MatchResult, role: &str) {
    println!("\n{role}: {} candidates rescored", result.candidates);
    for (rank, m) in result.matches.iter().enumerate() {
        let why = m.explanation.as_ref().map(|e| e.why.as_str()).unwrap_or("");
        println!(
            "  {}. {} {} ({:.3}) — {why}",
            rank + 1,
            m.company_id,
            m.name,
            m.score
        );
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    // 1. The tables, ontology and word lists come from the crate itself; the
    //    IPADIC dictionary is built from Debian's mecab-ipadic on first use.
    let ctx = Arc::new(Context::bundled()?);
    println!(
        "context: {} concepts, {} synonym terms",
        ctx.ontology.len(),
        ctx.analyzer.synonyms().len()
    );

    // 2. A data folder of its own (an index per record type, a features snapshot).
    let dir = std::env::temp_dir().join(format!("matcher-embed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let engine = Engine::open(&dir, ctx.clone())?;

    // 3. Import: good rows are kept, a bad one is reported with its line and field.
    let parsed = import::parse::<Company>(
        COMPANIES.as_bytes(),
        Format::JsonLines,
        Encoding::Utf8,
        &ctx.taxonomy,
    );
    for e in &parsed.rejected {
        println!("rejected line {}: {} {}", e.line, e.field, e.reason);
    }
    check(parsed.records.len() == 4, "four companies import")?;
    check(
        parsed.rejected.len() == 1 && parsed.rejected[0].line == 5,
        "the bad check digit on line 5 is reported",
    )?;
    let written = engine.upsert_companies(parsed.records)?;
    check(written.created == 4, "four companies created")?;

    // 4. Portal search: the restricted company is not there, not even counted.
    let hits = engine.search(
        &SearchRequest {
            query: "円筒研削".into(),
            ..Default::default()
        },
        Role::Public,
    )?;
    println!("\nsearch 円筒研削 (portal): {} hits", hits.total);
    for h in &hits.hits {
        println!("  {} {} ({:.3})", h.id, h.name, h.score);
    }
    check(
        hits.hits.first().map(|h| h.id.as_str()) == Some("c-001"),
        "c-001 is the first search hit",
    )?;
    check(
        hits.hits.iter().all(|h| h.id != "c-004"),
        "a portal never sees the restricted c-004",
    )?;

    // 5. Match the need.
    let mut need: Need = serde_json::from_str(NEED)?;
    matcher_core::model::validate::need(&mut need, &ctx.taxonomy)?;
    let opts = MatchOptions {
        top_k: 3,
        ..Default::default()
    };
    let portal = engine.matcher().match_need(&need, Role::Public, &opts)?;
    print(&portal, "portal");
    let coordinator = engine
        .matcher()
        .match_need(&need, Role::Coordinator, &opts)?;
    print(&coordinator, "coordinator");
    check(
        portal.matches.first().map(|m| m.company_id.as_str()) == Some("c-001"),
        "the grinding shop ranks first for the portal",
    )?;
    check(
        portal.matches.iter().all(|m| m.company_id != "c-004"),
        "no restricted company in a portal's matches",
    )?;
    check(
        coordinator.matches.iter().any(|m| m.company_id == "c-004"),
        "the coordinator meets the restricted grinding subcontractor",
    )?;
    check(
        portal.matches[0]
            .explanation
            .as_ref()
            .is_some_and(|e| !e.why.is_empty()),
        "the first match says why",
    )?;

    // 6. Durable: save the features, close, open again, same answer.
    engine.save_snapshot()?;
    drop(engine);
    let engine = Engine::open(&dir, ctx)?;
    let again = engine.matcher().match_need(&need, Role::Public, &opts)?;
    check(again == portal, "the reopened folder answers the same")?;
    println!("\nreopened {}: same answer", dir.display());
    drop(engine);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
