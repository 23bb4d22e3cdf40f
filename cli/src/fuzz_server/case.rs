//! A test case: the messages of one conversation, where its writes end,
//! the pause after each write, and what the client does at the end. Cases
//! are plain data; the replay file stores one as it is.

use serde::{Deserialize, Serialize};

/// What the client does once its bytes are written, and so which oracle
/// judges the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Segmentation invariance: the messages are sent once one write each,
    /// waiting for each reply, and once cut at `cuts`; then the client
    /// half-closes. Replies and the way the connection ends must agree.
    Compare,
    /// Hostile: write the bytes cut at `cuts`, half-close, and expect the
    /// server to close the connection within the timeout.
    Close,
    /// Hostile: write the bytes cut at `cuts` and keep the connection open
    /// while a canary runs on another one (and the server's memory is
    /// watched); then close.
    Stall,
}

/// One message's bytes, stored as text when they are printable UTF-8 and
/// as hex otherwise (either form is read back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
enum Stored {
    Text { text: String },
    Hex { hex: String },
}

fn store(bytes: &[u8]) -> Stored {
    match std::str::from_utf8(bytes) {
        Ok(s) if s.chars().all(|c| !c.is_control() || c == '\n') => {
            Stored::Text { text: s.to_owned() }
        }
        _ => Stored::Hex { hex: hex(bytes) },
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Result<Vec<u8>, String> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if !s.len().is_multiple_of(2) {
        return Err(format!("hex string of odd length {}", s.len()));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|e| format!("bad hex at {i}: {e}")))
        .collect()
}

mod messages_serde {
    use super::*;
    use serde::{de::Error as _, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(m: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(m.iter().map(|b| store(b)))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        Vec::<Stored>::deserialize(d)?
            .into_iter()
            .map(|m| match m {
                Stored::Text { text } => Ok(text.into_bytes()),
                Stored::Hex { hex } => unhex(&hex).map_err(D::Error::custom),
            })
            .collect()
    }
}

/// One test case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// What the generator aimed at ("cut inside the length field", "negative
    /// header length", ...): the place findings are deduplicated by.
    pub aim: String,
    /// The oracle and the client's ending.
    pub mode: Mode,
    /// The messages, back to back on the wire (a hostile message may be
    /// anything).
    #[serde(with = "messages_serde")]
    pub messages: Vec<Vec<u8>>,
    /// Stream offsets where a write ends (ascending; the last write ends at
    /// the end of the stream).
    pub cuts: Vec<usize>,
    /// Pause after each write, in microseconds, so that the server's
    /// `recv` returns each piece alone.
    pub pause_us: u64,
}

impl Case {
    /// All messages back to back.
    pub fn stream(&self) -> Vec<u8> {
        self.messages.concat()
    }

    /// Where each message ends in [`Case::stream`].
    pub fn ends(&self) -> Vec<usize> {
        self.messages
            .iter()
            .scan(0, |at, m| {
                *at += m.len();
                Some(*at)
            })
            .collect()
    }

    /// The cuts that fall strictly inside the stream, sorted, deduplicated.
    pub fn clean_cuts(&self) -> Vec<usize> {
        let total = self.stream().len();
        let mut c: Vec<usize> = self
            .cuts
            .iter()
            .copied()
            .filter(|&c| c > 0 && c < total)
            .collect();
        c.sort_unstable();
        c.dedup();
        c
    }

    /// The case without message `i`: cuts inside it are dropped, later
    /// ones moved back.
    pub fn without_message(&self, i: usize) -> Case {
        self.resized(i, 0, None)
    }

    /// The case with message `i` replaced by `new` (cuts past its new end
    /// dropped, later ones moved).
    pub fn with_message(&self, i: usize, new: Vec<u8>) -> Case {
        self.resized(i, new.len(), Some(new))
    }

    fn resized(&self, i: usize, new_len: usize, new: Option<Vec<u8>>) -> Case {
        let ends = self.ends();
        let start = if i == 0 { 0 } else { ends[i - 1] };
        let end = ends[i];
        let cuts = self
            .cuts
            .iter()
            .filter_map(|&c| {
                if c <= start {
                    Some(c)
                } else if c < end {
                    (c - start < new_len).then_some(c)
                } else {
                    Some(c + new_len - (end - start))
                }
            })
            .collect();
        let mut messages = self.messages.clone();
        match new {
            Some(m) => messages[i] = m,
            None => {
                messages.remove(i);
            }
        }
        let mut c = Case {
            messages,
            cuts,
            ..self.clone()
        };
        c.cuts = c.clean_cuts();
        c
    }

    /// The case with only its first `n` messages.
    pub fn prefix(&self, n: usize) -> Case {
        let mut c = Case {
            messages: self.messages[..n.min(self.messages.len())].to_vec(),
            ..self.clone()
        };
        c.cuts = c.clean_cuts();
        c
    }

    /// The pieces the cut run writes.
    pub fn pieces(&self) -> Vec<Vec<u8>> {
        let stream = self.stream();
        let cuts = self.clean_cuts();
        crate::cut::pieces(&stream, &cuts)
            .map(<[u8]>::to_vec)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case() -> Case {
        Case {
            aim: "x".into(),
            mode: Mode::Compare,
            messages: vec![b"abcd".to_vec(), b"\x00\xffz".to_vec(), b"ef".to_vec()],
            cuts: vec![1, 5, 7, 8],
            pause_us: 100,
        }
    }

    #[test]
    fn a_case_survives_json_with_text_and_hex_messages() {
        let c = case();
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains(r#"{"text":"abcd"}"#), "{json}");
        assert!(json.contains(r#"{"hex":"00ff7a"}"#), "{json}");
        assert_eq!(serde_json::from_str::<Case>(&json).unwrap(), c);
    }

    #[test]
    fn removing_a_message_moves_the_cuts_after_it() {
        let c = case().without_message(1);
        assert_eq!(c.messages, [b"abcd".to_vec(), b"ef".to_vec()]);
        assert_eq!(c.cuts, [1, 4, 5]);
        let c = case().with_message(0, b"ab".to_vec());
        assert_eq!(c.cuts, [1, 3, 5, 6]);
        assert_eq!(c.pieces().concat(), c.stream());
    }
}
