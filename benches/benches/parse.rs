//! Parser throughput (bytes/s) on real store files: the UTF-16LE chains MSIPC
//! writes, a UTF-8 template, and a publishing licence with 40 LCIDs.
//!
//! `warm` shares one chain cache across iterations, as a scan does (the issuer
//! chain is parsed once per distinct document); `cold` starts empty each time.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rmsweep_scanner::parse::{decode, parse_store_file, ChainCache, NameTable};

fn parse(c: &mut Criterion) {
    let inputs = rmsweep_benches::parse_inputs();
    let mut g = c.benchmark_group("parse");
    for (name, bytes) in &inputs {
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        let warm = ChainCache::new();
        g.bench_with_input(BenchmarkId::new("warm", name), bytes, |b, bytes| {
            b.iter(|| parse_store_file(bytes, &warm, None, NameTable::Msipc))
        });
        g.bench_with_input(BenchmarkId::new("cold", name), bytes, |b, bytes| {
            b.iter(|| parse_store_file(bytes, &ChainCache::new(), None, NameTable::Msipc))
        });
    }
    g.finish();
}

fn decode_utf16(c: &mut Criterion) {
    let inputs = rmsweep_benches::parse_inputs();
    let (_, bytes) = inputs
        .iter()
        .find(|(n, _)| n.contains("utf16le_rac"))
        .unwrap();
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("utf16le_to_utf8_30kb", |b| b.iter(|| decode::decode(bytes)));
    g.finish();
}

criterion_group!(benches, parse, decode_utf16);
criterion_main!(benches);
