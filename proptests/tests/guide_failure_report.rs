//! Guide, "Reading a failure report" (docs/testing-a-real-codec.md): what
//! a report says, and the same facts through `Failure`'s accessors.

use framecheck::{
    bytes::{Bytes, BytesMut},
    chunk::{Chunking, Cut, Point},
    strategies,
    tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec},
    FailureKind, Harness, Property,
};

/// Decodes length-delimited frames, but a read that ends exactly after a
/// length field makes it drop the body's last byte.
struct LosesALastByte {
    inner: LengthDelimitedCodec,
    header_alone: bool,
}

impl Decoder for LosesALastByte {
    type Item = BytesMut;
    type Error = std::io::Error;
    fn decode(&mut self, src: &mut BytesMut) -> std::io::Result<Option<BytesMut>> {
        if src.len() == 4 {
            self.header_alone = true;
        }
        let frame = self.inner.decode(src)?;
        Ok(frame.map(|mut f| {
            if std::mem::take(&mut self.header_alone) && !f.is_empty() {
                f.truncate(f.len() - 1);
            }
            f
        }))
    }
}

impl Encoder<Bytes> for LosesALastByte {
    type Error = std::io::Error;
    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> std::io::Result<()> {
        self.inner.encode(item, dst)
    }
}

fn make() -> LosesALastByte {
    LosesALastByte {
        inner: LengthDelimitedCodec::new(),
        header_alone: false,
    }
}

#[test]
fn a_report_names_the_frame_the_read_and_the_first_difference() {
    let failure = Harness::new()
        .persistence(false)
        .check_roundtrip(make, strategies::byte_frames())
        .unwrap_err();
    let report = failure.to_string();
    eprintln!("{report}");
    // The headline, in the frames' terms:
    //   frame 0: read 0 ended exactly between its 4-byte header and its
    //   N-byte body; it came out different from the frame sent
    assert!(
        failure
            .headline()
            .contains("exactly between its 4-byte header"),
        "{report}"
    );
    assert!(
        matches!(failure.kind(), FailureKind::WrongFrame { .. }),
        "{report}"
    );
    // Then the chunking (replayable text), the reads, the layout, how the
    // decoder stopped, and the frames sent beside the items decoded, with
    // the first difference pointed at.
    for line in [
        "chunking: ",
        "reads (",
        "encoded frames (",
        "first difference at character",
    ] {
        assert!(report.contains(line), "no {line:?} in\n{report}");
    }
    // The same facts as values.
    assert_eq!(failure.property(), Some(Property::RoundTrip));
    let FailureKind::WrongFrame { frame } = *failure.kind() else {
        unreachable!()
    };
    assert_ne!(failure.sent()[frame], failure.decoded()[frame]);
    assert!(!failure.reads().is_empty() && !failure.bytes().is_empty());
    // The bytes and the reads replay the case exactly.
    let (items, _) = framecheck::decode_in_reads(&mut make(), failure.bytes(), failure.reads());
    let decoded: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
    assert_eq!(decoded, failure.decoded());
    // The chunking is text that parses back (for `Harness::chunking`).
    let chunking: Chunking = failure.chunking().unwrap().to_string().parse().unwrap();
    assert_eq!(Some(&chunking), failure.chunking());
}

#[test]
fn a_fixed_chunking_looks_at_one_case() {
    // Reads end after each frame's 4-byte header: the bug, every case.
    let after_header = Chunking::new(vec![Cut::At(Point::IntoFrame {
        frame: 0,
        offset: 4,
    })]);
    let failure = Harness::new()
        .persistence(false)
        .cases(8)
        .chunking(after_header)
        .check_roundtrip(make, strategies::byte_frames())
        .unwrap_err();
    assert!(
        matches!(failure.kind(), FailureKind::WrongFrame { frame: 0 }),
        "{failure}"
    );
}
