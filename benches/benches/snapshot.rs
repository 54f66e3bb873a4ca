//! Snapshot save and load, and a cold `Engine::open` of a persisted folder.
//!
//! `cargo bench -p matcher-benches --bench snapshot`
//!
//! A 10k-company corpus is indexed once into a temporary data folder.
//! - `snapshot/save/10000`: `Engine::save_snapshot` (bincode + CRC + fsync + rename).
//! - `snapshot/load/10000`: `persist::load` of that file (read + CRC + decode).
//! - `snapshot/engine_open/10000`: `Engine::open` on the folder (both
//!   tantivy indexes, writers, snapshot), dropped after each call.
//!
//! Bytes throughput is the snapshot file size.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use matcher_benches as mb;
use matcher_core::generator::GeneratorConfig;
use matcher_core::index::persist;
use matcher_core::Engine;

const COMPANIES: usize = 10_000;

fn snapshot(c: &mut Criterion) {
    let ctx = mb::context().expect("fixtures load");
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    {
        let engine = Engine::open(&data, ctx.clone()).expect("open");
        let cfg = GeneratorConfig {
            companies: COMPANIES,
            needs: 1_000,
            seed: mb::DEFAULT_SEED,
        };
        mb::index_corpus(&engine, &cfg, |_| {}).expect("index");
        engine.save_snapshot().expect("save");
    };
    let file = data.join("snapshot.bin");
    let stamps = persist::commits(&file).expect("snapshot header");
    let size = std::fs::metadata(&file).expect("snapshot").len();
    let mut g = c.benchmark_group("snapshot");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(size));
    {
        let engine = Engine::open(&data, ctx.clone()).expect("open");
        g.bench_function(BenchmarkId::new("save", COMPANIES), |b| {
            b.iter(|| engine.save_snapshot().expect("save"))
        });
    }
    g.bench_function(BenchmarkId::new("load", COMPANIES), |b| {
        let ont = ctx.ontology.fingerprint();
        b.iter(|| black_box(persist::load(&file, stamps, ont).expect("load")))
    });
    g.bench_function(BenchmarkId::new("engine_open", COMPANIES), |b| {
        b.iter(|| black_box(Engine::open(&data, ctx.clone()).expect("open")))
    });
    g.finish();
}

criterion_group!(benches, snapshot);
criterion_main!(benches);
