//! The codec in memory: `HeaderCodec` against tokio-util's
//! `LengthDelimitedCodec`, with `memcpy` of the same bodies as the ceiling.
//!
//! - `codec_decode`: a buffer holding a stream of frames (16 B, 256 B,
//!   1 KiB, 64 KiB bodies; minimal header `{"data_size":N}`), decoded
//!   `whole` (one buffer) and `chunked` (appended 1–64 bytes at a time,
//!   seeded, decoding after each append as `FramedRead` would).
//! - `codec_encode`: the same frames encoded into a reused buffer; plus
//!   `header-prefix`, the prefix alone, which is all `Conn` copies for a
//!   large body (the body goes out in a vectored write).
//! - `codec_growth`: what growing the buffer with the bytes received costs
//!   against reserving each declared length up front. 1 KiB, 64 KiB and
//!   1 MiB frames decoded from a stream read as `FramedRead` reads a socket
//!   (8 KiB initial buffer, `reserve(1)` before each read, each read
//!   filling the spare room): `8k-reads` (a socket returning at most 8 KiB
//!   a read), `64k-reads` (a busy one), and `one-read` (the whole stream in
//!   one read). `header-codec RULE READS` and `strict-length RULE READS`
//!   run the same decode path with each growth rule
//!   (`HeaderCodec::with_growth`, `StrictLengthCodec::with_growth`):
//!   `received`, the codecs' rule, and `claimed`, each declared length
//!   reserved as soon as it is known, as both codecs did before growing
//!   with the bytes received. `ldc READS` is tokio-util's
//!   `LengthDelimitedCodec`, which reserves the claim too. A fresh codec
//!   and read buffer per stream: each iteration is one connection. With
//!   `FRAMECHECK_BENCH_PAIRED=1`, `received` is also measured side by side
//!   with `claimed` (alternating rounds; see `paired_growth`), which a
//!   loaded machine upsets far less than back-to-back criterion runs.
//!
//! One iteration handles one stream; throughput is frames and body bytes.

use std::{
    hint::black_box,
    time::{Duration, Instant},
};

use bytes::{Bytes, BytesMut};
use criterion::{
    measurement::WallTime, BatchSize, BenchmarkGroup, BenchmarkId, Criterion, Throughput,
};
use framecheck_benches::{latency, paired};
use framecheck_codec::{wire, Frame, Growth, Header, HeaderCodec, Limits, StrictLengthCodec};
use rand::{rngs::StdRng, Rng, RngCore, SeedableRng};
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};

const SIZES: [usize; 4] = [16, 256, 1024, 64 * 1024];

fn quick() -> bool {
    std::env::var_os("FRAMECHECK_BENCH_QUICK").is_some_and(|v| v != "0" && !v.is_empty())
}

fn set_timing(group: &mut BenchmarkGroup<'_, WallTime>) {
    let (warm, measure, samples) = if quick() {
        (0.3, 1.0, 30)
    } else {
        (1.0, 3.0, 60)
    };
    group
        .warm_up_time(Duration::from_secs_f64(warm))
        .measurement_time(Duration::from_secs_f64(measure))
        .sample_size(samples);
}

/// Frames per stream: about 256 KiB of bodies, at least 16 frames.
fn frames_per_stream(size: usize) -> usize {
    (256 * 1024 / size).clamp(16, 4096)
}

/// The seeded bodies of one stream.
fn bodies(size: usize) -> Vec<Bytes> {
    let mut rng = StdRng::seed_from_u64(0xC0DE_0000 + size as u64);
    (0..frames_per_stream(size))
        .map(|_| {
            let mut v = vec![0u8; size];
            rng.fill_bytes(&mut v);
            Bytes::from(v)
        })
        .collect()
}

fn header_stream(bodies: &[Bytes]) -> Bytes {
    let mut codec = HeaderCodec::new();
    let mut buf = BytesMut::new();
    for b in bodies {
        codec
            .encode(Frame::new(b.clone()), &mut buf)
            .expect("encode");
    }
    buf.freeze()
}

fn length_stream(bodies: &[Bytes]) -> Bytes {
    let mut codec = LengthDelimitedCodec::builder()
        .max_frame_length(usize::MAX)
        .new_codec();
    let mut buf = BytesMut::new();
    for b in bodies {
        codec.encode(b.clone(), &mut buf).expect("encode");
    }
    buf.freeze()
}

/// Seeded read sizes of 1–64 bytes covering `len` bytes.
fn cuts(len: usize) -> Vec<usize> {
    let mut rng = StdRng::seed_from_u64(0xC075);
    let mut out = Vec::new();
    let mut left = len;
    while left > 0 {
        let n = rng.random_range(1..=64).min(left);
        out.push(n);
        left -= n;
    }
    out
}

/// Decodes every frame in `buf`, returning how many; panics on an error or
/// a leftover, so a broken codec cannot look fast.
fn decode_whole<D>(codec: &mut D, buf: &mut BytesMut) -> usize
where
    D: Decoder,
    D::Error: std::fmt::Debug,
{
    let mut n = 0;
    while let Some(frame) = codec.decode(buf).expect("decode") {
        black_box(frame);
        n += 1;
    }
    assert!(buf.is_empty(), "{} bytes left over", buf.len());
    n
}

/// Feeds `stream` in `cuts`-sized appends to a read buffer, decoding after
/// each, as `FramedRead` does with short reads.
fn decode_chunked<D>(codec: &mut D, stream: &[u8], cuts: &[usize]) -> usize
where
    D: Decoder,
    D::Error: std::fmt::Debug,
{
    let mut cuts = cuts.iter().copied();
    feed(codec, stream, |_| cuts.next().unwrap_or(usize::MAX))
}

/// Appends `stream` to a read buffer `next(&buffer)` bytes at a time (at
/// most what is left), decoding after every append, as `FramedRead` does;
/// panics on an error or a leftover at the end.
fn feed<D>(codec: &mut D, stream: &[u8], mut next: impl FnMut(&mut BytesMut) -> usize) -> usize
where
    D: Decoder,
    D::Error: std::fmt::Debug,
{
    let mut rbuf = BytesMut::with_capacity(8 * 1024);
    let mut at = 0;
    let mut n = 0;
    while at < stream.len() {
        let len = next(&mut rbuf).min(stream.len() - at);
        rbuf.extend_from_slice(&stream[at..at + len]);
        at += len;
        while let Some(frame) = codec.decode(&mut rbuf).expect("decode") {
            black_box(frame);
            n += 1;
        }
    }
    assert!(codec.decode_eof(&mut rbuf).expect("decode_eof").is_none());
    n
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("codec_decode");
    set_timing(&mut group);
    for size in SIZES {
        let bodies = bodies(size);
        let frames = bodies.len();
        group.throughput(Throughput::ElementsAndBytes {
            elements: frames as u64,
            bytes: (frames * size) as u64,
        });
        let header = header_stream(&bodies);
        let length = length_stream(&bodies);
        let header_cuts = cuts(header.len());
        let length_cuts = cuts(length.len());

        group.bench_function(BenchmarkId::new("header-codec-whole", size), |b| {
            b.iter_batched(
                || BytesMut::from(&header[..]),
                |mut buf| {
                    let n = decode_whole(&mut HeaderCodec::new(), &mut buf);
                    assert_eq!(n, frames);
                    buf
                },
                BatchSize::LargeInput,
            )
        });
        group.bench_function(BenchmarkId::new("ldc-whole", size), |b| {
            b.iter_batched(
                || BytesMut::from(&length[..]),
                |mut buf| {
                    let mut codec = LengthDelimitedCodec::builder()
                        .max_frame_length(usize::MAX)
                        .new_codec();
                    let n = decode_whole(&mut codec, &mut buf);
                    assert_eq!(n, frames);
                    buf
                },
                BatchSize::LargeInput,
            )
        });
        group.bench_function(BenchmarkId::new("header-codec-chunked", size), |b| {
            b.iter(|| {
                let n = decode_chunked(&mut HeaderCodec::new(), &header, &header_cuts);
                assert_eq!(n, frames);
            })
        });
        group.bench_function(BenchmarkId::new("ldc-chunked", size), |b| {
            b.iter(|| {
                let mut codec = LengthDelimitedCodec::builder()
                    .max_frame_length(usize::MAX)
                    .new_codec();
                let n = decode_chunked(&mut codec, &length, &length_cuts);
                assert_eq!(n, frames);
            })
        });
        let flat: Vec<u8> = bodies.iter().flat_map(|b| b.iter().copied()).collect();
        let mut dst = vec![0u8; flat.len()];
        group.bench_function(BenchmarkId::new("memcpy", size), |b| {
            b.iter(|| {
                dst.copy_from_slice(black_box(&flat));
                black_box(&mut dst);
            })
        });
    }
    group.finish();
}

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("codec_encode");
    set_timing(&mut group);
    for size in SIZES {
        let bodies = bodies(size);
        let frames = bodies.len();
        group.throughput(Throughput::ElementsAndBytes {
            elements: frames as u64,
            bytes: (frames * size) as u64,
        });
        let mut dst = BytesMut::with_capacity(header_stream(&bodies).len());

        group.bench_function(BenchmarkId::new("header-codec", size), |b| {
            let mut codec = HeaderCodec::new();
            b.iter(|| {
                dst.clear();
                for body in &bodies {
                    codec
                        .encode(Frame::new(body.clone()), &mut dst)
                        .expect("encode");
                }
                black_box(&mut dst);
            })
        });
        group.bench_function(BenchmarkId::new("header-prefix", size), |b| {
            let limits = Limits::default();
            b.iter(|| {
                dst.clear();
                for body in &bodies {
                    let header = Header::new(body.len() as u64);
                    wire::encode_prefix(&header, body.len(), &limits, &mut dst).expect("encode");
                }
                black_box(&mut dst);
            })
        });
        group.bench_function(BenchmarkId::new("ldc", size), |b| {
            let mut codec = LengthDelimitedCodec::builder()
                .max_frame_length(usize::MAX)
                .new_codec();
            b.iter(|| {
                dst.clear();
                for body in &bodies {
                    codec.encode(body.clone(), &mut dst).expect("encode");
                }
                black_box(&mut dst);
            })
        });
    }
    group.finish();
}

/// How the bytes of a stream reach the read buffer in `codec_growth`.
#[derive(Clone, Copy)]
enum Reads {
    /// `FramedRead` on a socket: an 8 KiB initial buffer, `reserve(1)`
    /// before each read, each read filling the spare room but returning at
    /// most this many bytes.
    Socket(usize),
    /// The whole stream in one read, then decoded frame after frame.
    One,
}

impl Reads {
    const ALL: [(&'static str, Reads); 3] = [
        ("8k-reads", Reads::Socket(8 * 1024)),
        ("64k-reads", Reads::Socket(64 * 1024)),
        ("one-read", Reads::One),
    ];
}

/// Feeds `stream` to `codec` read by read as `reads` says, decoding after
/// every read; panics on an error or a leftover.
fn decode_reads<D>(codec: &mut D, stream: &[u8], reads: Reads) -> usize
where
    D: Decoder,
    D::Error: std::fmt::Debug,
{
    feed(codec, stream, |rbuf| match reads {
        Reads::Socket(max) => {
            rbuf.reserve(1);
            (rbuf.capacity() - rbuf.len()).min(max)
        }
        Reads::One => usize::MAX,
    })
}

fn growth(c: &mut Criterion) {
    let mut group = c.benchmark_group("codec_growth");
    set_timing(&mut group);
    let rules = [("received", Growth::Received), ("claimed", Growth::Claimed)];
    for size in [1024, 64 * 1024, 1024 * 1024] {
        let bodies = bodies(size);
        let frames = bodies.len();
        group.throughput(Throughput::ElementsAndBytes {
            elements: frames as u64,
            bytes: (frames * size) as u64,
        });
        let header = header_stream(&bodies);
        let length = length_stream(&bodies);
        for (read_name, reads) in Reads::ALL {
            for (rule_name, rule) in rules {
                let id = BenchmarkId::new(format!("header-codec {rule_name} {read_name}"), size);
                group.bench_function(id, |b| {
                    b.iter(|| {
                        let mut codec = HeaderCodec::new().with_growth(rule);
                        assert_eq!(decode_reads(&mut codec, &header, reads), frames)
                    })
                });
            }
            for (rule_name, rule) in rules {
                let id = BenchmarkId::new(format!("strict-length {rule_name} {read_name}"), size);
                group.bench_function(id, |b| {
                    b.iter(|| {
                        let mut codec = StrictLengthCodec::new(usize::MAX >> 1).with_growth(rule);
                        assert_eq!(decode_reads(&mut codec, &length, reads), frames)
                    })
                });
            }
            let id = BenchmarkId::new(format!("ldc {read_name}"), size);
            group.bench_function(id, |b| {
                b.iter(|| {
                    let mut codec = LengthDelimitedCodec::builder()
                        .max_frame_length(usize::MAX)
                        .new_codec();
                    assert_eq!(decode_reads(&mut codec, &length, reads), frames)
                })
            });
        }
    }
    group.finish();
}

/// One `codec_growth` case, run `n` times: a fresh codec per stream.
#[derive(Clone, Copy)]
struct GrowthCase<'a> {
    codec: &'static str,
    rule: Growth,
    stream: &'a [u8],
    frames: usize,
    reads: Reads,
}

impl GrowthCase<'_> {
    fn run(&self, n: u64) -> Duration {
        let start = Instant::now();
        for _ in 0..n {
            let got = if self.codec == "header-codec" {
                let mut codec = HeaderCodec::new().with_growth(self.rule);
                decode_reads(&mut codec, self.stream, self.reads)
            } else {
                let mut codec = StrictLengthCodec::new(usize::MAX >> 1).with_growth(self.rule);
                decode_reads(&mut codec, self.stream, self.reads)
            };
            assert_eq!(got, self.frames);
        }
        start.elapsed()
    }
}

/// `codec_growth` side by side (`FRAMECHECK_BENCH_PAIRED=1`): for each
/// codec, read pattern and size, `received` against `claimed`, alternating
/// for several rounds of a fixed amount of work; the median per-round
/// ratio with its range goes to `target/framecheck-bench/ratios.json`
/// (rate of `received` over rate of `claimed`) and, as time over
/// `claimed`'s time, to stderr.
fn paired_growth() {
    let rounds = if quick() { 5 } else { 11 };
    let slice = Duration::from_millis(if quick() { 100 } else { 250 });
    let mut out = paired::RatioFile::new();
    for size in [1024, 64 * 1024, 1024 * 1024] {
        let bodies = bodies(size);
        let header = header_stream(&bodies);
        let length = length_stream(&bodies);
        for (codec, stream) in [("header-codec", &header), ("strict-length", &length)] {
            for (read_name, reads) in Reads::ALL {
                let case = |rule| GrowthCase {
                    codec,
                    rule,
                    stream,
                    frames: bodies.len(),
                    reads,
                };
                let claimed = case(Growth::Claimed);
                let once = claimed.run(1).max(Duration::from_micros(1));
                let n = (slice.as_secs_f64() / once.as_secs_f64()).clamp(1.0, 1e6) as u64;
                let received = case(Growth::Received);
                let mut ratios = Vec::with_capacity(rounds);
                for round in 0..rounds {
                    // Alternate which side goes first.
                    let (ta, tb) = if round % 2 == 0 {
                        let ta = received.run(n);
                        (ta, claimed.run(n))
                    } else {
                        let tb = claimed.run(n);
                        (received.run(n), tb)
                    };
                    ratios.push(tb.as_secs_f64() / ta.as_secs_f64());
                }
                let s = paired::RatioSummary::of(&mut ratios).expect("rounds > 0");
                eprintln!(
                    "codec_growth {codec} {read_name} {size}: received / claimed time \
                     {:.3} (range {:.3}-{:.3}, {rounds} rounds of {n})",
                    1.0 / s.median,
                    1.0 / s.max,
                    1.0 / s.min,
                );
                let a_id = format!("{codec} received {read_name}");
                let b_id = format!("{codec} claimed {read_name}");
                out.insert(paired::key("codec_growth", &a_id, &b_id, size as u64), s);
            }
        }
    }
    let path = paired::default_path();
    latency::merge_and_save(&path, out)
        .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    eprintln!("side-by-side ratios written to {}", path.display());
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    decode(&mut c);
    encode(&mut c);
    growth(&mut c);
    c.final_summary();
    if std::env::var_os("FRAMECHECK_BENCH_PAIRED").is_some_and(|v| v == "1") {
        paired_growth();
    }
}
