//! The server under test: one already running (`--connect`), or a command
//! that framecheck spawns, restarts between tries, watches for exit, and
//! samples in `/proc` (RSS and open descriptors).

use std::{
    collections::VecDeque,
    io::{self, BufRead, BufReader},
    net::{SocketAddr, TcpListener, TcpStream},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    thread,
    time::{Duration, Instant},
};

use super::exchange::resolve;

/// Lines of the server's stderr kept for a crash report.
const STDERR_LINES: usize = 20;

/// Where the server comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    /// A server already listening at this address.
    Connect(String),
    /// A command to spawn; every `{port}` in it is replaced by a free port.
    Spawn(Vec<String>),
}

/// Why the server could not be started.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// The command could not be run at all.
    Spawn {
        /// The program.
        program: String,
        /// The error.
        error: io::Error,
    },
    /// The process exited before its port accepted a connection.
    Exited {
        /// How it ended.
        status: String,
        /// Its last stderr lines.
        stderr: Vec<String>,
    },
    /// Nothing accepted on the port within the start timeout.
    NotAccepting {
        /// The address tried.
        addr: String,
        /// The timeout.
        waited: Duration,
    },
    /// The address or command is unusable.
    Invalid(String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Spawn { program, error } => write!(f, "could not run {program}: {error}"),
            StartError::Exited { status, stderr } => {
                write!(
                    f,
                    "the server exited ({status}) before accepting connections"
                )?;
                for l in stderr {
                    write!(f, "\n  | {l}")?;
                }
                Ok(())
            }
            StartError::NotAccepting { addr, waited } => write!(
                f,
                "nothing accepted connections on {addr} within {} ms",
                waited.as_millis()
            ),
            StartError::Invalid(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for StartError {}

/// RSS and descriptor count of a spawned server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Resident set size, bytes.
    pub rss: u64,
    /// Open file descriptors.
    pub fds: usize,
}

/// Reads `/proc/PID/status` and `/proc/PID/fd`; `None` where there is no
/// `/proc` or the process is gone.
pub fn usage(pid: u32) -> Option<Usage> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count();
    Some(Usage {
        rss: rss_kib * 1024,
        fds,
    })
}

/// A running server.
#[derive(Debug)]
pub struct Target {
    spec: Spec,
    addr: SocketAddr,
    child: Option<Child>,
    stderr: Arc<Mutex<VecDeque<String>>>,
    start_timeout: Duration,
    /// How many times the server was (re)started.
    pub starts: u64,
}

fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Describes how a process ended: `exit status 1` or `killed by signal 9
/// (SIGKILL)`.
pub fn describe_exit(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(sig) = status.signal() {
            let name = match sig {
                6 => " (SIGABRT)",
                9 => " (SIGKILL)",
                11 => " (SIGSEGV)",
                15 => " (SIGTERM)",
                _ => "",
            };
            return format!("killed by signal {sig}{name}");
        }
    }
    match status.code() {
        Some(c) => format!("exit status {c}"),
        None => status.to_string(),
    }
}

impl Target {
    /// Starts (or, for `--connect`, checks) the server and waits until it
    /// accepts connections.
    ///
    /// # Errors
    ///
    /// A [`StartError`].
    pub fn start(spec: Spec, start_timeout: Duration) -> Result<Target, StartError> {
        let addr = match &spec {
            Spec::Connect(a) => {
                resolve(a).map_err(|e| StartError::Invalid(format!("--connect {a}: {e}")))?
            }
            Spec::Spawn(cmd) if cmd.is_empty() => {
                return Err(StartError::Invalid("no server command after --".into()))
            }
            Spec::Spawn(_) => SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let mut t = Target {
            spec,
            addr,
            child: None,
            stderr: Arc::new(Mutex::new(VecDeque::new())),
            start_timeout,
            starts: 0,
        };
        t.launch()?;
        Ok(t)
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether framecheck spawned it (and can restart and sample it).
    pub fn spawned(&self) -> bool {
        matches!(self.spec, Spec::Spawn(_))
    }

    /// The spawned process's id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// RSS and descriptors of the spawned server now.
    pub fn usage(&self) -> Option<Usage> {
        self.pid().and_then(usage)
    }

    /// The last lines the spawned server wrote to stderr.
    pub fn stderr_tail(&self) -> Vec<String> {
        self.stderr
            .lock()
            .map(|q| q.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// How the spawned server ended, if it has.
    pub fn exited(&mut self) -> Option<String> {
        let child = self.child.as_mut()?;
        match child.try_wait() {
            Ok(Some(status)) => Some(describe_exit(status)),
            _ => None,
        }
    }

    /// Stops a spawned server and starts a fresh one on a new port; for
    /// `--connect`, only checks that the server still accepts.
    ///
    /// # Errors
    ///
    /// A [`StartError`].
    pub fn restart(&mut self) -> Result<(), StartError> {
        self.stop();
        self.launch()
    }

    /// Kills a spawned server (by its id) and reaps it.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn launch(&mut self) -> Result<(), StartError> {
        self.starts += 1;
        if let Spec::Spawn(cmd) = &self.spec {
            let port =
                free_port().map_err(|e| StartError::Invalid(format!("no free port: {e}")))?;
            let args: Vec<String> = cmd
                .iter()
                .map(|a| a.replace("{port}", &port.to_string()))
                .collect();
            let mut child = Command::new(&args[0])
                .args(&args[1..])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|error| StartError::Spawn {
                    program: args[0].clone(),
                    error,
                })?;
            let tail = Arc::new(Mutex::new(VecDeque::new()));
            if let Some(err) = child.stderr.take() {
                let tail = tail.clone();
                thread::spawn(move || {
                    for line in BufReader::new(err).lines() {
                        let Ok(line) = line else { break };
                        if let Ok(mut q) = tail.lock() {
                            if q.len() == STDERR_LINES {
                                q.pop_front();
                            }
                            q.push_back(line);
                        }
                    }
                });
            }
            self.stderr = tail;
            self.child = Some(child);
            self.addr = SocketAddr::from(([127, 0, 0, 1], port));
        }
        self.wait_accepting()
    }

    fn wait_accepting(&mut self) -> Result<(), StartError> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.exited() {
                // Let the stderr reader catch the last lines.
                thread::sleep(Duration::from_millis(50));
                return Err(StartError::Exited {
                    status,
                    stderr: self.stderr_tail(),
                });
            }
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if started.elapsed() > self.start_timeout {
                return Err(StartError::NotAccepting {
                    addr: self.addr.to_string(),
                    waited: self.start_timeout,
                });
            }
            thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        self.stop();
    }
}
