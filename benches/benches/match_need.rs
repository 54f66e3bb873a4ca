//! One need end to end: analyze, candidates from the index, rescore,
//! explanations, top-20 (`Matcher::match_need` with the default options,
//! coordinator role) at 10k and 100k companies.
//!
//! `cargo bench -p matcher-benches --bench match_need`
//!
//! Each size is indexed once, in memory, before its group; the measured
//! call cycles through 64 distinct generated needs, so the time is the mean
//! over a mix of needs (the `report` command gives the percentiles).
//! `MATCH_BENCH_SIZES=10000` limits the sizes (e.g. for a quick run).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use matcher_benches as mb;
use matcher_core::matching::MatchOptions;
use matcher_core::Role;

fn sizes() -> Vec<usize> {
    std::env::var("MATCH_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000])
}

fn match_need(c: &mut Criterion) {
    let ctx = mb::context().expect("fixtures load");
    let opts = MatchOptions {
        top_k: 20,
        explain: true,
        ..MatchOptions::default()
    };
    for n in sizes() {
        let (engine, needs) = mb::memory_engine(ctx.clone(), n, 64).expect("index");
        let mut g = c.benchmark_group("match_need");
        g.sample_size(20);
        let mut i = 0usize;
        g.bench_function(BenchmarkId::new("top20_explain", n), |b| {
            b.iter(|| {
                let need = &needs[i % needs.len()];
                i += 1;
                black_box(
                    engine
                        .matcher()
                        .match_need(black_box(need), Role::Coordinator, &opts)
                        .expect("match"),
                )
            })
        });
        let no_explain = MatchOptions {
            explain: false,
            ..opts
        };
        g.bench_function(BenchmarkId::new("top20_no_explain", n), |b| {
            b.iter(|| {
                let need = &needs[i % needs.len()];
                i += 1;
                black_box(
                    engine
                        .matcher()
                        .match_need(black_box(need), Role::Coordinator, &no_explain)
                        .expect("match"),
                )
            })
        });
        g.finish();
    }
}

criterion_group!(benches, match_need);
criterion_main!(benches);
