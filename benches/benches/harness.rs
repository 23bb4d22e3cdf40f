//! The harness itself: round-trip cases per second on 1 KiB and 64 KiB
//! streams (one case alone, and whole property runs with proptest
//! generating the frames and chunkings), fuzz-oracle calls per second, and
//! the cost of counting allocations (framecheck-alloc's tracking allocator,
//! installed in this binary, idle except where a group says so).
//!
//! ```sh
//! cargo bench -p framecheck-benches --bench harness
//! ```
//!
//! Throughput is reported in elements: one element is one case (or one
//! `check_input` call).

use std::{
    hint::black_box,
    time::{Duration, Instant},
};

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use framecheck::{
    alloc::{Tracking, Watch},
    chunk::{chunkings, Chunking},
    fuzz::check_input,
    proptest::{
        collection::vec,
        prelude::*,
        strategy::ValueTree,
        test_runner::{Config, TestRunner},
    },
    roundtrip_case,
    strategies::bodies_of,
    Harness,
};
use framecheck_codec::{Frame, HeaderCodec};
use tokio_util::codec::{Encoder, LengthDelimitedCodec};

// Idle (one thread-local check per allocation) outside a `Watch`.
#[global_allocator]
static ALLOC: Tracking = Tracking::new();

/// 256 chunkings from the harness's own strategy, fixed seed.
fn sample_chunkings() -> Vec<Chunking> {
    let mut runner = TestRunner::deterministic();
    let strategy = chunkings();
    (0..256)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

/// `count` bodies of `len` bytes each.
fn bodies(count: usize, len: usize) -> Vec<Bytes> {
    (0..count)
        .map(|i| Bytes::from(vec![i as u8; len]))
        .collect()
}

fn roundtrip_cases(c: &mut Criterion) {
    let chunkings = sample_chunkings();
    let mut group = c.benchmark_group("harness/roundtrip_case");
    group.throughput(Throughput::Elements(1));
    // 8 frames × (4-byte length + 124-byte body) = 1 KiB.
    let small = bodies(8, 124);
    // 8 frames × (4 + 8188) = 64 KiB.
    let large = bodies(8, 8188);
    for (name, frames) in [("1KiB", &small), ("64KiB", &large)] {
        group.bench_function(format!("length_delimited/{name}"), |b| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % chunkings.len();
                roundtrip_case(LengthDelimitedCodec::new, black_box(frames), &chunkings[i])
                    .unwrap();
            });
        });
    }
    // HeaderCodec: 8 frames of a 14-byte JSON header + 4-byte length +
    // 110-byte body = 1 KiB.
    let header_frames: Vec<Frame> = bodies(8, 110).into_iter().map(Frame::new).collect();
    group.bench_function("header_codec/1KiB", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % chunkings.len();
            roundtrip_case(HeaderCodec::new, black_box(&header_frames), &chunkings[i]).unwrap();
        });
    });
    group.finish();
}

fn property_runs(c: &mut Criterion) {
    const CASES: u32 = 256;
    let mut group = c.benchmark_group("harness/check_roundtrip");
    group.throughput(Throughput::Elements(u64::from(CASES)));
    group.sample_size(20);
    // Frames from proptest: 1 to 8 bodies of 64 to 191 bytes, about
    // 1 KiB a case; the bodies' bytes from a per-body seed.
    let frames_1k = vec(bodies_of(64usize..192), 1..=8);
    group.bench_function("length_delimited/1KiB", |b| {
        let mut seed = 0;
        b.iter(|| {
            seed += 1;
            Harness::new()
                .cases(CASES)
                .seed(seed)
                .check_roundtrip(LengthDelimitedCodec::new, frames_1k.clone())
                .unwrap();
        });
    });
    // The same with a strategy per byte (`vec(any::<u8>(), ..)`), as a user
    // may write it: proptest's generation then dominates.
    let frames_1k_bytewise = vec(vec(any::<u8>(), 64..192).prop_map(Bytes::from), 1..=8);
    group.bench_function("length_delimited/1KiB_bytewise_strategy", |b| {
        let mut seed = 0;
        b.iter(|| {
            seed += 1;
            Harness::new()
                .cases(CASES)
                .seed(seed)
                .check_roundtrip(LengthDelimitedCodec::new, frames_1k_bytewise.clone())
                .unwrap();
        });
    });
    // 64 KiB streams: eight bodies of about 8 KiB.
    let frames_64k = vec(bodies_of(7000usize..9000), 8);
    group.bench_function("length_delimited/64KiB", |b| {
        let mut seed = 0;
        b.iter(|| {
            seed += 1;
            Harness::new()
                .cases(CASES)
                .seed(seed)
                .check_roundtrip(LengthDelimitedCodec::new, frames_64k.clone())
                .unwrap();
        });
    });
    group.finish();
}

fn fuzz_oracle(c: &mut Criterion) {
    // Inputs as a fuzzer would send them: a chunking spec then about 1 KiB
    // of header-prefixed frames, some cut short or damaged.
    let mut runner = TestRunner::new(Config::default());
    let spec = vec(any::<u8>(), 0..16);
    let inputs: Vec<Vec<u8>> = (0..256)
        .map(|i| {
            let spec = spec.new_tree(&mut runner).unwrap().current();
            let mut stream = BytesMut::new();
            for frame in bodies(8, 100).into_iter().map(Frame::new) {
                HeaderCodec::new().encode(frame, &mut stream).unwrap();
            }
            let mut data = vec![spec.len() as u8];
            data.extend(spec);
            data.extend_from_slice(&stream[..stream.len() - (i % 7) * 13]);
            if i.is_multiple_of(5) {
                let at = data.len() / 2;
                data[at] ^= 0x5a;
            }
            data
        })
        .collect();
    let mut group = c.benchmark_group("harness/check_decoder");
    group.throughput(Throughput::Elements(1));
    group.bench_function("header_codec/1KiB", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % inputs.len();
            check_input(HeaderCodec::new, black_box(&inputs[i])).unwrap();
        });
    });
    group.bench_function("length_delimited/1KiB", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % inputs.len();
            check_input(LengthDelimitedCodec::new, black_box(&inputs[i])).unwrap();
        });
    });
    group.finish();
}

/// The round-trip property with the tracking allocator idle and with every
/// allocation counted (inside a `Watch`), and the allocation property
/// itself on the same frames.
///
/// Separate functions run at different moments, and on a shared machine
/// the load between them varies more than tracking costs; so
/// `check_roundtrip/interleaved` runs the same 256 cases (same seed)
/// untracked then tracked in every iteration and prints the ratio of the
/// two halves' times at the end of the group.
fn alloc_tracking(c: &mut Criterion) {
    const CASES: u32 = 256;
    let mut group = c.benchmark_group("harness/alloc_tracking");
    group.throughput(Throughput::Elements(u64::from(CASES)));
    group.sample_size(20);
    let frames_1k = vec(bodies_of(64usize..192), 1..=8);
    let run = |seed: u64| {
        Harness::new()
            .cases(CASES)
            .seed(seed)
            .check_roundtrip(LengthDelimitedCodec::new, frames_1k.clone())
            .unwrap();
    };
    let tracked = |seed: u64| {
        let watch = Watch::start();
        run(seed);
        black_box(watch.finish());
    };
    group.bench_function("check_roundtrip/untracked", |b| {
        let mut seed = 0;
        b.iter(|| {
            seed += 1;
            run(seed);
        });
    });
    group.bench_function("check_roundtrip/tracked", |b| {
        let mut seed = 0;
        b.iter(|| {
            seed += 1;
            tracked(seed);
        });
    });
    let mut halves = [Duration::ZERO; 2];
    group.throughput(Throughput::Elements(2 * u64::from(CASES)));
    group.bench_function("check_roundtrip/interleaved", |b| {
        let mut seed = 0;
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                seed += 1;
                let start = Instant::now();
                run(seed);
                let middle = Instant::now();
                tracked(seed);
                let end = Instant::now();
                halves[0] += middle - start;
                halves[1] += end - middle;
                total += end - start;
            }
            total
        });
    });
    println!(
        "harness/alloc_tracking: interleaved, same seeds: tracked / untracked time = {:.3} \
         ({:?} untracked, {:?} tracked in all)",
        halves[1].as_secs_f64() / halves[0].as_secs_f64().max(f64::MIN_POSITIVE),
        halves[0],
        halves[1]
    );
    group.throughput(Throughput::Elements(u64::from(CASES)));
    // The default 8 MiB frame limit is reserved as soon as a head claims
    // it, over the property's default bound: a smaller limit.
    let limited = || {
        LengthDelimitedCodec::builder()
            .max_frame_length(256 * 1024)
            .new_codec()
    };
    group.bench_function("check_alloc_bound/1KiB", |b| {
        let mut seed = 0;
        b.iter(|| {
            seed += 1;
            Harness::new()
                .cases(CASES)
                .seed(seed)
                .check_alloc_bound(limited, frames_1k.clone())
                .unwrap();
        });
    });
    group.finish();
}

criterion_group!(
    benches,
    roundtrip_cases,
    property_runs,
    fuzz_oracle,
    alloc_tracking
);
criterion_main!(benches);
