//! Rate-limited warnings: a message that repeats is logged once, and the
//! repeats are counted and reported when the window closes ("accept
//! failed: too many open files (x1700 more in the last 60 s)").

use std::{
    sync::{Mutex, OnceLock},
    time::Duration,
};

use tokio::time::Instant;

/// How long a window lasts: 60 s, or `FRAMECHECK_LOG_WINDOW_MS` (for tests).
fn window() -> Duration {
    static WINDOW: OnceLock<Duration> = OnceLock::new();
    *WINDOW.get_or_init(|| {
        std::env::var("FRAMECHECK_LOG_WINDOW_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map_or(Duration::from_secs(60), Duration::from_millis)
    })
}

/// One kind of repeated warning. The first occurrence is logged at once;
/// later ones within the window are counted, and when the window closes
/// the last of them is logged with the count.
#[derive(Debug)]
pub struct Throttle {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// End of the current window; `None` when no window is open.
    until: Option<Instant>,
    suppressed: u64,
    last: String,
    flush_scheduled: bool,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle::new()
    }
}

impl Throttle {
    /// A throttle with no window open.
    pub const fn new() -> Self {
        Throttle {
            state: Mutex::new(State {
                until: None,
                suppressed: 0,
                last: String::new(),
                flush_scheduled: false,
            }),
        }
    }

    /// Logs `message()` as a warning, or counts it if one of this kind was
    /// logged less than a window ago (the count is logged when the window
    /// closes, by a task on the current tokio runtime).
    pub fn warn(&'static self, message: impl FnOnce() -> String) {
        let now = Instant::now();
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match s.until {
            Some(until) if now < until => {
                s.suppressed += 1;
                s.last = message();
                if !s.flush_scheduled {
                    if let Ok(rt) = tokio::runtime::Handle::try_current() {
                        s.flush_scheduled = true;
                        rt.spawn(async move {
                            tokio::time::sleep_until(until).await;
                            self.flush();
                        });
                    }
                }
            }
            _ => {
                s.until = Some(now + window());
                s.suppressed = 0;
                drop(s);
                tracing::warn!("{}", message());
            }
        }
    }

    /// Closes the window: logs the repeats counted in it, if any, and
    /// opens the next one if there were.
    fn flush(&self) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.flush_scheduled = false;
        if s.suppressed == 0 {
            s.until = None;
            return;
        }
        let (n, last) = (s.suppressed, std::mem::take(&mut s.last));
        s.suppressed = 0;
        s.until = Some(Instant::now() + window());
        drop(s);
        tracing::warn!("{last} ({})", repeats(n, window()));
    }
}

/// `x1700 more in the last 60 s`.
fn repeats(n: u64, window: Duration) -> String {
    let ms = window.as_millis();
    if ms.is_multiple_of(1000) {
        format!("x{n} more in the last {} s", ms / 1000)
    } else {
        format!("x{n} more in the last {ms} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_reads_as_a_count_over_the_window() {
        assert_eq!(
            repeats(1700, Duration::from_secs(60)),
            "x1700 more in the last 60 s"
        );
        assert_eq!(
            repeats(3, Duration::from_millis(250)),
            "x3 more in the last 250 ms"
        );
    }
}
