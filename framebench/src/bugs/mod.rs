//! The bugs: one module per bug, each a codec with a `buggy()` and a
//! `fixed()` constructor, and the list the runner goes through.

pub mod bun_resp;
pub mod cmark;
pub mod eredis;
pub mod futures_codec;
pub mod h2_hpack;
pub mod mqttrs;
pub mod rustls;
pub mod snappy;
pub mod spork;
pub mod tokio_adjust;
pub mod tokio_num_skip;
pub mod tonic;
pub mod vegur;

use bytes::Bytes;
use framecheck::strategies::{bodies, bodies_of, body_lens, byte_frames, lines, FRAMES_PER_CASE};
use proptest::{
    collection::vec,
    prelude::{any, Strategy},
    sample::select,
    strategy::BoxedStrategy,
};

use crate::subject::{CodecSubject, Subject};

/// One re-created bug.
pub struct Bug {
    /// Short id, used on the command line and by the fuzz target
    /// (`FRAMEBENCH_BUG`).
    pub id: &'static str,
    /// Where it was reported: repository and issue or pull request.
    pub tracker: &'static str,
    /// Its mechanism, in a few words.
    pub shape: &'static str,
    /// The codec pair and its frames.
    pub subject: Box<dyn Subject>,
}

impl std::fmt::Debug for Bug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bug")
            .field("id", &self.id)
            .field("tracker", &self.tracker)
            .finish_non_exhaustive()
    }
}

/// One to eight byte frames (framecheck's [`FRAMES_PER_CASE`], as every
/// frame strategy here) of framecheck's body lengths, clamped to `max`
/// (the codec's limit): the clamp keeps the edge sizes and makes `max`
/// itself common.
fn frames_up_to(max: usize) -> BoxedStrategy<Vec<Bytes>> {
    vec(
        bodies_of(body_lens().prop_map(move |n| n.min(max))),
        FRAMES_PER_CASE,
    )
    .boxed()
}

fn bug<C, I>(
    id: &'static str,
    tracker: &'static str,
    shape: &'static str,
    make: fn(bool) -> C,
    frames: fn() -> BoxedStrategy<Vec<I>>,
) -> Bug
where
    C: framecheck::TestableCodec<I> + 'static,
    <C as tokio_util::codec::Decoder>::Item: PartialEq,
    I: Clone + std::fmt::Debug + 'static,
{
    Bug {
        id,
        tracker,
        shape,
        subject: Box::new(CodecSubject::new(make, frames)),
    }
}

/// Picks the buggy or the fixed constructor.
macro_rules! twins {
    ($t:path) => {
        |fixed| {
            use $t as T;
            if fixed {
                T::fixed()
            } else {
                T::buggy()
            }
        }
    };
}

/// Every bug, in the order of the report.
pub fn all() -> Vec<Bug> {
    vec![
        bug(
            "futures-codec-34",
            "matthunz/futures-codec PR #34",
            "length consumed before the frame is complete; underflow on a short rest",
            twins!(futures_codec::LengthCodec),
            || byte_frames().boxed(),
        ),
        bug(
            "mqttrs-8",
            "00imvj00/mqttrs issue #8",
            "header consumed for a packet that is not all there",
            twins!(mqttrs::PacketCodec),
            || byte_frames().boxed(),
        ),
        bug(
            "tonic-76",
            "tonic (grpc/grpc-rust) issue #76, PR #83",
            "completeness checked against the body length without the header",
            twins!(tonic::GrpcCodec),
            || byte_frames().boxed(),
        ),
        bug(
            "tokio-8348",
            "tokio-rs/tokio issue #8348, PR #8350",
            "head kept in the frame but not counted: tail leaks into the next frame",
            twins!(tokio_num_skip::HeadKeepingCodec),
            || frames_up_to(tokio_num_skip::MAX),
        ),
        bug(
            "tokio-4815",
            "tokio-rs/tokio issue #4815",
            "limit checked before the length adjustment: largest frames refused",
            twins!(tokio_adjust::AdjustedCodec),
            || frames_up_to(tokio_adjust::MAX),
        ),
        bug(
            "h2-589",
            "hyperium/h2 PR #589",
            "first field consumed while the second waits for bytes",
            twins!(h2_hpack::HpackCodec),
            || {
                let s = || bodies_of(body_lens().prop_map(|n| n.min(h2_hpack::MAX)));
                vec(
                    (s(), s()).prop_map(|(name, value)| h2_hpack::Field { name, value }),
                    FRAMES_PER_CASE,
                )
                .boxed()
            },
        ),
        bug(
            "bun-34040",
            "oven-sh/bun PR #34040",
            "torn body of two reply kinds treated as fatal",
            twins!(bun_resp::RespCodec),
            || {
                use bun_resp::{Kind, Reply};
                let kind = select(&[Kind::Bulk, Kind::Verbatim, Kind::BlobError][..]);
                vec(
                    (kind, bodies()).prop_map(|(kind, body)| Reply { kind, body }),
                    FRAMES_PER_CASE,
                )
                .boxed()
            },
        ),
        bug(
            "eredis-121",
            "wooga/eredis PR #121",
            "continuation of a split line forgets the reply's kind",
            twins!(eredis::LineCodec),
            || {
                (lines(), vec(any::<bool>(), 8))
                    .prop_map(|(lines, errors)| {
                        lines
                            .into_iter()
                            .zip(errors)
                            .map(|(l, e)| {
                                if e {
                                    eredis::Line::Error(l)
                                } else {
                                    eredis::Line::Status(l)
                                }
                            })
                            .collect()
                    })
                    .boxed()
            },
        ),
        bug(
            "spork-71",
            "janet-lang/spork PR #71",
            "terminator searched for only in the newest bytes",
            twins!(spork::HeaderBlockCodec),
            || {
                let block = vec("[A-Za-z-]{1,16}: [ -~]{0,60}", 1..8)
                    .prop_map(|lines| Bytes::from(lines.join("\r\n")));
                vec(block, FRAMES_PER_CASE).boxed()
            },
        ),
        bug(
            "cmark-117",
            "commonmark/cmark issue #117",
            "CR ends a read, its LF starts the next: two line ends",
            twins!(cmark::AnyNewlineCodec),
            || lines().boxed(),
        ),
        bug(
            "rustls-2159",
            "rustls/rustls issue #2159",
            "processed records kept when the next is incomplete: replayed",
            twins!(rustls::DeframerCodec),
            || frames_up_to(rustls::MAX),
        ),
        bug(
            "snappy-42",
            "BurntSushi/rust-snappy issue #42",
            "end of stream inside a header read as a clean end",
            twins!(snappy::ChunkCodec),
            || frames_up_to(snappy::MAX),
        ),
        bug(
            "vegur-82",
            "heroku/vegur PR #82",
            "CR as the last byte buffered read as a CR without LF",
            twins!(vegur::ChunkedCodec),
            || {
                vec(
                    bodies_of(body_lens().prop_map(|n| n.max(1))),
                    FRAMES_PER_CASE,
                )
                .boxed()
            },
        ),
    ]
}

/// The bug with this id.
pub fn by_id(id: &str) -> Option<Bug> {
    all().into_iter().find(|b| b.id == id)
}
