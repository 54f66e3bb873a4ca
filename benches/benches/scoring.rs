//! The hot scoring loop: rescoring K candidates for one need, on one thread
//! and on the rayon pool, and the signals on their own.
//!
//! `cargo bench -p matcher-benches --bench scoring`
//!
//! - `rescore/1_thread/K`, `rescore/rayon/K` (K = 0, 100, 1,000, 10,000):
//!   `Matcher::rescore_slots` on the first K company slots of a 10k-company
//!   in-memory engine. K = 0 is the per-need fixed cost (analysis of the
//!   need, concepts, owner lookup) that every K includes. `1_thread` runs
//!   inside a 1-thread rayon pool (`ThreadPoolBuilder::install`).
//! - `signals/{jsic,geography,equipment,concepts}`: each signal over the
//!   same 10,000 company features (throughput in candidates).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use matcher_benches as mb;
use matcher_core::analysis::normalize_key;
use matcher_core::index::records::CompanyFeatures;
use matcher_core::matching::signals;
use matcher_core::model::Need;

const COMPANIES: usize = 10_000;

/// A need for which every signal applies: an owner (origin, JSIC), equipment and text.
fn rich_need(needs: &[Need]) -> &Need {
    needs
        .iter()
        .find(|n| n.company_id.is_some() && !n.equipment.is_empty())
        .or_else(|| needs.iter().find(|n| !n.equipment.is_empty()))
        .unwrap_or(&needs[0])
}

fn rescore(c: &mut Criterion) {
    let ctx = mb::context().expect("fixtures load");
    let (engine, needs) = mb::memory_engine(ctx, COMPANIES, 200).expect("index");
    let need = rich_need(&needs).clone();
    let matcher = engine.matcher();
    let slots = matcher.company_slots();
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("1-thread pool");
    let mut g = c.benchmark_group("rescore");
    g.sample_size(20);
    for k in [0usize, 100, 1_000, 10_000] {
        let s = &slots[..k.min(slots.len())];
        g.throughput(Throughput::Elements(k.max(1) as u64));
        g.bench_with_input(BenchmarkId::new("1_thread", k), s, |b, s| {
            one.install(|| b.iter(|| black_box(matcher.rescore_slots(&need, black_box(s)))))
        });
        g.bench_with_input(BenchmarkId::new("rayon", k), s, |b, s| {
            b.iter(|| black_box(matcher.rescore_slots(&need, black_box(s))))
        });
    }
    g.finish();
}

fn signal_benches(c: &mut Criterion) {
    let ctx = mb::context().expect("fixtures load");
    // The signals with the default configuration, as an engine matches.
    let config = matcher_core::MatchConfig::default();
    let cfg = matcher_core::generator::GeneratorConfig {
        companies: COMPANIES,
        needs: 200,
        seed: mb::DEFAULT_SEED,
    };
    let (companies, needs) = matcher_core::generator::generate(&cfg, &ctx.taxonomy);
    let feats: Vec<CompanyFeatures> = companies
        .iter()
        .map(|c| CompanyFeatures::new(c, &ctx.taxonomy, &ctx.ontology))
        .collect();
    let need = rich_need(&needs);
    let owner = need
        .company_id
        .as_ref()
        .and_then(|id| companies.iter().position(|c| &c.id == id))
        .map(|i| &feats[i])
        .unwrap_or(&feats[0]);
    let wanted_jsic = if need.industry_codes.is_empty() {
        owner.jsic.clone()
    } else {
        need.industry_codes.clone()
    };
    let origin = owner
        .location
        .expect("generated companies have a location or an office");
    let wanted_eq: Vec<String> = need.equipment.iter().map(|e| normalize_key(e)).collect();
    let need_concepts = ctx.ontology.need_concepts(need);
    let tax = &ctx.taxonomy;

    let mut g = c.benchmark_group("signals");
    g.sample_size(30);
    g.throughput(Throughput::Elements(feats.len() as u64));
    // The closure the engine passes (allocates a String per lookup).
    g.bench_function("jsic", |b| {
        b.iter(|| {
            feats
                .iter()
                .map(|f| {
                    signals::jsic_proximity(&wanted_jsic, &f.jsic, |c| {
                        tax.section_of(c).and_then(|s| s.bytes().next())
                    })
                })
                .sum::<f32>()
        })
    });
    g.bench_function("geography", |b| {
        b.iter(|| {
            feats
                .iter()
                .map(|f| {
                    signals::geography(&config.geography, origin, Some(owner.municipality), f).0
                })
                .sum::<f32>()
        })
    });
    g.bench_function("equipment", |b| {
        b.iter(|| {
            feats
                .iter()
                .map(|f| signals::equipment_match(&wanted_eq, &f.equipment).0)
                .sum::<f32>()
        })
    });
    g.bench_function("concepts", |b| {
        b.iter(|| {
            feats
                .iter()
                .map(|f| {
                    signals::concept_similarity(
                        &ctx.ontology,
                        &config.relations,
                        &config.requirements,
                        &need_concepts,
                        &f.concepts,
                    )
                    .0
                })
                .sum::<f32>()
        })
    });
    g.finish();
}

criterion_group!(benches, rescore, signal_benches);
criterion_main!(benches);
