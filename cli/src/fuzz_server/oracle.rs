//! The oracles: one run of a case against a running server, judged
//! without any spec of the server's replies.
//!
//! 1. **Segmentation invariance** ([`Mode::Compare`]): replies and the
//!    connection's end, messages sent whole vs cut, must agree.
//! 2. **Liveness**, after every case: the spawned process still runs, and a
//!    canary on a new connection is answered within the timeout.
//! 3. **Hostile survival**: after a hostile half-close the server closes
//!    the connection ([`Mode::Close`]); while a hostile client stalls, the
//!    canary is still answered ([`Mode::Stall`]).
//! 4. **Resources** (spawned servers): RSS growth during a stall, and
//!    descriptors left open after the case, past their thresholds.

use std::{
    thread,
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};

use super::{
    case::{Case, Mode},
    exchange::{CanaryError, Client, End},
    target::{usage, Usage},
};

/// The kinds of finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Replies (or the connection's end) changed with the segmentation.
    Segmentation,
    /// The spawned server exited.
    Crash,
    /// The connection was refused after the case (`--connect`: the server
    /// is gone or stopped accepting).
    Refused,
    /// The canary was not answered after the case.
    Hang,
    /// The canary was not answered while a hostile client stalled.
    Blocked,
    /// After a hostile half-close the server kept the connection open.
    NoClose,
    /// The server's RSS grew past the threshold during one case.
    Memory,
    /// The server held more descriptors after one case than before.
    Descriptors,
}

impl Kind {
    /// The oracle that reports this kind, in words.
    pub fn oracle(self) -> &'static str {
        match self {
            Kind::Segmentation => "segmentation invariance: replies and the connection's end must not depend on how the bytes were cut",
            Kind::Crash => "liveness: the spawned server must keep running",
            Kind::Refused => "liveness: the server must keep accepting connections",
            Kind::Hang => "liveness: a canary on a new connection must be answered within the timeout",
            Kind::Blocked => "hostile survival: one stalled client must not stop the server answering another",
            Kind::NoClose => "hostile survival: after the client half-closes mid-frame the server must close the connection",
            Kind::Memory => "resources: one case must not grow the server's RSS past the threshold",
            Kind::Descriptors => "resources: one case must not leave descriptors open",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::Segmentation => "segmentation",
            Kind::Crash => "crash",
            Kind::Refused => "refused",
            Kind::Hang => "hang",
            Kind::Blocked => "blocked",
            Kind::NoClose => "no-close",
            Kind::Memory => "memory",
            Kind::Descriptors => "descriptors",
        })
    }
}

/// What an oracle saw wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// The kind.
    pub kind: Kind,
    /// What should have happened.
    pub expected: String,
    /// What did.
    pub seen: String,
}

/// Thresholds of the resource oracle.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    /// RSS growth during one stalled case, bytes.
    pub rss_growth: u64,
    /// Descriptors left open by one case.
    pub fd_growth: usize,
    /// How long a stalled client holds its connection.
    pub stall: Duration,
}

/// The server as one case run sees it.
pub struct Server<'a> {
    /// How to reach it.
    pub client: Client,
    /// The spawned process's id, for `/proc`.
    pub pid: Option<u32>,
    /// How the spawned process ended, if it has.
    pub exited: &'a (dyn Fn() -> Option<String> + Sync),
    /// Its last stderr lines.
    pub stderr: &'a (dyn Fn() -> Vec<String> + Sync),
}

/// Runs `case` once and judges it; `None` when every oracle is content.
/// `alone` says the case has the server to itself (no other case in
/// flight): then the descriptor oracle runs, and a stall watches the RSS
/// for the whole stall window instead of stopping once it stops growing.
pub fn run_case(
    case: &Case,
    server: &Server<'_>,
    limits: &Thresholds,
    alone: bool,
) -> Option<Observation> {
    let client = server.client;
    let pause = Duration::from_micros(case.pause_us);
    let before = server.pid.and_then(usage);
    let mut seen = None;
    match case.mode {
        Mode::Compare => {
            if let Ok((r, sent)) = client.reference(&case.messages) {
                let pieces = if sent < case.messages.len() {
                    case.prefix(sent).pieces()
                } else {
                    case.pieces()
                };
                let cut = client.segmented(&pieces, pause);
                if let Ok(c) = cut {
                    if r != c {
                        seen = Some(Observation {
                            kind: Kind::Segmentation,
                            expected: format!("sent whole: {r}"),
                            seen: format!("cut: {c}"),
                        });
                    }
                }
            }
        }
        Mode::Close => {
            if let Ok(o) = client.segmented(&case.pieces(), pause) {
                if o.end == End::Open {
                    seen = Some(Observation {
                        kind: Kind::NoClose,
                        expected: "the server closes the connection after the client's half-close"
                            .into(),
                        seen: format!(
                            "{o} for {} ms after the half-close",
                            client.timeout.as_millis()
                        ),
                    });
                }
            }
        }
        Mode::Stall => {
            if let Ok(Some(stalled)) = client.send_pieces(&case.pieces(), pause) {
                seen = stall(&client, server.pid, before, limits, alone);
                drop(stalled);
            }
        }
    }
    // Liveness dominates: a crash explains any other symptom.
    if let Some(live) = liveness(server) {
        return Some(live);
    }
    if seen.is_none() && alone {
        seen = descriptors(server.pid, before, limits);
    }
    seen
}

fn stall(
    client: &Client,
    pid: Option<u32>,
    before: Option<Usage>,
    limits: &Thresholds,
    alone: bool,
) -> Option<Observation> {
    let blocked = client.canary().err().map(|e| Observation {
        kind: Kind::Blocked,
        expected: "the canary is answered while another client stalls".into(),
        seen: e.to_string(),
    });
    // A server busy allocating for a claim may answer late: memory growth,
    // the cause, is reported before the block.
    let (Some(pid), Some(before)) = (pid, before) else {
        return blocked;
    };
    // Watch the RSS for up to `limits.stall`; unless alone, stop early once
    // it has not grown by a MiB for a sixteenth of the window (a server
    // that is not allocating).
    // The window starts once the canary is answered (a server busy
    // allocating may answer it late), and the RSS is read at least once.
    let mut peak = before.rss;
    let watch = Instant::now();
    let mut last_growth = watch;
    loop {
        if let Some(u) = usage(pid) {
            if u.rss > peak + (1 << 20) {
                last_growth = Instant::now();
            }
            peak = peak.max(u.rss);
        }
        let done = watch.elapsed() >= limits.stall
            || (!alone && last_growth.elapsed() >= limits.stall / 16);
        if peak.saturating_sub(before.rss) > limits.rss_growth || done {
            break;
        }
        thread::sleep(Duration::from_millis(5));
    }
    let grew = peak.saturating_sub(before.rss);
    if grew <= limits.rss_growth {
        return blocked;
    }
    Some(Observation {
        kind: Kind::Memory,
        expected: format!("RSS grows by at most {} MiB", limits.rss_growth >> 20),
        seen: format!(
            "RSS grew by {} MiB ({} -> {} MiB) while one client stalled",
            grew >> 20,
            before.rss >> 20,
            peak >> 20
        ),
    })
}

fn descriptors(
    pid: Option<u32>,
    before: Option<Usage>,
    limits: &Thresholds,
) -> Option<Observation> {
    let (pid, before) = (pid?, before?);
    // Give the server a moment to close what the client closed.
    let mut after = usage(pid)?;
    for _ in 0..10 {
        if after.fds <= before.fds + limits.fd_growth {
            return None;
        }
        thread::sleep(Duration::from_millis(10));
        after = usage(pid)?;
    }
    Some(Observation {
        kind: Kind::Descriptors,
        expected: format!(
            "at most {} more open descriptors after the case",
            limits.fd_growth
        ),
        seen: format!("{} -> {} open descriptors", before.fds, after.fds),
    })
}

/// The liveness oracle alone: the process runs and a canary is answered.
pub fn liveness(server: &Server<'_>) -> Option<Observation> {
    let crash = |why: String| {
        // Let the stderr reader catch the last lines.
        thread::sleep(Duration::from_millis(30));
        let tail = (server.stderr)();
        Observation {
            kind: Kind::Crash,
            expected: "the server keeps running".into(),
            seen: if tail.is_empty() {
                format!("the server exited: {why}")
            } else {
                format!(
                    "the server exited: {why}; last stderr lines:\n  | {}",
                    tail.join("\n  | ")
                )
            },
        }
    };
    if let Some(why) = (server.exited)() {
        return Some(crash(why));
    }
    match server.client.canary() {
        Ok(_) => None,
        Err(e) => {
            // A dying process may refuse or ignore the canary before it has
            // exited: give it a moment to show its exit status.
            if server.pid.is_some() {
                for _ in 0..30 {
                    if let Some(why) = (server.exited)() {
                        return Some(crash(why));
                    }
                    thread::sleep(Duration::from_millis(10));
                }
            }
            let kind = match e {
                CanaryError::Refused(_) => Kind::Refused,
                CanaryError::NoReply { .. } | CanaryError::NotAccepted(_) => Kind::Hang,
            };
            Some(Observation {
                kind,
                expected: "a canary on a new connection is answered".into(),
                seen: e.to_string(),
            })
        }
    }
}
