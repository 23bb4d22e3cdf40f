//! The minimiser: fewest messages, then fewest cuts, then shortest bytes,
//! keeping the same finding kind. Every try is one run of the candidate
//! (the caller restarts a spawned server before each), accepted only if it
//! shows the same kind again.

use std::time::{Duration, Instant};

use super::{case::Case, format::Format};

/// Limits on the minimiser's work.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Most tries.
    pub tries: usize,
    /// Most time.
    pub time: Duration,
}

/// What minimising did.
#[derive(Debug, Clone)]
pub struct Minimised {
    /// The smallest case that still showed the kind.
    pub case: Case,
    /// Tries run.
    pub tries: usize,
}

/// Shrinks `case` while `reproduces` says a candidate still shows the
/// finding.
pub fn minimise(
    case: Case,
    format: Format,
    budget: Budget,
    mut reproduces: impl FnMut(&Case) -> bool,
) -> Minimised {
    let started = Instant::now();
    let mut tries = 0usize;
    let mut best = case;
    let out_of_budget = |tries: &mut usize| {
        *tries += 1;
        *tries > budget.tries || started.elapsed() > budget.time
    };
    let mut changed = true;
    while changed {
        changed = false;
        // Fewest messages.
        let mut i = 0;
        while best.messages.len() > 1 && i < best.messages.len() {
            if out_of_budget(&mut tries) {
                return Minimised {
                    case: best,
                    tries: tries - 1,
                };
            }
            let candidate = best.without_message(i);
            if reproduces(&candidate) {
                best = candidate;
                changed = true;
            } else {
                i += 1;
            }
        }
        // Fewest cuts: all at once first, then one at a time.
        if best.cuts.len() > 1 {
            if out_of_budget(&mut tries) {
                return Minimised {
                    case: best,
                    tries: tries - 1,
                };
            }
            let candidate = Case {
                cuts: Vec::new(),
                ..best.clone()
            };
            if reproduces(&candidate) {
                best = candidate;
                changed = true;
            }
        }
        let mut i = 0;
        while i < best.cuts.len() {
            if out_of_budget(&mut tries) {
                return Minimised {
                    case: best,
                    tries: tries - 1,
                };
            }
            let mut cuts = best.cuts.clone();
            cuts.remove(i);
            let candidate = Case {
                cuts,
                ..best.clone()
            };
            if reproduces(&candidate) {
                best = candidate;
                changed = true;
            } else {
                i += 1;
            }
        }
        // Shortest bytes: bodies cut to nothing, one byte, half.
        for i in 0..best.messages.len() {
            loop {
                let msg = &best.messages[i];
                let candidates = shorter(format, msg);
                let mut shrunk = false;
                for m in candidates {
                    if out_of_budget(&mut tries) {
                        return Minimised {
                            case: best,
                            tries: tries - 1,
                        };
                    }
                    let candidate = best.with_message(i, m);
                    if reproduces(&candidate) {
                        best = candidate;
                        changed = true;
                        shrunk = true;
                        break;
                    }
                }
                if !shrunk {
                    break;
                }
            }
        }
    }
    Minimised { case: best, tries }
}

/// Shorter versions of `msg`, shortest first: whole messages with a
/// shorter body, or for bytes that are no whole message, a shorter prefix.
fn shorter(format: Format, msg: &[u8]) -> Vec<Vec<u8>> {
    let head = format.head_len(msg);
    let body = msg.len() - head;
    let lens = [0, 1, body / 2];
    let mut out: Vec<Vec<u8>> = lens
        .iter()
        .filter_map(|&l| format.with_body_len(msg, l))
        .collect();
    if out.is_empty() && msg.len() > 1 {
        // Not a whole message (hostile bytes): one byte, then half.
        for keep in [1, msg.len() / 2] {
            if keep > 0 && keep < msg.len() {
                out.push(msg[..keep].to_vec());
            }
        }
    }
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz_server::case::Mode;

    #[test]
    fn minimising_keeps_only_what_the_finding_needs() {
        let f = Format::Length;
        let case = Case {
            aim: "x".into(),
            mode: Mode::Compare,
            messages: vec![
                f.encode(b"hello"),
                f.encode(b"a longer body"),
                f.encode(b"xy"),
            ],
            cuts: vec![2, 9, 12, 20],
            pause_us: 0,
        };
        // The "bug": a cut inside some message's length field.
        let buggy = |c: &Case| {
            let ends = c.ends();
            c.clean_cuts().iter().any(|&cut| {
                let start = ends.iter().rev().find(|&&e| e <= cut).copied().unwrap_or(0);
                cut - start < 4 && cut != start
            })
        };
        assert!(buggy(&case));
        let m = minimise(
            case,
            f,
            Budget {
                tries: 100,
                time: Duration::from_secs(5),
            },
            buggy,
        );
        assert_eq!(m.case.messages, [f.encode(b"")]);
        assert_eq!(m.case.cuts, [3]);
    }
}
