//! Analyzer throughput next to raw lindera segmentation on the same text.
//!
//! `cargo bench -p matcher-benches --bench analyzer`
//!
//! - `analyzer/corpus/{analyze,lindera_raw}`: every capability of
//!   `fixtures/companies_*.jsonl` concatenated (one text, ~190 KB).
//! - `analyzer/2k/{prose,no_punctuation,business_lines}/{analyze,lindera_raw}`:
//!   2 KB of ordinary profile prose, the same prose with all punctuation and
//!   spaces removed, and JSIC business-line names run together.
//!
//! Throughput is in bytes (criterion prints MB/s); tokens/s is printed once
//! per text on stderr (tokens per call × calls/s from the same run).

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use matcher_benches as mb;
use matcher_core::fixtures::fixtures_dir;

fn tokens_per_second(label: &str, tokens: usize, f: impl Fn() -> usize) {
    let t = Instant::now();
    let mut n = 0;
    let mut calls = 0u32;
    while t.elapsed().as_millis() < 300 {
        n += f();
        calls += 1;
    }
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "{label}: {tokens} tokens/call, {:.0} tokens/s ({calls} calls in {secs:.2}s)",
        n as f64 / secs
    );
}

fn analyzer(c: &mut Criterion) {
    let ctx = mb::context().expect("fixtures load");
    let a = &ctx.analyzer;
    let dir = fixtures_dir();
    let corpus = mb::fixture_capabilities(&dir).expect("fixture capabilities");
    let texts = [
        ("corpus", corpus.clone()),
        ("2k/prose", mb::prose_2k(&corpus)),
        ("2k/no_punctuation", mb::no_punctuation_2k(&corpus)),
        (
            "2k/business_lines",
            mb::business_lines_2k(&dir).expect("jsic.tsv"),
        ),
    ];
    let mut g = c.benchmark_group("analyzer");
    for (name, text) in &texts {
        let terms = a.analyze(text).len();
        let raw = a.segment_raw(text);
        tokens_per_second(&format!("analyzer/{name}/analyze"), terms, || {
            a.analyze(text).len()
        });
        tokens_per_second(&format!("analyzer/{name}/lindera_raw"), raw, || {
            a.segment_raw(text)
        });
        g.throughput(Throughput::Bytes(text.len() as u64));
        if *name == "corpus" {
            g.sample_size(10);
        } else {
            g.sample_size(30);
        }
        g.bench_with_input(BenchmarkId::new(*name, "analyze"), text, |b, t| {
            b.iter(|| black_box(a.analyze(black_box(t))))
        });
        g.bench_with_input(BenchmarkId::new(*name, "lindera_raw"), text, |b, t| {
            b.iter(|| black_box(a.segment_raw(black_box(t))))
        });
    }
    g.finish();
}

criterion_group!(benches, analyzer);
criterion_main!(benches);
