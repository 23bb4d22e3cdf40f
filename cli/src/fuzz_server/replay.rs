//! The replay file, and the Python regression client printed with each
//! finding.
//!
//! A replay file is JSON a person can read and edit:
//!
//! ```text
//! {
//!   "framecheck": "fuzz-server replay 1",
//!   "kind": "segmentation",
//!   "oracle": "segmentation invariance: ...",
//!   "place": "cut in the length field",
//!   "format": "json-header",
//!   "seed": 1, "case_index": 17, "timeout_ms": 1000,
//!   "expected": "sent whole: 24 reply bytes ...",
//!   "seen": "cut: 0 reply bytes \"\", then the connection closed",
//!   "reproduced": 10, "replays": 10,
//!   "case": {"aim": "...", "mode": "compare",
//!            "messages": [{"hex": "10000000..."}], "cuts": [2], "pause_us": 1000},
//!   "original": { ...the case as generated, before minimising... }
//! }
//! ```
//!
//! `framecheck replay` reads `format`, `timeout_ms`, `kind` and `case`; a
//! message is `{"text": "..."}` or `{"hex": "..."}`, cuts are offsets in
//! the messages laid back to back.

use std::{io, path::Path};

use serde::{Deserialize, Serialize};

use super::{
    case::{hex, Case, Mode},
    format::Format,
    oracle::Kind,
};

/// The `framecheck` field's value.
pub const MAGIC: &str = "fuzz-server replay 1";

/// One finding, as written to `--out`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayFile {
    /// Always [`MAGIC`].
    pub framecheck: String,
    /// The finding's kind.
    pub kind: Kind,
    /// The oracle, in words.
    pub oracle: String,
    /// Where in the conversation (deduplication key with `kind`).
    pub place: String,
    /// The message format.
    pub format: Format,
    /// The campaign's seed.
    pub seed: u64,
    /// The case's number in the campaign.
    pub case_index: u64,
    /// Reply, close and canary timeout.
    pub timeout_ms: u64,
    /// What should have happened.
    pub expected: String,
    /// What happened.
    pub seen: String,
    /// Replays of the minimal case that showed the kind again.
    pub reproduced: usize,
    /// Replays run.
    pub replays: usize,
    /// The minimal case.
    pub case: Case,
    /// The case as generated.
    pub original: Case,
}

impl ReplayFile {
    /// Reads a replay file.
    ///
    /// # Errors
    ///
    /// Unreadable file, bad JSON, or not a replay file.
    pub fn load(path: &Path) -> io::Result<ReplayFile> {
        let text = std::fs::read(path)?;
        let file: ReplayFile = serde_json::from_slice(&text).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        })?;
        if file.framecheck != MAGIC {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{}: not a fuzz-server replay file ({:?})",
                    path.display(),
                    file.framecheck
                ),
            ));
        }
        Ok(file)
    }

    /// Writes it, pretty-printed.
    ///
    /// # Errors
    ///
    /// The write error.
    pub fn save(&self, path: &Path) -> io::Result<()> {
        let mut text = serde_json::to_vec_pretty(self).map_err(io::Error::other)?;
        text.push(b'\n');
        std::fs::write(path, text)
    }

    /// A file name for it: kind and place.
    pub fn file_name(&self) -> String {
        let slug: String = self
            .place
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        let slug: Vec<&str> = slug.split('-').filter(|s| !s.is_empty()).collect();
        format!("{}-{}.json", self.kind, slug.join("-"))
    }

    /// A short Python client that replays the minimal bytes against a
    /// server on `127.0.0.1:PORT` and exits 1 while the bug is there.
    pub fn python(&self) -> String {
        python_client(self.kind, self.format, &self.case, &self.place)
    }
}

fn py_bytes(b: &[u8]) -> String {
    format!("bytes.fromhex(\"{}\")", hex(b))
}

/// See [`ReplayFile::python`].
pub fn python_client(kind: Kind, format: Format, case: &Case, place: &str) -> String {
    let pieces: Vec<String> = case
        .pieces()
        .iter()
        .map(|p| format!("    {},", py_bytes(p)))
        .collect();
    let messages: Vec<String> = case
        .messages
        .iter()
        .map(|m| format!("    {},", py_bytes(m)))
        .collect();
    let mut py = format!(
        r#"#!/usr/bin/env python3
# framecheck fuzz-server finding: {kind} ({place}).
# Usage: python3 regress.py PORT   (exits 1 while the bug is there)
import socket, sys, time

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 9999
PAUSE = {pause}  # seconds after each write, so each recv() gets one piece
CANARY = {canary}
MESSAGES = [
{messages}
]
PIECES = [
{pieces}
]

def connect():
    s = socket.create_connection(("127.0.0.1", PORT), timeout=2)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s

def send_pieces(pieces):
    s = connect()
    time.sleep(PAUSE)
    for p in pieces:
        try:
            s.sendall(p)
        except OSError:
            break  # the server closed the connection
        time.sleep(PAUSE)
    return s

def half_close(s):
    try:
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass  # already closed by the server

def drain(s):
    """Reply bytes until the server closes; None if it stays open."""
    got = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return got
            got += d
    except socket.timeout:
        return None
    except OSError:
        return got  # reset by the server

def canary_answered():
    try:
        c = connect()
        c.sendall(CANARY)
        return len(c.recv(65536)) > 0
    except OSError:
        return False

"#,
        pause = case.pause_us as f64 / 1e6,
        canary = py_bytes(&format.canary()),
        messages = messages.join("\n"),
        pieces = pieces.join("\n"),
    );
    let check = match case.mode {
        Mode::Compare => {
            r#"# Reference: each message in its own write, a pause after each.
ref = send_pieces(MESSAGES)
half_close(ref)
want = drain(ref)
cut = send_pieces(PIECES)
half_close(cut)
got = drain(cut)
if got != want:
    sys.exit(f"FAIL: sent whole the server replied {want!r}, cut it replied {got!r}")
"#
        }
        Mode::Close => {
            r#"s = send_pieces(PIECES)
half_close(s)
if drain(s) is None:
    sys.exit("FAIL: the server kept the connection open after the half-close")
"#
        }
        Mode::Stall => {
            r#"s = send_pieces(PIECES)  # and stall: keep it open
if not canary_answered():
    sys.exit("FAIL: the canary got no reply while another client stalled")
s.close()
"#
        }
    };
    py.push_str(check);
    py.push_str(
        r#"time.sleep(0.1)
if not canary_answered():
    sys.exit("FAIL: the server no longer answers a valid message")
print("OK")
"#,
    );
    py
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replay_file_reads_back_and_names_itself() {
        let case = Case {
            aim: "cut inside the length field of message 0".into(),
            mode: Mode::Compare,
            messages: vec![Format::JsonHeader.encode(b"hi")],
            cuts: vec![2],
            pause_us: 1000,
        };
        let f = ReplayFile {
            framecheck: MAGIC.into(),
            kind: Kind::Segmentation,
            oracle: Kind::Segmentation.oracle().into(),
            place: "cut in the length field".into(),
            format: Format::JsonHeader,
            seed: 1,
            case_index: 3,
            timeout_ms: 1000,
            expected: "a".into(),
            seen: "b".into(),
            reproduced: 10,
            replays: 10,
            case: case.clone(),
            original: case,
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(f.file_name());
        assert_eq!(f.file_name(), "segmentation-cut-in-the-length-field.json");
        f.save(&path).unwrap();
        assert_eq!(ReplayFile::load(&path).unwrap(), f);
        let py = f.python();
        assert!(py.contains("bytes.fromhex(\"1000\")"), "{py}");
        assert!(py.contains("half_close(cut)"), "{py}");
    }
}
