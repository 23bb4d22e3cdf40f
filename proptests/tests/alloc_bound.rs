//! The allocation property: planted decoders that size an allocation from
//! a peer's count are caught at default settings (fresh random cases every
//! run, `PROPTEST_CASES` respected), each beside its correct twin, which
//! passes; so do tokio-util's codecs; and a claim of 2^40 bytes is reported
//! without taking the test process down.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use framecheck::{alloc_case, strategies, AllocBound, Failure, FailureKind, Harness};
use proptest::{collection::vec, prelude::*};
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec, LinesCodec};

#[global_allocator]
static ALLOC: framecheck::alloc::Tracking = framecheck::alloc::Tracking::new();

type Io<T> = std::io::Result<T>;

fn invalid(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned())
}

/// The four planted mistakes; `None` is the correct twin of each codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bug {
    None,
    /// The element vector allocated from the count before its limit check.
    Planted,
}

/// A count then the elements read from a u32 big-endian field.
fn take_u32(src: &[u8], at: usize) -> Option<usize> {
    let b = src.get(at..at + 4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
}

// ---------------------------------------------------------------------------
// 1. An array count: `u32 count | count × u32`, at most 1 << 16 elements.

struct ArrayCount(Bug);

const MAX_ELEMENTS: usize = 1 << 16;

impl Encoder<Vec<u32>> for ArrayCount {
    type Error = std::io::Error;
    fn encode(&mut self, item: Vec<u32>, dst: &mut BytesMut) -> Io<()> {
        dst.put_u32(item.len() as u32);
        item.iter().for_each(|&x| dst.put_u32(x));
        Ok(())
    }
}

impl Decoder for ArrayCount {
    type Item = Vec<u32>;
    type Error = std::io::Error;
    fn decode(&mut self, src: &mut BytesMut) -> Io<Option<Vec<u32>>> {
        let Some(count) = take_u32(src, 0) else {
            return Ok(None);
        };
        let mut elements = if self.0 == Bug::Planted {
            Vec::with_capacity(count)
        } else {
            Vec::new()
        };
        if count > MAX_ELEMENTS {
            return Err(invalid("too many elements"));
        }
        if src.len() < 4 + 4 * count {
            return Ok(None);
        }
        src.advance(4);
        elements.extend((0..count).map(|_| src.get_u32()));
        Ok(Some(elements))
    }
}

// ---------------------------------------------------------------------------
// 2. A length-prefixed body: `u32 len | body`, at most 256 KiB, reserved
//    before the limit check.

struct ReservedBody(Bug);

const MAX_BODY: usize = 256 * 1024;

impl Encoder<Bytes> for ReservedBody {
    type Error = std::io::Error;
    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> Io<()> {
        dst.put_u32(item.len() as u32);
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for ReservedBody {
    type Item = Bytes;
    type Error = std::io::Error;
    fn decode(&mut self, src: &mut BytesMut) -> Io<Option<Bytes>> {
        let Some(len) = take_u32(src, 0) else {
            return Ok(None);
        };
        if self.0 == Bug::Planted {
            src.reserve(4 + len);
        }
        if len > MAX_BODY {
            return Err(invalid("body too long"));
        }
        if src.len() < 4 + len {
            return Ok(None);
        }
        src.advance(4);
        Ok(Some(src.split_to(len).freeze()))
    }
}

// ---------------------------------------------------------------------------
// 3. A nested count: `u32 lists | lists × (u32 count | count × u32)`, at
//    most 16 lists (checked first) of at most 1 << 16 elements (checked
//    after the inner vector is allocated).

struct NestedCount(Bug);

const MAX_LISTS: usize = 16;

impl Encoder<Vec<Vec<u32>>> for NestedCount {
    type Error = std::io::Error;
    fn encode(&mut self, item: Vec<Vec<u32>>, dst: &mut BytesMut) -> Io<()> {
        dst.put_u32(item.len() as u32);
        for list in item {
            ArrayCount(Bug::None).encode(list, dst)?;
        }
        Ok(())
    }
}

impl Decoder for NestedCount {
    type Item = Vec<Vec<u32>>;
    type Error = std::io::Error;
    fn decode(&mut self, src: &mut BytesMut) -> Io<Option<Vec<Vec<u32>>>> {
        let Some(lists) = take_u32(src, 0) else {
            return Ok(None);
        };
        if lists > MAX_LISTS {
            return Err(invalid("too many lists"));
        }
        let mut out = Vec::with_capacity(lists);
        let mut at = 4;
        for _ in 0..lists {
            let Some(count) = take_u32(src, at) else {
                return Ok(None);
            };
            let mut list = if self.0 == Bug::Planted {
                Vec::with_capacity(count)
            } else {
                Vec::new()
            };
            if count > MAX_ELEMENTS {
                return Err(invalid("list too long"));
            }
            if src.len() < at + 4 + 4 * count {
                return Ok(None);
            }
            list.extend((0..count).map(|i| take_u32(src, at + 4 + 4 * i).unwrap() as u32));
            out.push(list);
            at += 4 + 4 * count;
        }
        src.advance(at);
        Ok(Some(out))
    }
}

// ---------------------------------------------------------------------------
// 4. A count times an element size: `u32 count | count × 1 KiB records`
//    (each record one repeated byte), room for all records reserved from
//    the count before the bytes are there.

struct RecordCount(Bug);

const RECORD: usize = 1024;

impl Encoder<Vec<u8>> for RecordCount {
    type Error = std::io::Error;
    fn encode(&mut self, item: Vec<u8>, dst: &mut BytesMut) -> Io<()> {
        dst.put_u32(item.len() as u32);
        item.iter().for_each(|&b| dst.put_bytes(b, RECORD));
        Ok(())
    }
}

impl Decoder for RecordCount {
    type Item = Vec<u8>;
    type Error = std::io::Error;
    fn decode(&mut self, src: &mut BytesMut) -> Io<Option<Vec<u8>>> {
        let Some(count) = take_u32(src, 0) else {
            return Ok(None);
        };
        let mut records: Vec<u8> = if self.0 == Bug::Planted {
            Vec::with_capacity(count * RECORD)
        } else {
            Vec::new()
        };
        if src.len() < 4 + count * RECORD {
            return Ok(None);
        }
        src.advance(4);
        records.extend((0..count).map(|i| src[i * RECORD]));
        src.advance(count * RECORD);
        Ok(Some(records))
    }
}

// ---------------------------------------------------------------------------

fn harness() -> Harness {
    Harness::new().persistence(false)
}

fn arrays() -> impl Strategy<Value = Vec<Vec<u32>>> {
    vec(vec(any::<u32>(), 0..8), 0..6)
}

fn nested() -> impl Strategy<Value = Vec<Vec<Vec<u32>>>> {
    vec(vec(vec(any::<u32>(), 0..4), 0..4), 0..4)
}

fn records() -> impl Strategy<Value = Vec<Vec<u8>>> {
    vec(vec(any::<u8>(), 0..4), 0..4)
}

/// That `result` is the allocation failure, told in the property's terms;
/// the size of the request that crossed the bound.
fn over_bound(result: Result<(), Failure>, name: &str) -> usize {
    let failure = match result {
        Err(failure) => failure,
        Ok(()) => panic!("{name}: planted allocation not caught"),
    };
    eprintln!("{name}:\n{failure}\n");
    let FailureKind::AllocationOverBound { size, fed, bound } = *failure.kind() else {
        panic!("{name}: {failure:?}");
    };
    assert!(size > 0, "{name}: {failure}");
    assert_eq!(bound, AllocBound::default().at(fed), "{name}");
    let report = failure.to_string();
    assert!(
        report.contains("in one allocation after") || report.contains("live bytes after"),
        "{report}"
    );
    assert!(report.contains(" as the codec encoded them"), "{report}");
    assert!(report.contains("stream ("), "{report}");
    size
}

#[test]
fn array_count_allocated_before_its_limit_is_caught() {
    let result = harness().check_alloc_bound(|| ArrayCount(Bug::Planted), arrays());
    over_bound(result, "array count");
    harness()
        .check_alloc_bound(|| ArrayCount(Bug::None), arrays())
        .unwrap();
}

#[test]
fn body_reserved_before_its_limit_is_caught() {
    let frames = vec(strategies::bodies(), 0..6);
    let result = harness().check_alloc_bound(|| ReservedBody(Bug::Planted), frames.clone());
    over_bound(result, "reserved body");
    harness()
        .check_alloc_bound(|| ReservedBody(Bug::None), frames)
        .unwrap();
}

#[test]
fn nested_count_allocated_before_its_limit_is_caught() {
    let result = harness().check_alloc_bound(|| NestedCount(Bug::Planted), nested());
    over_bound(result, "nested count");
    harness()
        .check_alloc_bound(|| NestedCount(Bug::None), nested())
        .unwrap();
}

#[test]
fn count_times_element_size_is_caught() {
    let result = harness().check_alloc_bound(|| RecordCount(Bug::Planted), records());
    over_bound(result, "count × record size");
    harness()
        .check_alloc_bound(|| RecordCount(Bug::None), records())
        .unwrap();
}

/// `00 00 00 40 00 00 00` would be 2^30 records of 1 KiB: the decoder asks
/// for exactly 2^40 bytes after 4 bytes. The request is reserved lazily and
/// reported; the process goes on (the rest of this test runs).
#[test]
fn a_claim_of_2_pow_40_bytes_is_reported_and_the_process_survives() {
    let stream = [0x40, 0, 0, 0, 0xab, 0xab];
    let failure = alloc_case(
        &mut RecordCount(Bug::Planted),
        &stream,
        &[4],
        AllocBound::default(),
    )
    .unwrap_err();
    assert_eq!(
        failure.kind(),
        &FailureKind::AllocationOverBound {
            size: 1 << 40,
            fed: 4,
            bound: 8 * 4 + (1 << 20)
        }
    );
    let report = failure.to_string();
    assert!(
        report.starts_with(
            "the decoder asked for 1 099 511 627 776 bytes in one allocation after 4 of the \
             stream's 6 bytes had arrived (bound 8 × 4 + 1 048 576 = 1 048 608 bytes)"
        ),
        "{report}"
    );
    assert!(report.contains("reserved lazily"), "{report}");
    assert!(
        report.contains("stream (6 bytes): 40 00 00 00 ab ab"),
        "{report}"
    );
    // Still alive, and the correct twin is fine with the same bytes.
    alloc_case(
        &mut RecordCount(Bug::None),
        &stream,
        &[4],
        AllocBound::default(),
    )
    .unwrap();
}

#[test]
fn tokio_util_codecs_pass() {
    // At most 256 KiB reserved before a body arrives: under the default C.
    let lengths = || {
        LengthDelimitedCodec::builder()
            .max_frame_length(MAX_BODY)
            .new_codec()
    };
    harness()
        .check_alloc_bound(lengths, strategies::byte_frames())
        .unwrap();
    harness()
        .check_alloc_bound(LinesCodec::new, strategies::lines())
        .unwrap();
    // The default 8 MiB max_frame_length, reserved as soon as a 4-byte
    // head claims it: within a C above that limit.
    harness()
        .alloc_bound(8, 9 << 20)
        .check_alloc_bound(LengthDelimitedCodec::new, strategies::byte_frames())
        .unwrap();
}

/// tokio-util's `LengthDelimitedCodec` reserves the claimed frame length
/// (up to its 8 MiB `max_frame_length`) as soon as the 4-byte head arrives:
/// at the default bound that is a finding, reported with the numbers
/// (fixed seed: this documents the behaviour, it is not a search).
#[test]
fn tokio_util_default_frame_limit_is_reserved_from_the_claim() {
    let result = harness()
        .seed(3)
        .check_alloc_bound(LengthDelimitedCodec::new, strategies::byte_frames());
    let size = over_bound(result, "LengthDelimitedCodec::new");
    assert!(size > 1 << 20 && size <= (8 << 20) + 4, "{size}");
}
