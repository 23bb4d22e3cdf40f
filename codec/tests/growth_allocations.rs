//! What growing with the bytes received costs in allocations, counted by
//! the tracking allocator: a 64 KiB frame read as `FramedRead` reads a
//! socket takes a handful of allocations by the decoder, the last one the
//! frame's size exactly (not the next doubling); once a connection has sent
//! a frame of some size, the next ones up to that size take none while the
//! caller drops each frame before decoding the next (the steady state),
//! and one each, of the frame's size, while it keeps them all. Small
//! frames never make the decoder allocate a buffer: the 8 KiB read buffer
//! is reused.

use bytes::{Bytes, BytesMut};
use framecheck_alloc::{installed, Tracking, Watch};
use framecheck_codec::{Frame, HeaderCodec, StrictLengthCodec};
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};

#[global_allocator]
static ALLOC: Tracking = Tracking::new();

const BODY: usize = 64 * 1024;
const FRAMES: usize = 16;

/// `{"data_size":65536}` behind its 4-byte length field.
const HEADER_PREFIX: usize = 4 + 19;

fn header_stream(body: usize, frames: usize) -> Vec<u8> {
    let mut codec = HeaderCodec::new();
    let mut buf = BytesMut::new();
    for i in 0..frames {
        let body = Bytes::from(vec![i as u8; body]);
        codec.encode(Frame::new(body), &mut buf).unwrap();
    }
    buf.to_vec()
}

fn length_stream(body: usize, frames: usize) -> Vec<u8> {
    let mut codec = LengthDelimitedCodec::new();
    let mut buf = BytesMut::new();
    for i in 0..frames {
        codec
            .encode(Bytes::from(vec![i as u8; body]), &mut buf)
            .unwrap();
    }
    buf.to_vec()
}

/// The decoder's allocations for each frame (those it made while the frame
/// was under way and when it came out), and the largest single one.
#[derive(Debug, Default)]
struct Counts {
    per_frame: Vec<u64>,
    largest: Vec<usize>,
}

/// Feeds `stream` as `FramedRead` does (8 KiB initial buffer, `reserve(1)`
/// before each read, each read filling the spare room with at most
/// `max_read` bytes), counting only the allocations made inside `decode`.
/// `keep` keeps every frame alive to the end, as a caller that queues them
/// would; otherwise each is dropped before the next decode.
fn count<D: Decoder>(
    mut codec: D,
    stream: &[u8],
    frames: usize,
    max_read: usize,
    keep: bool,
) -> Counts
where
    D::Error: std::fmt::Debug,
{
    assert!(installed(), "the tracking allocator counts");
    let mut counts = Counts::default();
    let mut kept = Vec::new();
    let mut buf = BytesMut::with_capacity(8 * 1024);
    let mut at = 0;
    let mut watch = Watch::start();
    while at < stream.len() {
        watch.paused(|| {
            buf.reserve(1);
            let n = (buf.capacity() - buf.len())
                .min(max_read)
                .min(stream.len() - at);
            buf.extend_from_slice(&stream[at..at + n]);
            at += n;
        });
        while let Some(frame) = codec.decode(&mut buf).unwrap() {
            let stats = watch.finish();
            counts.per_frame.push(stats.allocations);
            counts.largest.push(stats.largest);
            if keep {
                kept.push(frame);
            } else {
                drop(frame);
            }
            watch = Watch::start();
        }
    }
    assert!(codec.decode_eof(&mut buf).unwrap().is_none());
    assert_eq!(counts.per_frame.len(), frames);
    counts
}

fn check(counts: &Counts, frame_room: usize, keep: bool, what: &str) {
    // The first frame: grown from the 8 KiB read buffer rung by rung (four
    // buffers, each at most doubling what is held; plus the small shared
    // handle `BytesMut` allocates when a frame is first split off), the
    // last one the frame and the room kept for the next frame's start,
    // exactly: not 128 KiB.
    assert!(
        counts.per_frame[0] <= 5,
        "{what}: {} allocations for the first frame",
        counts.per_frame[0]
    );
    assert_eq!(counts.largest[0], frame_room, "{what}: first frame");
    for (i, (&n, &largest)) in counts
        .per_frame
        .iter()
        .zip(&counts.largest)
        .enumerate()
        .skip(1)
    {
        if keep {
            // The kept frames pin the old allocation: one new buffer each
            // (and its shared handle), of the frame's size, never more.
            assert!(n <= 2, "{what}: {n} allocations for frame {i}");
            assert!(largest <= frame_room, "{what}: {largest} for frame {i}");
        } else {
            // The allocation the first frame earned is reused.
            assert_eq!(n, 0, "{what}: {n} allocations for frame {i}");
        }
    }
}

#[test]
fn header_codec_64_kib_frames_reuse_the_room_they_earned() {
    let stream = header_stream(BODY, FRAMES);
    assert_eq!(stream.len(), FRAMES * (HEADER_PREFIX + BODY));
    for max_read in [8 * 1024, 64 * 1024] {
        let what = format!("HeaderCodec, reads of {max_read}");
        let counts = count(HeaderCodec::new(), &stream, FRAMES, max_read, false);
        // Body, and room past it for the next frame's 23-byte prefix.
        check(&counts, BODY + HEADER_PREFIX, false, &what);
        let counts = count(HeaderCodec::new(), &stream, FRAMES, max_read, true);
        check(&counts, BODY + HEADER_PREFIX, true, &what);
    }
}

#[test]
fn strict_length_codec_64_kib_frames_reuse_the_room_they_earned() {
    let stream = length_stream(BODY, FRAMES);
    for max_read in [8 * 1024, 64 * 1024] {
        let what = format!("StrictLengthCodec, reads of {max_read}");
        // The whole frame (length field and body), and room past it for the
        // next length field.
        let codec = || StrictLengthCodec::new(BODY);
        let counts = count(codec(), &stream, FRAMES, max_read, false);
        check(&counts, 4 + BODY + 4, false, &what);
        let counts = count(codec(), &stream, FRAMES, max_read, true);
        check(&counts, 4 + BODY + 4, true, &what);
    }
}

#[test]
fn small_frames_reuse_the_read_buffer() {
    // 1 000-byte bodies: frames straddle the end of the 8 KiB read buffer
    // again and again; the held part moves to the front of it instead of
    // into a new buffer. The only allocation is `BytesMut`'s small shared
    // handle, when the first frame is split off.
    let frames = 200;
    let header = header_stream(1000, frames);
    let length = length_stream(1000, frames);
    for max_read in [1000, 8 * 1024] {
        let counts = count(HeaderCodec::new(), &header, frames, max_read, false);
        let total: u64 = counts.per_frame.iter().sum();
        let largest = counts.largest.iter().max().copied().unwrap_or(0);
        assert!(total <= 1, "HeaderCodec, reads of {max_read}: {counts:?}");
        assert!(
            largest < 1000,
            "HeaderCodec, reads of {max_read}: {largest}"
        );
        let counts = count(
            StrictLengthCodec::new(1000),
            &length,
            frames,
            max_read,
            false,
        );
        let total: u64 = counts.per_frame.iter().sum();
        let largest = counts.largest.iter().max().copied().unwrap_or(0);
        assert!(
            total <= 1,
            "StrictLengthCodec, reads of {max_read}: {counts:?}"
        );
        assert!(
            largest < 1000,
            "StrictLengthCodec, reads of {max_read}: {largest}"
        );
    }
}
