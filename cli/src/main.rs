//! The `framecheck` command: see `framecheck --help`.
#![forbid(unsafe_code)]

use std::{io::IsTerminal as _, process::ExitCode};

use clap::{Parser, Subcommand};
use framecheck_cli::{echo, fuzz_server, proxy, showdown, transfer, udp};
use tracing_subscriber::EnvFilter;

/// Tools for the TCP "sticky packet" problem: echo and file-transfer
/// programs, a re-segmenting proxy, and `showdown`, which shows the problem
/// and what each fix costs.
#[derive(Debug, Parser)]
#[command(name = "framecheck", version)]
struct Cli {
    /// More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG
    /// overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// TCP echo server: replies to each message with its body upper-cased.
    EchoServer(echo::ServerArgs),
    /// TCP echo client: each stdin line is one message; prints the replies.
    EchoClient(echo::ClientArgs),
    /// UDP echo server: datagram in, upper-cased datagram out.
    UdpEchoServer(udp::ServerArgs),
    /// UDP echo client: each stdin line is one datagram.
    UdpEchoClient(udp::ClientArgs),
    /// Send a file (name, size and SHA-256 in a JSON header).
    Send(transfer::SendArgs),
    /// Receive files into a directory, verified before they appear.
    Receive(transfer::ReceiveArgs),
    /// TCP proxy that re-segments traffic both ways, to test any program.
    SliceProxy(proxy::Args),
    /// Show the problem and the cost of each fix, on loopback.
    Showdown(showdown::Args),
    /// Fuzz a live TCP server in any language: segmentation, liveness,
    /// hostile inputs, resources. Exit 0: no finding, 1: findings, 2: error.
    FuzzServer(fuzz_server::cli::FuzzArgs),
    /// Run a fuzz-server replay file. Exit 1: reproduced, 0: not, 2: error.
    Replay(fuzz_server::cli::ReplayArgs),
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// Prints the error once on stderr (not also through the log) and fails.
fn fail(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("framecheck: {e}");
    ExitCode::FAILURE
}

/// Runs a blocking command (the fuzz-server engine uses threads and
/// blocking sockets) off the runtime; its `u8` is the exit status.
async fn blocking(f: impl FnOnce() -> u8 + Send + 'static) -> ExitCode {
    tokio::task::spawn_blocking(f)
        .await
        .map_or_else(fail, ExitCode::from)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(e),
    };
    let code = runtime.block_on(async move {
        match cli.command {
            Command::EchoServer(a) => echo::run_server(a)
                .await
                .map_or_else(fail, |()| ExitCode::SUCCESS),
            Command::EchoClient(a) => echo::run_client(a)
                .await
                .map_or_else(fail, |_| ExitCode::SUCCESS),
            Command::UdpEchoServer(a) => udp::run_server(a)
                .await
                .map_or_else(fail, |()| ExitCode::SUCCESS),
            Command::UdpEchoClient(a) => match udp::run_client(a).await {
                Ok(0) => ExitCode::SUCCESS,
                Ok(failed) => fail(format!("{failed} datagram(s) failed")),
                Err(e) => fail(e),
            },
            Command::Send(a) => match transfer::send(a).await {
                Ok(sent) => {
                    println!(
                        "sent {} ({} bytes, sha256 {}): saved by the receiver",
                        sent.name, sent.size, sent.hash
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            },
            Command::Receive(a) => transfer::receive(a)
                .await
                .map_or_else(fail, |()| ExitCode::SUCCESS),
            Command::SliceProxy(a) => proxy::run(a)
                .await
                .map_or_else(fail, |()| ExitCode::SUCCESS),
            Command::Showdown(a) => showdown::run(a)
                .await
                .map_or_else(fail, |_| ExitCode::SUCCESS),
            Command::FuzzServer(a) => blocking(move || fuzz_server::cli::run_fuzz(a)).await,
            Command::Replay(a) => blocking(move || fuzz_server::cli::run_replay(a)).await,
        }
    });
    // Rate-limited warnings counted in a window that had not closed yet.
    framecheck_cli::net::Throttle::flush_all();
    code
}
