//! Documents per second into tantivy through rmsweep's writer session, with
//! one and two indexing threads.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rmsweep_index::{IndexSession, RmsIndex};

fn index(c: &mut Criterion) {
    let records = rmsweep_benches::synthetic_records(20_000);
    let mut g = c.benchmark_group("index");
    g.sample_size(10);
    g.throughput(Throughput::Elements(records.len() as u64));
    for threads in [1, 2] {
        g.bench_with_input(
            BenchmarkId::new("docs", format!("{threads}t")),
            &records,
            |b, records| {
                b.iter(|| {
                    let dir = tempfile::tempdir().unwrap();
                    let idx = RmsIndex::open_or_create(&dir.path().join("idx")).unwrap();
                    let mut session = IndexSession::start(
                        &idx,
                        threads,
                        rmsweep_index::history::Run::new("bench", vec![], None),
                    )
                    .unwrap();
                    for r in records {
                        session.upsert(r).unwrap();
                    }
                    session.finish().unwrap()
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, index);
criterion_main!(benches);
