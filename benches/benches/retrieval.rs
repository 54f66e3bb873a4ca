//! The retrieval hot loop (term-at-a-time BM25 accumulation into a dense
//! per-slot array, then the filtered top-M selection from it) and the
//! explanation of a match from its stored evidence.
//!
//! `cargo bench -p matcher-benches --bench retrieval`
//!
//! - `select/keep_{all,1in3,1in50}/N` (N = 10,000, 100,000, 1,000,000
//!   slots): `top_slots::select` (through `matcher_core::bench_api`) over a
//!   synthetic score array, limit 800 (= 2 × the 400 candidates of
//!   `config/matcher.toml`, a channel's depth). The scores are
//!   deterministic pseudo-random (xorshift, fixed seed), 70 % positive;
//!   every slot is admitted (a need without constraints), or one in three,
//!   or one in fifty (a narrow region; the admitted list is made before
//!   the measurement, as `Matcher::admit` makes it once per need for both
//!   channels). Throughput is in slots.
//! - `channels/N` (N = 10,000 and 100,000 generated companies, seed
//!   `DEFAULT_SEED`, indexed once in memory before the group): both
//!   retrieval channels of one need as a match runs them
//!   (`Engine::channels`: text terms over the four seed fields, then the
//!   concept ids, each accumulated and selected with the privacy and
//!   hard-constraint filter; coordinator role). The need's analysis is
//!   done before the measurement; the measured call cycles through 64
//!   generated needs, so the time is the mean over a mix of needs.
//!   `RETRIEVAL_BENCH_SIZES=10000` limits the sizes (the 100k corpus takes
//!   about 40 s to generate and index in the release profile on this
//!   2-core machine, the 10k one about 4 s).
//! - `explain/stored_evidence/20` (the 10k corpus): explaining a need's
//!   top 20 (ranked beforehand) one after another on this thread, from the
//!   evidence stored at indexing (nothing is analyzed), cycling through
//!   the same 64 needs. `match_need`'s `top20_explain` −
//!   `top20_no_explain` is the same cost spread over the rayon pool.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use matcher_benches as mb;
use matcher_core::bench_api;
use matcher_core::Role;

/// A channel's depth: 2 × the configured 400 candidates.
const LIMIT: usize = 800;
const NEEDS: usize = 64;
const TOP_K: usize = 20;

/// Which slots a selection may keep.
type Keep = fn(u32) -> bool;

fn sizes() -> Vec<usize> {
    std::env::var("RETRIEVAL_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000])
}

/// `n` deterministic scores, 70 % of them positive (BM25-like magnitudes).
fn scores(n: usize) -> Vec<f32> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x % 10 < 3 {
                0.0
            } else {
                ((x >> 16) % 20_000) as f32 / 1_000.0
            }
        })
        .collect()
}

fn select(c: &mut Criterion) {
    let mut g = c.benchmark_group("select");
    g.sample_size(30);
    for n in [10_000usize, 100_000, 1_000_000] {
        let s = scores(n);
        g.throughput(Throughput::Elements(n as u64));
        let filters: [(&str, Keep); 3] = [
            ("keep_all", |_| true),
            ("keep_1in3", |s| s % 3 == 0),
            ("keep_1in50", |s| s % 50 == 0),
        ];
        for (name, keep) in filters {
            let admitted: Vec<u32> = (0..n as u32).filter(|&x| keep(x)).collect();
            let mut s = s.clone();
            g.bench_function(BenchmarkId::new(name, n), |b| {
                if admitted.len() == n {
                    b.iter(|| black_box(bench_api::select_all_but(black_box(&mut s), LIMIT, &[])))
                } else {
                    b.iter(|| {
                        black_box(bench_api::select_only(black_box(&mut s), LIMIT, &admitted))
                    })
                }
            });
        }
    }
    g.finish();
}

fn channels(c: &mut Criterion) {
    let ctx = mb::context().expect("fixtures load");
    for n in sizes() {
        let t = std::time::Instant::now();
        let (engine, needs) = mb::memory_engine(ctx.clone(), n, NEEDS).expect("index");
        eprintln!("retrieval: {n} companies indexed in {:.1?}", t.elapsed());
        let matcher = engine.matcher();
        let prepared: Vec<_> = needs
            .iter()
            .map(|need| bench_api::prepare(&matcher, need, Role::Coordinator))
            .collect();
        let mut g = c.benchmark_group("channels");
        g.sample_size(20);
        let mut i = 0usize;
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| {
                let p = &prepared[i % prepared.len()];
                i += 1;
                black_box(bench_api::channels(black_box(p)).expect("channels"))
            })
        });
        g.finish();
    }
}

fn explain(c: &mut Criterion) {
    let ctx = mb::context().expect("fixtures load");
    let (engine, needs) = mb::memory_engine(ctx, 10_000, NEEDS).expect("index");
    let matcher = engine.matcher();
    let prepared: Vec<_> = needs
        .iter()
        .map(|need| bench_api::prepare(&matcher, need, Role::Coordinator))
        .collect();
    let tops: Vec<_> = prepared
        .iter()
        .map(|p| bench_api::rank_top(p, TOP_K).expect("rank"))
        .collect();
    let explained: usize = tops.iter().map(|t| t.len()).sum();
    eprintln!(
        "retrieval: {explained} matches to explain over {} needs",
        tops.len()
    );
    let mut g = c.benchmark_group("explain");
    g.sample_size(20);
    let mut i = 0usize;
    g.bench_function(BenchmarkId::new("stored_evidence", TOP_K), |b| {
        b.iter(|| {
            let k = i % prepared.len();
            i += 1;
            black_box(bench_api::explain_top(&prepared[k], &tops[k]).expect("explain"))
        })
    });
    g.finish();
}

criterion_group!(benches, select, channels, explain);
criterion_main!(benches);
