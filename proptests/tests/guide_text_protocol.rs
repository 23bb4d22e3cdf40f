//! Guide, "A text protocol with a variable-length header" and "A
//! constructor that returns `Result`" (docs/testing-a-real-codec.md).

use std::io;

use framecheck::{
    bytes::{Buf, BufMut, Bytes, BytesMut},
    proptest::{collection::vec, prelude::*},
    strategies::bodies_of,
    tokio_util::codec::{Decoder, Encoder},
    FailureKind, Harness,
};

/// `Content-Length: N\r\n\r\n` then N bytes, at most `limit`.
struct Http {
    limit: usize,
    body: Option<usize>,
}

impl Http {
    /// Refuses a limit of zero: a constructor that returns `Result`.
    fn new(limit: usize) -> Result<Http, String> {
        if limit == 0 {
            return Err("a limit of zero bytes".to_owned());
        }
        Ok(Http { limit, body: None })
    }
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

impl Decoder for Http {
    type Item = Bytes;
    type Error = io::Error;
    fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<Bytes>> {
        if self.body.is_none() {
            let Some(end) = src.windows(4).position(|w| w == b"\r\n\r\n") else {
                return if src.len() > 64 {
                    Err(bad("header too long"))
                } else {
                    Ok(None)
                };
            };
            let head = std::str::from_utf8(&src[..end]).map_err(|_| bad("not UTF-8"))?;
            let n: usize = head
                .strip_prefix("Content-Length: ")
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| bad("no Content-Length"))?;
            if n > self.limit {
                return Err(bad("body over the limit"));
            }
            src.advance(end + 4);
            self.body = Some(n);
        }
        let n = self.body.expect("set above");
        if src.len() < n {
            return Ok(None);
        }
        self.body = None;
        Ok(Some(src.split_to(n).freeze()))
    }
    // No `decode_eof`: tokio-util's default errs on bytes left over, but a
    // header already taken into `self.body` leaves none.
}

impl Encoder<Bytes> for Http {
    type Error = io::Error;
    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> io::Result<()> {
        dst.put_slice(format!("Content-Length: {}\r\n\r\n", item.len()).as_bytes());
        dst.put_slice(&item);
        Ok(())
    }
}

fn bodies() -> impl Strategy<Value = Vec<Bytes>> {
    vec(bodies_of(0..=3_000), 0..4)
}

#[test]
fn a_result_constructor_goes_through_ok_or_panic() {
    Harness::new()
        .codec(framecheck::ok_or_panic(|| Http::new(4096)))
        .check_roundtrip(bodies())
        .unwrap();
}

#[test]
fn a_clean_end_right_after_the_text_header_is_found() {
    let failure = Harness::new()
        .persistence(false)
        .codec(framecheck::ok_or_panic(|| Http::new(4096)))
        .check_truncation(bodies())
        .unwrap_err();
    assert!(
        matches!(failure.kind(), FailureKind::CleanEndInsideFrame { .. }),
        "{failure}"
    );
    // "...exactly between its 23-byte header and its 17-byte body; the
    // decoder reported a clean end of stream instead of an error"
    assert!(
        failure.headline().contains("-byte header and its"),
        "{failure}"
    );
    eprintln!("{}", failure.headline());
}

#[test]
fn a_constructor_that_fails_is_reported_as_the_codec_s_failure() {
    let failure = Harness::new()
        .persistence(false)
        .cases(4)
        .codec(framecheck::ok_or_panic(|| Http::new(0)))
        .check_roundtrip(bodies())
        .unwrap_err();
    assert!(
        failure.to_string().contains("a limit of zero bytes"),
        "{failure}"
    );
}
