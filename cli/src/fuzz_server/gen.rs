//! The conversation generator: case `i` of seed `s` is always the same
//! case, so a campaign replays from its seed.
//!
//! Three cases in four check segmentation invariance: one to three
//! messages (from `--seeds` captures or made up), cut by one of the aimed
//! plans below or by the shared seeded [`cut`](crate::cut) cutter. The
//! fourth is hostile, drawn from the format's model (for `json-header`:
//! negative and huge header lengths, headers that are not JSON or lack
//! `data_size`, huge `data_size`, a large claim that then stalls, a stream
//! that stops inside a frame, a partial header that stalls).

use rand::{rngs::StdRng, seq::IndexedRandom, Rng, SeedableRng};

use super::{
    case::{Case, Mode},
    format::{json_frame, Format},
};
use crate::cut::SeededCuts;

/// The claim a stalling hostile case makes, in bytes: large enough that a
/// server allocating it shows in its RSS.
pub const BIG_CLAIM: u64 = 256 << 20;

/// Makes cases from a seed.
#[derive(Debug, Clone)]
pub struct Generator {
    format: Format,
    seed: u64,
    pause_us: u64,
    seeds: Vec<Vec<u8>>,
}

impl Generator {
    /// A generator for `format`; `seeds` are messages from captured
    /// sessions, used as they are and as templates.
    pub fn new(format: Format, seed: u64, pause_us: u64, seeds: Vec<Vec<u8>>) -> Self {
        Generator {
            format,
            seed,
            pause_us,
            seeds,
        }
    }

    /// Case number `index`.
    pub fn case(&self, index: u64) -> Case {
        let mut rng = StdRng::seed_from_u64(self.seed ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        if rng.random_ratio(1, 4) {
            self.hostile(&mut rng)
        } else {
            self.segmented(&mut rng)
        }
    }

    fn body(&self, rng: &mut StdRng) -> Vec<u8> {
        let len = match rng.random_range(0..10) {
            0 => 0,
            1..=6 => rng.random_range(1..=40),
            7 | 8 => rng.random_range(41..=600),
            _ => rng.random_range(601..=4000),
        };
        (0..len)
            .map(|_| match self.format {
                Format::Lines => *b"abcdefghijklmnopqrstuvwxyz 0123456789{}\":"
                    .choose(rng)
                    .unwrap_or(&b'a'),
                _ if rng.random_ratio(1, 8) => rng.random(),
                _ => rng.random_range(b'a'..=b'z'),
            })
            .collect()
    }

    fn message(&self, rng: &mut StdRng) -> Vec<u8> {
        if !self.seeds.is_empty() && rng.random_ratio(1, 2) {
            return self.seeds.choose(rng).cloned().unwrap_or_default();
        }
        let body = self.body(rng);
        match self.format {
            Format::JsonHeader if rng.random_ratio(1, 3) => {
                let head = format!(
                    r#"{{"data_size": {}, "filename": "a{}.txt"}}"#,
                    body.len(),
                    rng.random_range(0..1000)
                );
                json_frame(head.as_bytes(), &body)
            }
            Format::Raw if body.is_empty() => b"x".to_vec(),
            f => f.encode(&body),
        }
    }

    fn segmented(&self, rng: &mut StdRng) -> Case {
        let n = match rng.random_range(0..6) {
            0..=2 => 1,
            3 | 4 => 2,
            _ => 3,
        };
        let messages: Vec<Vec<u8>> = (0..n).map(|_| self.message(rng)).collect();
        let mut case = Case {
            aim: String::new(),
            mode: Mode::Compare,
            messages,
            cuts: Vec::new(),
            pause_us: self.pause_us,
        };
        let ends = case.ends();
        let total = *ends.last().unwrap_or(&0);
        let i = rng.random_range(0..n);
        let start = if i == 0 { 0 } else { ends[i - 1] };
        let head = self.format.head_len(&case.messages[i]);
        let len = case.messages[i].len();
        let (aim, cuts): (String, Vec<usize>) = match rng.random_range(0..7) {
            0 if head > 1 => {
                let k = rng.random_range(1..head.clamp(2, 4));
                (
                    format!("cut inside the length field of message {i}"),
                    vec![start + k],
                )
            }
            1 if head > 4 => {
                let k = rng.random_range(5..head.max(6));
                (
                    format!("cut inside the header of message {i}"),
                    vec![start + 4, start + k],
                )
            }
            2 if head > 0 && head < len => (
                format!("cut between header and body of message {i}"),
                vec![start + head],
            ),
            3 if len > 1 => (
                format!("cut one byte before the end of message {i}"),
                vec![start + len - 1],
            ),
            4 => {
                let k = len.min(rng.random_range(4..=12));
                (
                    format!("one-byte writes through the first {k} bytes of message {i}"),
                    (1..=k).map(|o| start + o).collect(),
                )
            }
            5 if n > 1 => (format!("{n} messages glued into one write"), Vec::new()),
            _ => {
                // At most about 32 writes, so that a case stays short.
                let min = (total / 32).max(1);
                let max = rng.random_range(1..=16).max(min);
                let mut cutter = SeededCuts::new(min, max, rng.random());
                (
                    format!("seeded cuts of {min}..={max} bytes"),
                    cutter.split(0, total),
                )
            }
        };
        case.aim = aim;
        case.cuts = cuts;
        case.cuts = case.clean_cuts();
        case
    }

    fn hostile(&self, rng: &mut StdRng) -> Case {
        let prefix: Vec<Vec<u8>> = if rng.random_ratio(1, 3) {
            vec![self.message(rng)]
        } else {
            Vec::new()
        };
        let valid = self.message(rng);
        let (aim, bytes, mode) = match self.format {
            Format::JsonHeader => json_hostile(rng, valid),
            Format::Length => length_hostile(rng, valid),
            Format::Lines => lines_hostile(rng, valid),
            Format::Raw => raw_hostile(rng, valid),
        };
        let mut messages = prefix;
        let at = messages.iter().map(Vec::len).sum::<usize>();
        messages.push(bytes);
        let last = messages.last().map_or(0, Vec::len);
        // Hostile bytes go out in two writes when they can: the header,
        // then the rest.
        let head = self
            .format
            .head_len(messages.last().map_or(&[][..], Vec::as_slice));
        let cuts = if head > 0 && head < last {
            vec![at, at + head]
        } else {
            vec![at]
        };
        let mut case = Case {
            aim,
            mode,
            messages,
            cuts,
            pause_us: self.pause_us,
        };
        case.cuts = case.clean_cuts();
        case
    }
}

type Hostile = (String, Vec<u8>, Mode);

fn truncated(rng: &mut StdRng, valid: Vec<u8>, what: &str) -> Hostile {
    let keep = rng.random_range(1..valid.len().max(2));
    let mut v = valid;
    v.truncate(keep);
    (
        format!("stream stops inside a {what}, then half-closes"),
        v,
        Mode::Close,
    )
}

fn stall_partial(rng: &mut StdRng, valid: Vec<u8>, head: usize) -> Hostile {
    let keep = rng.random_range(1..head.max(2)).min(valid.len());
    (
        "part of a header, then a stall while the canary runs".into(),
        valid[..keep].to_vec(),
        Mode::Stall,
    )
}

fn json_hostile(rng: &mut StdRng, valid: Vec<u8>) -> Hostile {
    let close = |aim: &str, b: Vec<u8>| (aim.to_owned(), b, Mode::Close);
    match rng.random_range(0..9) {
        0 => {
            let n = *[-1i32, -5, -4096, i32::MIN].choose(rng).unwrap_or(&-1);
            let mut b = n.to_le_bytes().to_vec();
            b.extend_from_slice(br#"{"data_size": 0}"#);
            close("negative header length", b)
        }
        1 => {
            let n = *[i32::MAX, 1 << 24, 70_000].choose(rng).unwrap_or(&i32::MAX);
            let mut b = n.to_le_bytes().to_vec();
            b.extend_from_slice(br#"{"data_size": 0}"#);
            close("huge header length", b)
        }
        2 => {
            let head: &[u8] = [
                &b"not json"[..],
                b"{\"data_size\": ",
                b"[1, 2, 3]",
                b"\"data_size\"",
                b"\xff\xfe{}",
                b"{data_size: 3}",
            ]
            .choose(rng)
            .copied()
            .unwrap_or(b"not json");
            close("header that is not a JSON object", json_frame(head, b"abc"))
        }
        3 => {
            let head: &[u8] = [
                &br#"{"filename": "a.txt"}"#[..],
                br#"{}"#,
                br#"{"data_size": "3"}"#,
                br#"{"data_size": -3}"#,
                br#"{"data_size": 3.5}"#,
            ]
            .choose(rng)
            .copied()
            .unwrap_or(b"{}");
            close("header without a valid data_size", json_frame(head, b"abc"))
        }
        4 => {
            let n = *[
                "1099511627776",
                "9223372036854775807",
                "18446744073709551615",
                "1e30",
            ]
            .choose(rng)
            .unwrap_or(&"1099511627776");
            let head = format!(r#"{{"data_size": {n}}}"#);
            close("huge data_size", json_frame(head.as_bytes(), b"abc"))
        }
        5 => {
            let head = format!(r#"{{"data_size": {BIG_CLAIM}}}"#);
            (
                "large data_size claim, then a stall".into(),
                json_frame(head.as_bytes(), b"abc"),
                Mode::Stall,
            )
        }
        6 | 7 => truncated(rng, valid, "frame"),
        _ => {
            let head = Format::JsonHeader.head_len(&valid);
            stall_partial(rng, valid, head)
        }
    }
}

fn length_hostile(rng: &mut StdRng, valid: Vec<u8>) -> Hostile {
    match rng.random_range(0..5) {
        0 => {
            let n = *[u32::MAX, 1 << 31, 1 << 30]
                .choose(rng)
                .unwrap_or(&u32::MAX);
            let mut b = n.to_be_bytes().to_vec();
            b.extend_from_slice(b"abc");
            ("huge length".into(), b, Mode::Close)
        }
        1 => {
            let mut b = (BIG_CLAIM as u32).to_be_bytes().to_vec();
            b.extend_from_slice(b"abc");
            ("large length claim, then a stall".into(), b, Mode::Stall)
        }
        2 | 3 => truncated(rng, valid, "frame"),
        _ => stall_partial(rng, valid, 4),
    }
}

fn lines_hostile(rng: &mut StdRng, valid: Vec<u8>) -> Hostile {
    match rng.random_range(0..4) {
        0 => (
            "a long line without its newline, then a half-close".into(),
            vec![b'x'; rng.random_range(2000..70_000)],
            Mode::Close,
        ),
        1 => (
            "binary bytes and a lone carriage return in a line".into(),
            b"\x00\xff\r\x1b[0m\n".to_vec(),
            Mode::Close,
        ),
        2 => truncated(rng, valid, "line"),
        _ => (
            "part of a line, then a stall while the canary runs".into(),
            b"hel".to_vec(),
            Mode::Stall,
        ),
    }
}

fn raw_hostile(rng: &mut StdRng, valid: Vec<u8>) -> Hostile {
    match rng.random_range(0..3) {
        0 => ("binary bytes".into(), (0..=255u8).collect(), Mode::Close),
        1 => ("64 KiB in one go".into(), vec![b'x'; 65_536], Mode::Close),
        _ => (
            "a message, then a stall while the canary runs".into(),
            valid,
            Mode::Stall,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_and_index_give_the_same_case() {
        let g = Generator::new(Format::JsonHeader, 7, 100, Vec::new());
        for i in 0..200 {
            assert_eq!(g.case(i), g.case(i));
        }
        let h = Generator::new(Format::JsonHeader, 8, 100, Vec::new());
        assert!((0..20).any(|i| g.case(i) != h.case(i)));
    }

    #[test]
    fn seed_messages_from_a_capture_are_used_as_they_are() {
        let mut capture = json_frame(br#"{"data_size": 4, "user": "ann"}"#, b"ping");
        capture.extend(Format::JsonHeader.encode(b"pong"));
        let seeds = Format::JsonHeader.split(&capture);
        assert_eq!(seeds.len(), 2);
        let g = Generator::new(Format::JsonHeader, 3, 100, seeds.clone());
        let used = (0..100)
            .filter(|&i| g.case(i).messages.iter().any(|m| seeds.contains(m)))
            .count();
        assert!(used > 20, "{used}");
    }

    #[test]
    fn every_kind_of_case_comes_up_and_cuts_stay_inside() {
        for format in [
            Format::JsonHeader,
            Format::Length,
            Format::Lines,
            Format::Raw,
        ] {
            let g = Generator::new(format, 1, 100, Vec::new());
            let cases: Vec<Case> = (0..400).map(|i| g.case(i)).collect();
            for mode in [Mode::Compare, Mode::Close, Mode::Stall] {
                assert!(cases.iter().any(|c| c.mode == mode), "{format} {mode:?}");
            }
            for c in &cases {
                assert_eq!(c.cuts, c.clean_cuts(), "{c:?}");
            }
            if format == Format::JsonHeader {
                for aim in ["length field", "glued", "negative header length", "stall"] {
                    assert!(cases.iter().any(|c| c.aim.contains(aim)), "{aim}");
                }
            }
        }
    }
}
