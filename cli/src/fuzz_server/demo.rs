//! The showdown's third part: `fuzz-server` against a naive server written
//! the way the tutorial writes it, in Rust and in-process (the length read
//! with one `read` of 4 bytes, the header with one `read`), then against
//! the project's own `echo-server`.

use std::{
    io::{self, Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    thread,
    time::Duration,
};

use super::{
    campaign::{self, Config, Report},
    format::Format,
    target::{Spec, Target},
};

/// Largest header and body the naive server takes (so that its only bug
/// is the one it was written to show).
const NAIVE_LIMIT: usize = 1 << 20;

/// The tutorial's JSON-header echo server, with its bug: `read` returns
/// what has arrived, up to the buffer's size, and the tutorial takes one
/// `read` for 4 length bytes and one for the header. Runs on its own
/// threads until dropped.
#[derive(Debug)]
pub struct NaiveServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accept: Option<thread::JoinHandle<()>>,
}

impl NaiveServer {
    /// Starts it on a free loopback port.
    ///
    /// # Errors
    ///
    /// The bind error.
    pub fn start() -> io::Result<NaiveServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let accept = thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::Relaxed) {
                    break;
                }
                if let Ok(conn) = conn {
                    thread::spawn(move || {
                        let _ = naive_conn(conn);
                    });
                }
            }
        });
        Ok(NaiveServer {
            addr,
            stop,
            accept: Some(accept),
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for NaiveServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

fn naive_conn(mut conn: TcpStream) -> io::Result<()> {
    conn.set_nodelay(true)?;
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    loop {
        // The bug, as the tutorial writes it: `recv(4)` once ...
        let mut len = [0u8; 4];
        if conn.read(&mut len)? == 0 {
            return Ok(());
        }
        let head_len = usize::try_from(i32::from_le_bytes(len)).map_err(|_| bad("negative"))?;
        if head_len > NAIVE_LIMIT {
            return Err(bad("header too long"));
        }
        // ... and `recv(head_len)` once.
        let mut head = vec![0u8; head_len];
        let got = conn.read(&mut head)?;
        let header: serde_json::Value =
            serde_json::from_slice(&head[..got]).map_err(|_| bad("header"))?;
        let size = header
            .get("data_size")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| bad("data_size"))? as usize;
        if size > NAIVE_LIMIT {
            return Err(bad("body too long"));
        }
        // The body loop is right: it reads until it has them all.
        let mut body = vec![0u8; size];
        conn.read_exact(&mut body)?;
        let reply = super::format::Format::JsonHeader.encode(&body.to_ascii_uppercase());
        conn.write_all(&reply)?;
    }
}

/// What the third part found.
#[derive(Debug, Clone)]
pub struct DemoResult {
    /// The campaign against the naive server.
    pub naive: Report,
    /// The campaign against `echo-server`.
    pub echo: Report,
}

/// Runs the campaign against the naive server (until its first finding,
/// at most `time`) and against `echo_cmd` (an `echo-server` command with
/// `{port}`) for `time`.
///
/// # Errors
///
/// A server that cannot be started.
pub fn run(echo_cmd: Vec<String>, time: Duration, seed: u64) -> io::Result<DemoResult> {
    let mut config = Config::new(Format::JsonHeader);
    config.seed = seed;
    config.time = time;
    config.timeout = Duration::from_millis(500);
    config.replays = 10;
    let naive_server = NaiveServer::start()?;
    let mut naive_target = Target::start(
        Spec::Connect(naive_server.addr().to_string()),
        Duration::from_secs(5),
    )
    .map_err(io::Error::other)?;
    let naive = campaign::run(&config, &mut naive_target);
    drop(naive_target);
    drop(naive_server);
    let mut echo_target =
        Target::start(Spec::Spawn(echo_cmd), Duration::from_secs(10)).map_err(io::Error::other)?;
    let echo = campaign::run(&config, &mut echo_target);
    echo_target.stop();
    Ok(DemoResult { naive, echo })
}

/// [`run`] against this executable's own `echo-server` (3 s, seed 1).
///
/// # Errors
///
/// As [`run`].
pub async fn run_against_own_echo() -> io::Result<DemoResult> {
    let exe = std::env::current_exe()?.to_string_lossy().into_owned();
    let cmd = vec![
        exe,
        "echo-server".into(),
        "--listen".into(),
        "127.0.0.1:{port}".into(),
        "--format".into(),
        "json-header".into(),
    ];
    tokio::task::spawn_blocking(move || run(cmd, Duration::from_secs(3), 1))
        .await
        .map_err(io::Error::other)?
}

/// One row of the showdown's table (and of `results.json`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    /// The server.
    pub server: String,
    /// Cases run.
    pub cases: u64,
    /// Cases per second of fuzzing.
    pub cases_per_sec: f64,
    /// `kind: place` of the first finding, if any.
    pub finding: Option<String>,
    /// Seconds to the case that showed it.
    pub found_after_s: Option<f64>,
    /// The minimal bytes, one write each, hex.
    pub minimal_writes: Vec<String>,
    /// Replays that reproduced it, of how many.
    pub reproduced: Option<(usize, usize)>,
    /// What was expected and seen.
    pub why: Option<String>,
}

impl DemoResult {
    /// The two rows: naive server, then `echo-server`.
    pub fn rows(&self) -> Vec<Row> {
        let row = |server: &str, r: &Report| {
            let f = r.findings.first();
            Row {
                server: server.into(),
                cases: r.cases,
                cases_per_sec: r.cases_per_sec(),
                finding: f.map(|f| format!("{}: {}", f.file.kind, f.file.place)),
                found_after_s: f.map(|f| f.found_after.as_secs_f64()),
                minimal_writes: f
                    .map(|f| {
                        f.file
                            .case
                            .pieces()
                            .iter()
                            .map(|p| super::case::hex(p))
                            .collect()
                    })
                    .unwrap_or_default(),
                reproduced: f.map(|f| (f.file.reproduced, f.file.replays)),
                why: f.map(|f| format!("{}; {}", f.file.expected, f.file.seen)),
            }
        };
        vec![
            row(
                "naive (tutorial: one read for the length, one for the header)",
                &self.naive,
            ),
            row("framecheck echo-server", &self.echo),
        ]
    }

    /// The showdown's section.
    pub fn section(&self) -> crate::report::Section {
        use crate::report::{Align, Section, Table};
        let rows = self.rows();
        let mut table = Table::new([
            ("server", Align::Left),
            ("cases", Align::Right),
            ("cases/s", Align::Right),
            ("finding", Align::Left),
            ("found after", Align::Right),
            ("minimal bytes, one write each (hex)", Align::Left),
            ("reproduced", Align::Right),
        ]);
        for r in &rows {
            table.row([
                r.server.clone(),
                r.cases.to_string(),
                format!("{:.0}", r.cases_per_sec),
                r.finding.clone().unwrap_or_else(|| "none".into()),
                r.found_after_s.map_or("-".into(), |s| format!("{s:.2} s")),
                if r.minimal_writes.is_empty() {
                    "-".into()
                } else {
                    r.minimal_writes.join(" | ")
                },
                r.reproduced
                    .map_or("-".into(), |(h, n)| format!("{h} of {n}")),
            ]);
        }
        Section {
            title: "Part 3: fuzz-server against live servers".into(),
            setup: "json-header over loopback, seed 1: a naive server written as the tutorial writes it (one \
                    read for the 4 length bytes, one for the header) until the first finding, then \
                    framecheck echo-server for 3 s; a finding is minimised and its minimal case replayed 10 \
                    times; the oracle compares the replies to messages sent whole with the replies to the \
                    same bytes cut, so it needs no spec"
                .into(),
            table,
            legend: None,
            notes: rows
                .iter()
                .map(|r| {
                    (
                        r.server.clone(),
                        r.why.clone().unwrap_or_else(|| "every oracle content: replies do not depend on the cuts".into()),
                    )
                })
                .collect(),
            chart: None,
        }
    }
}

/// The showdown's part 3: [`run_against_own_echo`] as a report section.
///
/// # Errors
///
/// As [`run`].
pub async fn showdown_part() -> io::Result<crate::showdown::Outcome> {
    let r = run_against_own_echo().await?;
    crate::showdown::Outcome::new(r.section(), &r.rows())
}

impl std::fmt::Display for DemoResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "Part 3: fuzz-server against live servers on loopback (json-header; the oracle needs no spec of the replies)\n"
        )?;
        writeln!(f, "A naive server, written as the tutorial writes it (one read for the 4 length bytes, one for the header):")?;
        match self.naive.findings.first() {
            Some(x) => {
                let bytes: usize = x.file.case.messages.iter().map(Vec::len).sum();
                writeln!(
                    f,
                    "  {} finding after {:.2} s and {} cases: {}",
                    x.file.kind,
                    x.found_after.as_secs_f64(),
                    x.file.case_index + 1,
                    x.file.place
                )?;
                writeln!(f, "  expected: {}", x.file.expected)?;
                writeln!(f, "  seen:     {}", x.file.seen)?;
                let hex: Vec<String> = x
                    .file
                    .case
                    .pieces()
                    .iter()
                    .map(|p| super::case::hex(p))
                    .collect();
                writeln!(
                    f,
                    "  minimal bytes ({bytes}, one write each, hex): {}\n  reproduced in {} of {} replays",
                    hex.join(" | "),
                    x.file.reproduced,
                    x.file.replays
                )?;
            }
            None => writeln!(f, "  no finding in {} cases (unexpected)", self.naive.cases)?,
        }
        writeln!(f, "\nframecheck echo-server:")?;
        writeln!(
            f,
            "  {} cases in {:.1} s ({:.0} cases/s), {} finding(s)",
            self.echo.cases,
            self.echo.fuzz_time.as_secs_f64(),
            self.echo.cases_per_sec(),
            self.echo.findings.len()
        )?;
        for x in &self.echo.findings {
            writeln!(f, "  {}: {} ({})", x.file.kind, x.file.place, x.file.seen)?;
        }
        Ok(())
    }
}
