//! Guide, "An asynchronous-codec codec" (docs/testing-a-real-codec.md):
//! a codec written for asynchronous-codec (futures-codec), wrapped in
//! `framecheck::Async`, driven by that crate's end-of-stream rule. Needs
//! the `asynchronous-codec` feature:
//!
//! ```sh
//! cargo test -p framecheck --features asynchronous-codec --test guide_async_codec
//! ```
#![cfg(feature = "asynchronous-codec")]

use std::io;

use framecheck::{
    asynchronous_codec::{Decoder, Encoder},
    bytes::{Buf, BufMut, Bytes, BytesMut},
    proptest::collection::vec,
    strategies::bodies_of,
    Async, FailureKind, Harness,
};

/// A 2-byte length, then the body. The length is taken into `self.body`
/// as soon as it arrives; `decode_eof` errs while a frame is pending.
#[derive(Default)]
struct Chunked {
    body: Option<usize>,
}

impl Decoder for Chunked {
    type Item = Bytes;
    type Error = io::Error;
    fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<Bytes>> {
        if self.body.is_none() {
            if src.len() < 2 {
                return Ok(None);
            }
            self.body = Some(usize::from(src.get_u16()));
        }
        let n = self.body.expect("set above");
        if src.len() < n {
            return Ok(None);
        }
        self.body = None;
        Ok(Some(src.split_to(n).freeze()))
    }
    fn decode_eof(&mut self, src: &mut BytesMut) -> io::Result<Option<Bytes>> {
        match self.decode(src)? {
            Some(item) => Ok(Some(item)),
            None if self.body.is_some() => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "inside a frame",
            )),
            None => Ok(None),
        }
    }
}

impl Encoder for Chunked {
    type Item<'a> = Bytes;
    type Error = io::Error;
    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> io::Result<()> {
        let len = u16::try_from(item.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "too long"))?;
        dst.put_u16(len);
        dst.put_slice(&item);
        Ok(())
    }
}

fn frames() -> impl framecheck::proptest::strategy::Strategy<Value = Vec<Bytes>> {
    vec(bodies_of(0..=600), 0..5)
}

#[test]
fn an_asynchronous_codec_codec_round_trips() {
    Harness::new()
        .codec(|| Async(Chunked::default()))
        .check_roundtrip(frames())
        .unwrap();
}

#[test]
fn its_framed_read_ends_cleanly_after_a_length_it_took() {
    // asynchronous-codec's FramedRead does not call decode_eof when the
    // buffer is empty at the end: the error in decode_eof never runs. The
    // same decoder under tokio-util's rule would be fine.
    let failure = Harness::new()
        .persistence(false)
        .codec(|| Async(Chunked::default()))
        .check_truncation(frames())
        .unwrap_err();
    assert!(
        matches!(
            failure.kind(),
            FailureKind::CleanEndInsideFrame { offset: 2, .. }
        ),
        "{failure}"
    );
}

/// `Chunked`, but `decode_eof` errs every time it is called, even on an
/// empty buffer: asynchronous-codec's FramedRead never calls it then.
#[derive(Default)]
struct ErrsAtEof(Chunked);

impl Decoder for ErrsAtEof {
    type Item = Bytes;
    type Error = io::Error;
    fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<Bytes>> {
        self.0.decode(src)
    }
    fn decode_eof(&mut self, _: &mut BytesMut) -> io::Result<Option<Bytes>> {
        Err(io::Error::new(io::ErrorKind::UnexpectedEof, "decode_eof"))
    }
}

#[test]
fn the_framed_round_trip_keeps_the_asynchronous_codec_end_of_stream_rule() {
    let harness = Harness::new().persistence(false).cases(64);
    harness
        .codec(|| Async(Chunked::default()))
        .check_framed_roundtrip(frames())
        .unwrap();
    // Under tokio-util's rule this decoder would err at every end of
    // stream; under its own, a stream that ends between frames is clean.
    harness
        .split(|| Async(Chunked::default()), || Async(ErrsAtEof::default()))
        .check_framed_roundtrip(frames())
        .unwrap();
}
