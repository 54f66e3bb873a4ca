use std::sync::Arc;

use matcher_core::fixtures;
use matcher_core::{Context, Engine, Role, SearchRequest};

#[test]
fn fixtures_load_and_search() {
    let dir = fixtures::fixtures_dir();
    let t = std::time::Instant::now();
    let ctx = Arc::new(Context::load(&dir).unwrap());
    eprintln!("context {:?}", t.elapsed());
    let parsed = fixtures::companies(&dir, &ctx.taxonomy).unwrap();
    for r in &parsed.rejected {
        eprintln!("rejected {r}");
    }
    for w in parsed.warnings.iter().take(10) {
        eprintln!("warning {w:?}");
    }
    assert!(parsed.rejected.is_empty());
    let engine = Engine::in_memory(ctx).unwrap();
    let t = std::time::Instant::now();
    engine.upsert_companies(parsed.records).unwrap();
    eprintln!("index {:?}", t.elapsed());
    for q in [
        "マシニングセンター ５軸",
        "ワイヤーカット",
        "アニメーション",
        "おおもり",
        "SUS304 溶接",
    ] {
        let r = engine
            .search(
                &SearchRequest {
                    query: q.into(),
                    ..Default::default()
                },
                Role::Public,
            )
            .unwrap();
        eprintln!("{q}: total {}", r.total);
        for h in r.hits.iter().take(3) {
            eprintln!(
                "  {} {} {:.2} {:?}",
                h.id,
                h.name,
                h.score,
                h.snippets.first().map(|s| &s.text)
            );
        }
    }
}
