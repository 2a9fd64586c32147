//! Plain read into a reused buffer vs memory map, for 4 KB, 64 KB, 1 MB and
//! 16 MB files, on one and two threads. This bench sets the scanner's
//! `MMAP_THRESHOLD`: the mapped variant touches every page (as parsing does),
//! so page-fault cost is counted.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rmsweep_scanner::read::{read_file, ReadOptions};

const TOTAL: usize = 32 * 1024 * 1024;

fn files(dir: &std::path::Path, size: usize) -> Vec<PathBuf> {
    let n = (TOTAL / size).clamp(2, 4096);
    let data: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
    (0..n)
        .map(|i| {
            let p = dir.join(format!("{size}-{i}.drm"));
            std::fs::write(&p, &data).unwrap();
            p
        })
        .collect()
}

fn consume(bytes: &[u8]) -> u64 {
    // Touch one byte per page, as any parser reading the file would.
    bytes.iter().step_by(4096).map(|&b| b as u64).sum::<u64>() + bytes.len() as u64
}

fn read_all(paths: &[PathBuf], opts: &ReadOptions, threads: usize) -> u64 {
    std::thread::scope(|s| {
        let handles: Vec<_> = paths
            .chunks(paths.len().div_ceil(threads))
            .map(|chunk| {
                s.spawn(move || {
                    let mut buf = Vec::new();
                    chunk
                        .iter()
                        .map(|p| {
                            let (_, bytes) = read_file(p, opts, &mut buf).unwrap();
                            consume(&bytes)
                        })
                        .sum::<u64>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    })
}

fn read(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("read");
    g.sample_size(20);
    for size in [4 << 10, 64 << 10, 1 << 20, 16 << 20] {
        let paths = files(dir.path(), size);
        g.throughput(Throughput::Bytes((paths.len() * size) as u64));
        for threads in [1, 2] {
            let plain = ReadOptions {
                mmap_threshold: None,
                ..ReadOptions::default()
            };
            let mapped = ReadOptions {
                mmap_threshold: Some(0),
                ..ReadOptions::default()
            };
            g.bench_with_input(
                BenchmarkId::new(format!("buffer/{threads}t"), size),
                &paths,
                |b, p| b.iter(|| read_all(p, &plain, threads)),
            );
            g.bench_with_input(
                BenchmarkId::new(format!("mmap/{threads}t"), size),
                &paths,
                |b, p| b.iter(|| read_all(p, &mapped, threads)),
            );
        }
    }
    g.finish();
}

criterion_group!(benches, read);
criterion_main!(benches);
