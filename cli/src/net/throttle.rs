//! Rate-limited warnings: a message that repeats is logged once, and the
//! repeats are counted and reported when the window closes ("accept
//! failed: too many open files (x1700 more in the last 60 s)"), or at
//! shutdown ([`Throttle::flush_all`]) if the process ends first.

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

/// Throttles that have counted repeats since they were last flushed.
static PENDING: Mutex<Vec<&'static Throttle>> = Mutex::new(Vec::new());

/// One kind of repeated warning. The first occurrence is logged at once;
/// later ones within the window are counted, and when the window closes
/// (or at [`Throttle::flush_all`]) the last of them is logged with the
/// count.
#[derive(Debug)]
pub struct Throttle {
    state: Mutex<State>,
    /// Its own window; `None`: the process-wide one.
    window: Option<Duration>,
}

#[derive(Debug)]
struct State {
    /// End of the current window; `None` when no window is open.
    until: Option<Instant>,
    suppressed: u64,
    last: String,
    flush_scheduled: bool,
    /// Whether this throttle is in [`PENDING`].
    pending: bool,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle::new()
    }
}

impl Throttle {
    /// A throttle with no window open, whose windows last 60 s (or
    /// `FRAMECHECK_LOG_WINDOW_MS`).
    pub const fn new() -> Self {
        Throttle::with(None)
    }

    /// A throttle whose windows last `window`.
    pub const fn with_window(window: Duration) -> Self {
        Throttle::with(Some(window))
    }

    const fn with(window: Option<Duration>) -> Self {
        Throttle {
            window,
            state: Mutex::new(State {
                until: None,
                suppressed: 0,
                last: String::new(),
                flush_scheduled: false,
                pending: false,
            }),
        }
    }

    fn window(&self) -> Duration {
        self.window.unwrap_or_else(window)
    }

    /// Logs `message()` as a warning, or counts it if one of this kind was
    /// logged less than a window ago (the count is logged when the window
    /// closes, by a task on the current tokio runtime; or, if the warning
    /// comes back first, just before it).
    pub fn warn(&'static self, message: impl FnOnce() -> String) {
        let now = Instant::now();
        let mut s = lock(&self.state);
        match s.until {
            Some(until) if now < until => {
                s.suppressed += 1;
                s.last = message();
                if !s.pending {
                    s.pending = true;
                    lock(&PENDING).push(self);
                }
                if !s.flush_scheduled {
                    if let Ok(rt) = tokio::runtime::Handle::try_current() {
                        s.flush_scheduled = true;
                        rt.spawn(async move {
                            let mut at = until;
                            loop {
                                tokio::time::sleep_until(at).await;
                                match self.flush() {
                                    Some(later) => at = later,
                                    None => break,
                                }
                            }
                        });
                    }
                }
            }
            _ => {
                // The window is over; what it counted may not have been
                // reported yet (the timer had not run): report it first.
                let (n, last) = (
                    std::mem::take(&mut s.suppressed),
                    std::mem::take(&mut s.last),
                );
                s.until = Some(now + self.window());
                drop(s);
                if n > 0 {
                    tracing::warn!("{last} ({})", repeats(n, self.window()));
                }
                tracing::warn!("{}", message());
            }
        }
    }

    /// Closes the window: logs the repeats counted in it, if any, and
    /// opens the next one if there were. `Some(end)`: a newer window is
    /// open (the warning came back before this ran), to be closed at `end`.
    fn flush(&self) -> Option<Instant> {
        let mut s = lock(&self.state);
        let now = Instant::now();
        if let Some(until) = s.until.filter(|&u| now < u) {
            return Some(until);
        }
        s.flush_scheduled = false;
        if s.suppressed == 0 {
            s.until = None;
            return None;
        }
        let (n, last) = (s.suppressed, std::mem::take(&mut s.last));
        s.suppressed = 0;
        s.until = Some(now + self.window());
        drop(s);
        tracing::warn!("{last} ({})", repeats(n, self.window()));
        None
    }

    /// Logs the repeats every throttle has counted and not yet reported,
    /// with the time since its window opened ("(x12 more in the last 3.4
    /// s, at shutdown)"). The servers' windows are closed by a timer on
    /// the runtime, which ends with the process: `main` calls this once a
    /// command has returned, so no count is lost. Returns how many
    /// summaries it logged.
    pub fn flush_all() -> usize {
        let pending = std::mem::take(&mut *lock(&PENDING));
        let now = Instant::now();
        let mut logged = 0;
        for t in pending {
            let mut s = lock(&t.state);
            s.pending = false;
            if s.suppressed == 0 {
                continue;
            }
            let (n, last) = (s.suppressed, std::mem::take(&mut s.last));
            s.suppressed = 0;
            // The window opened `window()` before it was due to close.
            let opened = s
                .until
                .map_or(now, |u| u.checked_sub(t.window()).unwrap_or(now));
            drop(s);
            let span = now.saturating_duration_since(opened);
            tracing::warn!("{last} ({}, at shutdown)", repeats(n, span));
            logged += 1;
        }
        logged
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// `x1700 more in the last 60 s`: whole seconds as such, then tenths of a
/// second from 1 s, milliseconds below.
fn repeats(n: u64, span: Duration) -> String {
    let ms = span.as_millis();
    if ms.is_multiple_of(1000) && ms > 0 {
        format!("x{n} more in the last {} s", ms / 1000)
    } else if ms >= 1000 {
        format!("x{n} more in the last {:.1} s", span.as_secs_f64())
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
        assert_eq!(
            repeats(12, Duration::from_millis(3_449)),
            "x12 more in the last 3.4 s"
        );
    }

    /// Held by the tests that count on what is pending: `flush_all` in
    /// one would report the other's counts.
    static SERIAL: Mutex<()> = Mutex::new(());

    /// The warnings logged while `f` runs, one line each.
    fn logged(f: impl FnOnce()) -> Vec<String> {
        #[derive(Clone, Default)]
        struct Buf(std::sync::Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                lock(&self.0).extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let writer = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .without_time()
            .with_target(false)
            .finish();
        tracing::subscriber::with_default(subscriber, f);
        let text = String::from_utf8(lock(&buf.0).clone()).unwrap();
        text.lines()
            .map(|l| l.trim_start_matches(" WARN ").trim().to_owned())
            .collect()
    }

    /// How many warnings the lines stand for: one per line, plus the count
    /// of each summary.
    fn events(lines: &[String]) -> u64 {
        lines
            .iter()
            .map(|l| match l.split_once("(x") {
                Some((_, rest)) => rest.split(' ').next().unwrap().parse::<u64>().unwrap(),
                None => 1,
            })
            .sum()
    }

    #[test]
    fn no_count_is_lost_when_the_warning_returns_before_the_window_is_closed() {
        // No runtime, so no timer closes the window: the next warning must.
        static T: Throttle = Throttle::with_window(Duration::from_millis(50));
        let _serial = lock(&SERIAL);
        let lines = logged(|| {
            for _ in 0..4 {
                T.warn(|| "disk full".into());
            }
            std::thread::sleep(Duration::from_millis(80));
            T.warn(|| "disk full".into());
        });
        assert_eq!(
            lines,
            [
                "disk full",
                "disk full (x3 more in the last 50 ms)",
                "disk full"
            ]
        );
        assert_eq!(events(&lines), 5);
    }

    #[test]
    fn flush_all_reports_the_counts_still_pending_once() {
        static T: Throttle = Throttle::new();
        let _serial = lock(&SERIAL);
        let lines = logged(|| {
            for i in 0..5 {
                T.warn(|| format!("warning {i}"));
            }
            assert!(lock(&PENDING).iter().any(|t| std::ptr::eq(*t, &T)));
            // Other tests' throttles may be pending too; this one is among them.
            assert!(Throttle::flush_all() >= 1);
            assert_eq!(Throttle::flush_all(), 0);
        });
        let mine: Vec<&String> = lines.iter().filter(|l| l.starts_with("warning")).collect();
        assert_eq!(mine.len(), 2, "{lines:?}");
        assert_eq!(mine[0], "warning 0");
        assert!(
            mine[1].starts_with("warning 4 (x4 more in the last ")
                && mine[1].ends_with(" ms, at shutdown)"),
            "{lines:?}"
        );
        let s = lock(&T.state);
        assert_eq!((s.suppressed, s.pending), (0, false));
    }
}
