//! Plain read into a reused buffer vs memory map, for 4 KB, 64 KB, 1 MB and
//! 16 MB files, on one and two threads. This bench sets the scanner's
//! `MMAP_THRESHOLD`: the mapped variant touches every page (as parsing does),
//! so page-fault cost is counted. The scanner maps only from read-only
//! mounts; the bench maps its own temporary files directly (nothing
//! truncates them), opened the same way.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rmsweep_scanner::volume::host::{map, open_evidence, read_file};
use rmsweep_scanner::volume::ReadOptions;

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

/// How a bench reads a file: into the buffer, or mapped.
#[derive(Clone, Copy)]
enum How {
    Buffer,
    Mapped,
}

fn read_one(p: &std::path::Path, how: How, buf: &mut Vec<u8>) -> u64 {
    match how {
        How::Buffer => {
            let opts = ReadOptions {
                mmap_threshold: None,
                ..ReadOptions::default()
            };
            let (_, bytes) = read_file(p, &opts, buf).unwrap();
            consume(&bytes)
        }
        How::Mapped => {
            let file = open_evidence(p).unwrap();
            let len = file.metadata().unwrap().len();
            // SAFETY: the bench's own temporary files; nothing truncates them.
            let map = unsafe { map(&file, len) }.unwrap();
            consume(&map)
        }
    }
}

fn read_all(paths: &[PathBuf], how: How, threads: usize) -> u64 {
    std::thread::scope(|s| {
        let handles: Vec<_> = paths
            .chunks(paths.len().div_ceil(threads))
            .map(|chunk| {
                s.spawn(move || {
                    let mut buf = Vec::new();
                    chunk
                        .iter()
                        .map(|p| read_one(p, how, &mut buf))
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
            g.bench_with_input(
                BenchmarkId::new(format!("buffer/{threads}t"), size),
                &paths,
                |b, p| b.iter(|| read_all(p, How::Buffer, threads)),
            );
            g.bench_with_input(
                BenchmarkId::new(format!("mmap/{threads}t"), size),
                &paths,
                |b, p| b.iter(|| read_all(p, How::Mapped, threads)),
            );
        }
    }
    g.finish();
}

criterion_group!(benches, read);
criterion_main!(benches);
