//! Guide, "Split client and server codecs" and "Items without
//! `PartialEq`" (docs/testing-a-real-codec.md): a request protocol whose
//! client codec encodes `Request`s and whose server codec decodes
//! `Parsed` values with no `PartialEq`, tested as they are.

use std::io;

use framecheck::{
    bytes::{Buf, BufMut, BytesMut},
    proptest::{collection::vec, prelude::*},
    tokio_util::codec::{Decoder, Encoder},
    Harness,
};

/// What the client sends.
#[derive(Debug, Clone)]
struct Request {
    id: u16,
    path: String,
}

/// What the server makes of it (no `PartialEq`, another type).
#[derive(Debug)]
struct Parsed {
    id: u16,
    path: Vec<u8>,
}

/// `id: u16`, `len: u16`, `len` bytes of path.
struct ClientCodec;

impl Encoder<Request> for ClientCodec {
    type Error = io::Error;
    fn encode(&mut self, item: Request, dst: &mut BytesMut) -> io::Result<()> {
        let len = u16::try_from(item.path.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path too long"))?;
        dst.put_u16(item.id);
        dst.put_u16(len);
        dst.put_slice(item.path.as_bytes());
        Ok(())
    }
}

/// The server side; `buggy` forgets a header that arrived alone.
struct ServerCodec {
    head: Option<(u16, usize)>,
    buggy: bool,
}

impl ServerCodec {
    fn new(buggy: bool) -> Self {
        ServerCodec { head: None, buggy }
    }
}

impl Decoder for ServerCodec {
    type Item = Parsed;
    type Error = io::Error;
    fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<Parsed>> {
        if self.head.is_none() {
            if src.len() < 4 {
                return Ok(None);
            }
            let id = src.get_u16();
            let len = usize::from(src.get_u16());
            if self.buggy && src.is_empty() && len > 0 {
                return Ok(None);
            }
            self.head = Some((id, len));
        }
        let (id, len) = self.head.expect("set above");
        if src.len() < len {
            return Ok(None);
        }
        self.head = None;
        Ok(Some(Parsed {
            id,
            path: src.split_to(len).to_vec(),
        }))
    }
}

fn requests() -> impl Strategy<Value = Vec<Request>> {
    vec(
        (any::<u16>(), "[a-z/]{0,40}").prop_map(|(id, path)| Request { id, path }),
        0..6,
    )
}

/// The comparison: the server's view of a request is the request.
fn same(got: &Parsed, sent: &Request) -> bool {
    got.id == sent.id && got.path == sent.path.as_bytes()
}

#[test]
fn split_codecs_pass_round_trip_and_truncation() {
    // The truncation failure below is expected: nothing to save.
    let target = Harness::new()
        .persistence(false)
        .split(|| ClientCodec, || ServerCodec::new(false))
        .compare(same);
    target.check_roundtrip(requests()).unwrap();
    // The same pair through tokio-util's own FramedWrite and FramedRead.
    target.check_framed_roundtrip(requests()).unwrap();
    // A stream that ends inside a request must be an error, and this
    // server's default `decode_eof` gives one for bytes left over, but not
    // for a header it already took: the harness finds that too.
    let truncation = target.check_truncation(requests()).unwrap_err();
    assert!(
        truncation
            .headline()
            .contains("exactly between its 4-byte header"),
        "{truncation}"
    );
}

#[test]
fn the_buggy_server_is_caught_in_the_frames_terms() {
    let failure = Harness::new()
        .persistence(false)
        .split(|| ClientCodec, || ServerCodec::new(true))
        .compare(same)
        .check_roundtrip(requests())
        .unwrap_err();
    // frame N: read K ended exactly between its 4-byte header and its body
    assert!(
        failure.headline().contains("between its 4-byte header"),
        "{failure}"
    );
}
