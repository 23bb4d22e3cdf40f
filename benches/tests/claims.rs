//! The claims `docs/benchmarks.md` makes about the code, checked by what the
//! code does (the template points here). If one of these fails, fix the
//! sentence in `src/templates/benchmarks.md` along with the code.

use std::{
    io,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::{Bytes, BytesMut};
use framecheck_codec::{
    strategy::{Conn, Framing},
    Frame, Header, HeaderCodec, Limits,
};
use futures_util::SinkExt;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_util::codec::{Decoder, Encoder, FramedWrite, LengthDelimitedCodec};

/// A transport that records every write call: the slices of each call
/// (one for `poll_write`, several for `poll_write_vectored`). Reads end at
/// once.
#[derive(Default)]
struct Recorder {
    calls: Vec<Vec<usize>>,
    vectored: bool,
}

impl Recorder {
    fn vectored() -> Recorder {
        Recorder {
            vectored: true,
            ..Recorder::default()
        }
    }

    fn bytes(&self) -> usize {
        self.calls.iter().flatten().sum()
    }
}

impl AsyncWrite for Recorder {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.calls.push(vec![buf.len()]);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let lens: Vec<usize> = bufs.iter().map(|b| b.len()).filter(|&n| n > 0).collect();
        let n = lens.iter().sum();
        self.calls.push(lens);
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        self.vectored
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for Recorder {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// "`FramedWrite` writes its buffer out once it holds 8 KiB."
#[tokio::test]
async fn framed_write_writes_out_at_8_kib() {
    let mut framed = FramedWrite::new(Recorder::default(), LengthDelimitedCodec::new());
    let msg = Bytes::from_static(&[7u8; 16]);
    // 20 bytes per frame: 409 frames are 8 180 bytes, under 8 KiB.
    for _ in 0..409 {
        framed.feed(msg.clone()).await.unwrap();
    }
    assert!(framed.get_ref().calls.is_empty(), "wrote before 8 KiB");
    for _ in 0..2 {
        framed.feed(msg.clone()).await.unwrap();
    }
    let written = framed.get_ref().bytes();
    assert!(written >= 8 * 1024, "{:?}", framed.get_ref().calls);
}

/// "`Conn::feed` writes its buffer out once it holds 64 KiB."
#[tokio::test]
async fn conn_feed_writes_out_at_64_kib() {
    let mut conn = Conn::new(Recorder::default(), Framing::Length);
    // 4 + 252 = 256 bytes per message: 255 messages stay under 64 KiB.
    let msg = [1u8; 252];
    for _ in 0..255 {
        conn.feed(&msg).await.unwrap();
    }
    assert!(conn.get_mut().calls.is_empty(), "wrote before 64 KiB");
    conn.feed(&msg).await.unwrap();
    assert_eq!(conn.get_mut().bytes(), 64 * 1024);
}

/// "`Conn` writes the prefix and a 64 KiB body in one vectored write
/// without copying the body", for both header-prefixed framings; the JSON
/// prefix is what `wire::encode_prefix` writes.
#[tokio::test]
async fn conn_sends_a_large_body_in_one_vectored_write_with_its_prefix() {
    let body = vec![2u8; 64 * 1024];
    let mut prefix = BytesMut::new();
    framecheck_codec::wire::encode_prefix(
        &Header::new(body.len() as u64),
        body.len(),
        &Limits::default(),
        &mut prefix,
    )
    .unwrap();
    assert_eq!(prefix.len(), 4 + br#"{"data_size":65536}"#.len());
    for (framing, prefix) in [(Framing::Length, 4), (Framing::JsonHeader, prefix.len())] {
        let mut conn = Conn::new(Recorder::vectored(), framing);
        conn.send(&body).await.unwrap();
        assert_eq!(
            conn.get_mut().calls,
            [vec![prefix, body.len()]],
            "{framing:?}"
        );
    }
    // Small bodies are copied into the buffer: one slice per write.
    let mut conn = Conn::new(Recorder::vectored(), Framing::Length);
    conn.send(&[3u8; 100]).await.unwrap();
    assert_eq!(conn.get_mut().calls, [vec![104]]);
}

/// "Both decoders split the body off the read buffer without copying it."
#[test]
fn decoders_return_bodies_that_point_into_the_read_buffer() {
    let body = vec![9u8; 64 * 1024];
    let mut src = BytesMut::new();
    HeaderCodec::new()
        .encode(Frame::new(body.clone()), &mut src)
        .unwrap();
    let prefix = src.len() - body.len();
    let start = src.as_ptr() as usize;
    let frame = HeaderCodec::new().decode(&mut src).unwrap().unwrap();
    assert_eq!(frame.body, body);
    assert_eq!(frame.body.as_ptr() as usize, start + prefix);

    // "`LengthDelimitedCodec`'s encoder copies the body into its buffer."
    let mut src = BytesMut::new();
    let sent = Bytes::from(body.clone());
    LengthDelimitedCodec::new()
        .encode(sent.clone(), &mut src)
        .unwrap();
    assert_eq!(src.len(), 4 + body.len());
    assert_ne!(src[4..].as_ptr(), sent.as_ptr());
    let start = src.as_ptr() as usize;
    let got = LengthDelimitedCodec::new()
        .decode(&mut src)
        .unwrap()
        .unwrap();
    assert_eq!(got, body);
    assert_eq!(got.as_ptr() as usize, start + 4);
}

/// A writer that counts its `write` calls.
#[derive(Default)]
struct Counting {
    calls: usize,
    bytes: Vec<u8>,
}

impl io::Write for Counting {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.calls += 1;
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// "The minimal header is written in one piece without serde_json; any
/// other header goes through serde_json": serde_json writes a JSON object
/// token by token, so it reaches the writer in many calls.
#[test]
fn minimal_header_is_written_in_one_call_and_others_through_serde_json() {
    for n in [0u64, 16, u64::MAX] {
        let mut w = Counting::default();
        Header::new(n).write_json(&mut w).unwrap();
        assert_eq!(w.calls, 1, "data_size {n}");
        assert_eq!(w.bytes, format!(r#"{{"data_size":{n}}}"#).into_bytes());
    }
    let mut named = Header::new(16);
    named.filename = Some("a.txt".into());
    let mut w = Counting::default();
    named.write_json(&mut w).unwrap();
    assert!(w.calls > 1, "{} calls", w.calls);
    assert_eq!(w.bytes, serde_json::to_vec(&named).unwrap());
}
