//! Memory grows with the bytes received, never with a peer's claim:
//! `HeaderCodec`, `VerbatimCodec` and `StrictLengthCodec` reserve at most
//! as much again as they hold (or one 8 KiB read when they hold less)
//! while a frame is under way, however large the declared length: after
//! `N` bytes, a capacity of at most `max(2 N, N + 8 KiB)`.

use bytes::BytesMut;
use framecheck_codec::{HeaderCodec, StrictLengthCodec, VerbatimCodec};
use tokio_util::codec::Decoder;

/// One read: what a buffer may hold beyond what it received when that is
/// less than a read.
const SLACK: usize = 8 * 1024;

/// The capacity allowed after `received` bytes.
fn bound(received: usize) -> usize {
    (2 * received).max(received + SLACK)
}

fn header_prefix(data_size: usize) -> Vec<u8> {
    let h = format!(r#"{{"data_size": {data_size}}}"#);
    let mut v = (h.len() as i32).to_le_bytes().to_vec();
    v.extend_from_slice(h.as_bytes());
    v
}

/// Feeds `body_bytes` of body after `prefix`, in reads that fill the spare
/// room as a socket read would (at most 64 KiB), and checks the capacity
/// after every decode call against what has arrived.
fn feed_and_check<D>(codec: &mut D, prefix: &[u8], body_bytes: usize) -> BytesMut
where
    D: Decoder,
    D::Error: std::fmt::Debug,
    D::Item: std::fmt::Debug,
{
    let mut buf = BytesMut::new();
    buf.extend_from_slice(prefix);
    assert!(codec.decode(&mut buf).unwrap().is_none());
    let mut sent = 0;
    while sent < body_bytes {
        let room = (buf.capacity() - buf.len()).clamp(1, 64 * 1024);
        let n = room.min(body_bytes - sent);
        buf.extend_from_slice(&vec![b'x'; n]);
        sent += n;
        assert!(codec.decode(&mut buf).unwrap().is_none());
        let received = prefix.len() + sent;
        assert!(
            buf.capacity() <= bound(received),
            "capacity {} after {received} bytes received",
            buf.capacity()
        );
    }
    buf
}

#[test]
fn header_claiming_8_mib_with_no_body_reserves_one_read_at_most() {
    let prefix = header_prefix(8 << 20);
    let mut codec = HeaderCodec::new();
    let buf = feed_and_check(&mut codec, &prefix, 0);
    assert_eq!(codec.declared_body_len(), Some(8 << 20));
    assert!(
        buf.capacity() <= prefix.len() + SLACK,
        "reserved {}",
        buf.capacity()
    );

    let mut codec = VerbatimCodec::new();
    let buf = feed_and_check(&mut codec, &prefix, 0);
    assert_eq!(codec.declared_body_len(), Some(8 << 20));
    assert!(
        buf.capacity() <= prefix.len() + SLACK,
        "reserved {}",
        buf.capacity()
    );
}

#[test]
fn header_codec_capacity_follows_the_body_bytes() {
    let prefix = header_prefix(8 << 20);
    let mut codec = HeaderCodec::new();
    let buf = feed_and_check(&mut codec, &prefix, 1 << 20);
    assert!(buf.capacity() < 3 << 20, "{}", buf.capacity());
    // The rest arrives and the frame comes out whole.
    let mut buf = buf;
    buf.extend_from_slice(&vec![b'x'; (8 << 20) - (1 << 20)]);
    let frame = codec.decode(&mut buf).unwrap().unwrap();
    assert_eq!(frame.body.len(), 8 << 20);
    assert_eq!(codec.declared_body_len(), None);
}

#[test]
fn header_bytes_grow_with_what_arrives_too() {
    // A 60 000-byte header announced, 10 bytes of it sent.
    let mut codec = HeaderCodec::new();
    let mut buf = BytesMut::new();
    buf.extend_from_slice(&60_000i32.to_le_bytes());
    buf.extend_from_slice(br#"{"data_siz"#);
    assert!(codec.decode(&mut buf).unwrap().is_none());
    assert!(buf.capacity() <= 14 + SLACK, "reserved {}", buf.capacity());
}

#[test]
fn strict_length_codec_claiming_8_mib_reserves_one_read_at_most() {
    let mut codec = StrictLengthCodec::new(8 << 20);
    let prefix = (8u32 << 20).to_be_bytes();
    let buf = feed_and_check(&mut codec, &prefix, 0);
    assert_eq!(codec.declared_body_len(), Some(8 << 20));
    assert!(
        buf.capacity() <= prefix.len() + SLACK,
        "reserved {}",
        buf.capacity()
    );

    let mut codec = StrictLengthCodec::new(8 << 20);
    let mut buf = feed_and_check(&mut codec, &prefix, 1 << 20);
    buf.extend_from_slice(&vec![b'x'; (8 << 20) - (1 << 20)]);
    let frame = codec.decode(&mut buf).unwrap().unwrap();
    assert_eq!(frame.len(), 8 << 20);
    assert_eq!(codec.declared_body_len(), None);
}

#[test]
fn tokio_util_length_delimited_codec_reserves_the_claim() {
    // What the wrappers avoid, shown on tokio-util 0.7 itself: a length
    // field alone makes it reserve the whole declared frame.
    let mut codec = tokio_util::codec::LengthDelimitedCodec::builder()
        .max_frame_length(8 << 20)
        .new_codec();
    let mut buf = BytesMut::from(&(8u32 << 20).to_be_bytes()[..]);
    assert!(codec.decode(&mut buf).unwrap().is_none());
    assert!(buf.capacity() >= 8 << 20, "{}", buf.capacity());
}

#[test]
fn a_later_claim_is_reserved_no_further_than_what_the_peer_already_sent() {
    // One 1 MiB frame in full...
    let mut codec = HeaderCodec::new();
    let mut buf = BytesMut::new();
    buf.extend_from_slice(&header_prefix(1 << 20));
    buf.extend_from_slice(&vec![b'x'; 1 << 20]);
    assert_eq!(codec.decode(&mut buf).unwrap().unwrap().body.len(), 1 << 20);
    // ...earns room for the next frame up to twice that at once, but a claim
    // of 8 MiB with nothing behind it gets no more.
    buf.extend_from_slice(&header_prefix(8 << 20));
    assert!(codec.decode(&mut buf).unwrap().is_none());
    assert!(
        buf.capacity() <= (2 << 20) + 2 * SLACK,
        "reserved {}",
        buf.capacity()
    );
}
