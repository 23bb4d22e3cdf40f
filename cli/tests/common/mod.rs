//! Spawning the real `framecheck` binary for end-to-end tests.
#![allow(dead_code, unreachable_pub)]

use std::{
    path::PathBuf,
    process::{ExitStatus, Stdio},
    time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    process::{Child, Command},
};

/// Every wait in these tests is bounded by this.
pub const LIMIT: Duration = Duration::from_secs(20);

pub fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_framecheck"));
    cmd.env_remove("RUST_LOG").kill_on_drop(true);
    cmd
}

/// A server process (echo-server, receive, slice-proxy ...) that printed
/// `listening on IP:PORT`; killed when dropped.
pub struct Server {
    pub child: Child,
    pub addr: String,
    stderr: PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts `framecheck ARGS` and waits for its `listening on` line.
    pub async fn start(args: &[&str]) -> Server {
        let mut cmd = bin();
        cmd.args(args);
        Server::spawn(cmd).await
    }

    /// Starts `framecheck ARGS` with `env` set.
    pub async fn start_env(args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut cmd = bin();
        cmd.args(args).envs(env.iter().copied());
        Server::spawn(cmd).await
    }

    /// Starts `framecheck ARGS` under `sh -c 'ULIMITS; exec framecheck ARGS'`
    /// (for example `ulimit -v 2097152`: a 2 GiB address-space limit, as
    /// `setrlimit(RLIMIT_AS)` sets it; only a shell is needed).
    pub async fn start_limited(ulimits: &str, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(format!("{ulimits} && exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_framecheck"))
            .args(args)
            .envs(env.iter().copied())
            .env_remove("RUST_LOG")
            .kill_on_drop(true);
        Server::spawn(cmd).await
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    async fn spawn(mut cmd: Command) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let stderr = dir.path().join("stderr.log");
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        tokio::time::timeout(LIMIT, BufReader::new(stdout).read_line(&mut line))
            .await
            .expect("server did not print its address in time")
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Server {
            child,
            addr,
            stderr,
            _dir: dir,
        }
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap()
    }

    /// Waits (bounded) until the log contains `needle`; returns the log.
    pub async fn wait_for_log(&self, needle: &str) -> String {
        let deadline = tokio::time::Instant::now() + LIMIT;
        loop {
            let log = self.log();
            if log.contains(needle) || tokio::time::Instant::now() > deadline {
                return log;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The result of a client run.
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `framecheck ARGS` with `input` on stdin, to completion (bounded).
pub async fn run(args: &[&str], input: &[u8]) -> Run {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let feeder = tokio::spawn(async move {
        let _ = stdin.write_all(&input).await;
        drop(stdin);
    });
    let out = tokio::time::timeout(LIMIT, child.wait_with_output())
        .await
        .expect("client did not finish in time")
        .unwrap();
    feeder.await.unwrap();
    Run {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
