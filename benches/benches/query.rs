//! Queries on an index of 1,000,000 documents (built once, kept under
//! `target/rmsweep-bench-index-<N>`; `RMSWEEP_BENCH_DOCS` changes N): a term
//! query, a date-range query, and the `templates` aggregation.

use criterion::{criterion_group, criterion_main, Criterion};
use rmsweep_index::{query, reports, RmsIndex};

fn query(c: &mut Criterion) {
    let n: usize = std::env::var("RMSWEEP_BENCH_DOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let idx: RmsIndex = rmsweep_benches::large_index(n);
    let mut g = c.benchmark_group(format!("query_{n}"));
    g.sample_size(20);
    g.bench_function("term_principal_limit100", |b| {
        b.iter(|| query::search(&idx, "principal:user00042@contoso.com", Some(100)).unwrap())
    });
    g.bench_function("term_kind_eul_limit100", |b| {
        b.iter(|| query::search(&idx, "kind:eul", Some(100)).unwrap())
    });
    g.bench_function("date_range_25k_hits_limit100", |b| {
        b.iter(|| {
            query::search(&idx, "valid_until:[* TO 2025-06-01T00:00:00Z]", Some(100)).unwrap()
        })
    });
    g.bench_function("templates_aggregation", |b| {
        b.iter(|| reports::templates(&idx).unwrap())
    });
    g.finish();
}

criterion_group!(benches, query);
criterion_main!(benches);
