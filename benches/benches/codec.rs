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
//!   against reserving the declared length up front (the codecs' policy
//!   before, and tokio-util's). 64 KiB and 1 MiB frames decoded from a
//!   stream read the way `FramedRead` reads a socket (8 KiB initial buffer,
//!   each read fills the spare room, at most 64 KiB): `header-codec` and
//!   `header-codec-upfront` (the same codec, with the whole declared frame
//!   reserved as soon as its header is buffered, as it did before),
//!   `strict-length` and `ldc-upfront` (tokio-util's
//!   `LengthDelimitedCodec`, which reserves the declared length, as
//!   `StrictLengthCodec` let it before).
//!
//! One iteration handles one stream; throughput is frames and body bytes.

use std::{hint::black_box, time::Duration};

use bytes::{Bytes, BytesMut};
use criterion::{
    measurement::WallTime, BatchSize, BenchmarkGroup, BenchmarkId, Criterion, Throughput,
};
use framecheck_codec::{wire, Frame, Header, HeaderCodec, Limits, StrictLengthCodec};
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
    let mut rbuf = BytesMut::with_capacity(8 * 1024);
    let mut at = 0;
    let mut n = 0;
    for &len in cuts {
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

/// Largest single read in [`decode_reads`], as a socket read of a busy
/// stream would return.
const MAX_READ: usize = 64 * 1024;

/// Feeds `stream` to `codec` the way `FramedRead` reads a socket: an 8 KiB
/// initial buffer, `reserve(1)` before each read, and each read filling the
/// spare room (at most [`MAX_READ`]); decoding after every read.
fn decode_reads<D>(codec: &mut D, stream: &[u8]) -> usize
where
    D: Decoder,
    D::Error: std::fmt::Debug,
{
    let mut rbuf = BytesMut::with_capacity(8 * 1024);
    let mut at = 0;
    let mut n = 0;
    while at < stream.len() {
        rbuf.reserve(1);
        let len = (rbuf.capacity() - rbuf.len())
            .min(MAX_READ)
            .min(stream.len() - at);
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

/// `HeaderCodec` with the reservation policy it had before: the whole
/// declared frame reserved as soon as its header is buffered, so the
/// codec's own growth never has anything left to do. (The header is
/// parsed once more here to learn the length; for 64 KiB bodies that is
/// noise.)
#[derive(Default)]
struct UpFront(HeaderCodec);

impl Decoder for UpFront {
    type Item = Frame;
    type Error = framecheck_codec::CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, Self::Error> {
        if self.0.is_between_frames() {
            if let Some(field) = src.get(..wire::LENGTH_FIELD_LEN) {
                let limits = *self.0.limits();
                let field: [u8; 4] = field.try_into().expect("4 bytes");
                let header_len = wire::decode_header_len(field, &limits)?;
                let end = wire::LENGTH_FIELD_LEN + header_len;
                if let Some(bytes) = src.get(wire::LENGTH_FIELD_LEN..end) {
                    let body_len = wire::body_len(&wire::decode_header(bytes, &limits)?, &limits)?;
                    src.reserve((end + body_len).saturating_sub(src.len()));
                }
            }
        }
        self.0.decode(src)
    }
}

fn growth(c: &mut Criterion) {
    let mut group = c.benchmark_group("codec_growth");
    set_timing(&mut group);
    for size in [64 * 1024, 1024 * 1024] {
        let bodies = bodies(size);
        let frames = bodies.len();
        group.throughput(Throughput::ElementsAndBytes {
            elements: frames as u64,
            bytes: (frames * size) as u64,
        });
        let header = header_stream(&bodies);
        let length = length_stream(&bodies);

        group.bench_function(BenchmarkId::new("header-codec", size), |b| {
            b.iter(|| assert_eq!(decode_reads(&mut HeaderCodec::new(), &header), frames))
        });
        group.bench_function(BenchmarkId::new("header-codec-upfront", size), |b| {
            b.iter(|| assert_eq!(decode_reads(&mut UpFront::default(), &header), frames))
        });
        group.bench_function(BenchmarkId::new("strict-length", size), |b| {
            b.iter(|| {
                let mut codec = StrictLengthCodec::new(usize::MAX >> 1);
                assert_eq!(decode_reads(&mut codec, &length), frames)
            })
        });
        group.bench_function(BenchmarkId::new("ldc-upfront", size), |b| {
            b.iter(|| {
                let mut codec = LengthDelimitedCodec::builder()
                    .max_frame_length(usize::MAX)
                    .new_codec();
                assert_eq!(decode_reads(&mut codec, &length), frames)
            })
        });
    }
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    decode(&mut c);
    encode(&mut c);
    growth(&mut c);
    c.final_summary();
}
