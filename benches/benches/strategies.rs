//! Framing strategies over real loopback TCP (127.0.0.1, port 0).
//!
//! Two groups, for payloads of 16 B, 256 B, 1 KiB and 64 KiB:
//!
//! - `loopback_reqresp`: send one message, wait for the echo; one iteration
//!   is one request. Per-request latencies go to
//!   `target/framecheck-bench/latency.json` (criterion keeps no
//!   percentiles).
//! - `loopback_oneway`: a stream of messages; one iteration is a batch of
//!   messages (one for the strategies that take milliseconds each, up to
//!   1024 small ones for the batching writers, so the hand-off that ends
//!   each sample weighs nothing), and each sample ends when the receiver
//!   has counted them all.
//!
//! With `FRAMECHECK_BENCH_PAIRED=1` (set by `ci/bench-report.sh`), a last
//! phase outside criterion measures the ratios the report checks side by
//! side, alternating the two cases of each pair, into
//! `target/framecheck-bench/ratios.json`.
//!
//! Client and server each run a current-thread tokio runtime on their own
//! OS thread, like two processes on one host. `FRAMECHECK_BENCH_QUICK=1`
//! shortens every measurement (used by `ci/bench-report.sh --quick`).

use std::{
    borrow::Cow,
    future::Future,
    net::{TcpListener as StdListener, TcpStream as StdStream},
    thread,
    time::{Duration, Instant},
};

use bytes::Bytes;
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput};
use framecheck_benches::{
    latency::{self, LatencyFile},
    paired, report,
};
use framecheck_codec::strategy::{Conn, Framing};
use futures_util::SinkExt;
use rand::{rngs::StdRng, RngCore, SeedableRng};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    runtime::Runtime,
    sync::mpsc,
};
use tokio_util::codec::{FramedWrite, LengthDelimitedCodec};

const SIZES: [usize; 4] = [16, 256, 1024, 64 * 1024];
const SLEEP_GAP: Duration = Duration::from_millis(1);
const RAW_WRITE: usize = 64 * 1024;

fn quick() -> bool {
    std::env::var_os("FRAMECHECK_BENCH_QUICK").is_some_and(|v| v != "0" && !v.is_empty())
}

/// Seeded, incompressible payload.
fn payload(size: usize) -> Bytes {
    let mut rng = StdRng::seed_from_u64(0x5EED_0000 + size as u64);
    let mut v = vec![0u8; size];
    rng.fill_bytes(&mut v);
    Bytes::from(v)
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Connects a client socket to a server thread that runs `serve` on the
/// accepted socket in its own runtime; the thread ends when `serve` does.
fn spawn_server<F, Fut>(serve: F) -> (StdStream, thread::JoinHandle<()>)
where
    F: FnOnce(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    let listener = StdListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    let client = StdStream::connect(addr).expect("connect");
    let (server, _) = listener.accept().expect("accept");
    server.set_nonblocking(true).expect("nonblocking");
    client.set_nonblocking(true).expect("nonblocking");
    let handle = thread::Builder::new()
        .name("bench-server".into())
        .spawn(move || {
            runtime().block_on(async move {
                let stream = TcpStream::from_std(server).expect("register server socket");
                serve(stream).await;
            });
        })
        .expect("spawn server thread");
    (client, handle)
}

// The strategies as benchmarked; their criterion ids are `Framing::id`.
const SLEEP: Framing = Framing::Sleep { gap: SLEEP_GAP };
const TWO_SEND_NAGLE_ON: Framing = Framing::TwoSend {
    ack: false,
    nodelay: false,
};
const TWO_SEND_NAGLE_OFF: Framing = Framing::TwoSend {
    ack: false,
    nodelay: true,
};
const TWO_SEND_ACK: Framing = Framing::TwoSend {
    ack: true,
    nodelay: false,
};
const LENGTH: Framing = Framing::Length;
const JSON_HEADER: Framing = Framing::JsonHeader;

/// Strategies that take milliseconds per message get few, flat samples.
fn is_slow(framing: Framing) -> bool {
    matches!(
        framing,
        Framing::Sleep { .. }
            | Framing::TwoSend {
                ack: false,
                nodelay: false
            }
    )
}

fn set_timing(group: &mut BenchmarkGroup<'_, WallTime>, slow: bool) {
    let (warm, measure) = match (slow, quick()) {
        (true, true) => (0.05, 0.5),
        (true, false) => (0.2, 2.0),
        (false, true) => (0.3, 1.0),
        (false, false) => (1.0, 3.0),
    };
    group.warm_up_time(Duration::from_secs_f64(warm));
    group.measurement_time(Duration::from_secs_f64(measure));
    if slow {
        group.sample_size(10).sampling_mode(SamplingMode::Flat);
    } else {
        group
            .sample_size(if quick() { 30 } else { 60 })
            .sampling_mode(SamplingMode::Auto);
    }
}

/// Receives until `want` payload bytes have arrived (one message for every
/// framing but sleep, which may deliver it over several reads).
async fn recv_bytes(conn: &mut Conn<TcpStream>, want: usize) {
    let mut got = 0;
    while got < want {
        let msg = conn.recv().await.expect("recv").expect("echo ended early");
        got += msg.len();
    }
    assert_eq!(got, want, "echo size");
}

async fn echo(stream: TcpStream, framing: Framing) {
    framing.configure(&stream).expect("set TCP_NODELAY");
    let mut conn = Conn::new(stream, framing);
    while let Some(msg) = conn.recv().await.expect("server recv") {
        conn.send(&msg).await.expect("server send");
    }
}

/// A connected client and echo server with one framing.
struct ReqResp {
    conn: Conn<TcpStream>,
    server: thread::JoinHandle<()>,
}

impl ReqResp {
    fn new(rt: &Runtime, framing: Framing) -> Self {
        let (client, server) = spawn_server(move |stream| echo(stream, framing));
        let conn = rt.block_on(async {
            let stream = TcpStream::from_std(client).expect("register client socket");
            framing.configure(&stream).expect("set TCP_NODELAY");
            Conn::new(stream, framing)
        });
        ReqResp { conn, server }
    }

    /// `iters` round trips; each one's latency is pushed to `samples`.
    fn run(
        &mut self,
        rt: &Runtime,
        payload: &[u8],
        iters: u64,
        samples: &mut Vec<u64>,
    ) -> Duration {
        rt.block_on(async {
            let start = Instant::now();
            for _ in 0..iters {
                let t = Instant::now();
                self.conn.send(payload).await.expect("send");
                recv_bytes(&mut self.conn, payload.len()).await;
                samples.push(t.elapsed().as_nanos() as u64);
            }
            start.elapsed()
        })
    }

    fn close(mut self, rt: &Runtime) {
        rt.block_on(self.conn.shutdown()).expect("shutdown");
        drop(self.conn);
        self.server.join().expect("server thread");
    }
}

fn reqresp(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group(report::REQRESP);
    let mut latencies = LatencyFile::new();
    let strategies = [
        LENGTH,
        JSON_HEADER,
        TWO_SEND_NAGLE_OFF,
        TWO_SEND_ACK,
        SLEEP,
        TWO_SEND_NAGLE_ON,
    ];
    for size in SIZES {
        let payload = payload(size);
        for s in strategies {
            set_timing(&mut group, is_slow(s));
            group.throughput(Throughput::ElementsAndBytes {
                elements: 1,
                bytes: size as u64,
            });
            let mut case = ReqResp::new(&rt, s);
            let mut samples: Vec<u64> = Vec::new();
            group.bench_with_input(BenchmarkId::new(s.id(), size), &payload, |b, payload| {
                b.iter_custom(|iters| case.run(&rt, payload, iters, &mut samples));
            });
            case.close(&rt);
            if let Some(summary) = latency::summarize(&mut samples) {
                latencies.insert(
                    latency::key(report::REQRESP, &s.id(), &size.to_string()),
                    summary,
                );
            }
        }
    }
    group.finish();
    let path = latency::default_path();
    latency::merge_and_save(&path, latencies)
        .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// How the one-way sender writes.
#[derive(Clone, Copy)]
enum Write {
    /// `Conn::send` per message: written out at once.
    Each(Framing),
    /// `Conn::feed` per message, `Conn::flush` at the end of the sample.
    Batched(Framing),
    /// tokio-util `FramedWrite` + `LengthDelimitedCodec`: `feed`, then `flush`.
    Framed,
    /// Unframed `write_all` of the same bytes in 64 KiB writes.
    Raw,
}

impl Write {
    /// The criterion id: the framing's, but for the writers that are not
    /// a `Framing` of their own.
    fn id(&self) -> Cow<'static, str> {
        match self {
            Write::Each(Framing::Length) => Cow::Borrowed(report::LENGTH_WRITE_EACH),
            Write::Each(s) | Write::Batched(s) => s.id(),
            Write::Framed => Cow::Borrowed(report::FRAMED_LDC),
            Write::Raw => Cow::Borrowed(report::RAW_WRITES),
        }
    }

    /// The framing the receiver decodes; `None` = count raw bytes.
    fn receiver_framing(&self) -> Option<Framing> {
        match self {
            Write::Each(s) | Write::Batched(s) => Some(*s),
            // Same wire format as StrictLengthCodec: u32 BE length + body.
            Write::Framed => Some(Framing::Length),
            Write::Raw => None,
        }
    }

    /// Messages per iteration.
    fn per_iter(&self, size: usize) -> u64 {
        match self {
            _ if self.is_slow() => 1,
            Write::Each(_) => 16,
            Write::Batched(_) | Write::Framed | Write::Raw => {
                (256 * 1024 / size).clamp(4, 1024) as u64
            }
        }
    }

    fn is_slow(&self) -> bool {
        match self {
            // Streaming, the ack waits on the receiver's delayed ACK.
            Write::Each(TWO_SEND_ACK) => true,
            Write::Each(s) | Write::Batched(s) => is_slow(*s),
            Write::Framed | Write::Raw => false,
        }
    }
}

enum Sender {
    Conn(Conn<TcpStream>),
    Framed(FramedWrite<TcpStream, LengthDelimitedCodec>),
    Raw(TcpStream),
}

/// Counts `n` messages of `size` bytes (or `n * size` bytes for the sleep
/// strategy and the raw stream, which keep no boundaries) per command, and
/// reports each count done.
async fn count(
    stream: TcpStream,
    framing: Option<Framing>,
    size: usize,
    mut cmds: mpsc::UnboundedReceiver<u64>,
    done: mpsc::UnboundedSender<()>,
) {
    match framing {
        Some(framing) => {
            framing.configure(&stream).expect("set TCP_NODELAY");
            let mut conn = Conn::new(stream, framing);
            while let Some(n) = cmds.recv().await {
                if framing.preserves_boundaries() {
                    for _ in 0..n {
                        let msg = conn
                            .recv()
                            .await
                            .expect("recv")
                            .expect("stream ended early");
                        assert_eq!(msg.len(), size, "message size");
                    }
                } else {
                    recv_bytes(&mut conn, n as usize * size).await;
                }
                done.send(()).expect("bench side gone");
            }
        }
        None => {
            let mut stream = stream;
            // Reads larger than the writes, so the reader is never what
            // limits this ceiling.
            let mut buf = vec![0u8; 4 * RAW_WRITE];
            while let Some(n) = cmds.recv().await {
                let mut left = n as usize * size;
                while left > 0 {
                    let got = stream.read(&mut buf).await.expect("read");
                    assert!(got > 0, "stream ended early");
                    left = left.checked_sub(got).expect("more bytes than sent");
                }
                done.send(()).expect("bench side gone");
            }
        }
    }
}

/// A sender and a counting receiver with one way of writing.
struct Oneway {
    send: Write,
    sender: Sender,
    cmd: mpsc::UnboundedSender<u64>,
    done: mpsc::UnboundedReceiver<()>,
    server: thread::JoinHandle<()>,
}

impl Oneway {
    fn new(rt: &Runtime, send: Write, size: usize) -> Self {
        let (cmd, cmd_rx) = mpsc::unbounded_channel();
        let (done_tx, done) = mpsc::unbounded_channel();
        let rx_framing = send.receiver_framing();
        let (client, server) =
            spawn_server(move |stream| count(stream, rx_framing, size, cmd_rx, done_tx));
        let sender = rt.block_on(async {
            let stream = TcpStream::from_std(client).expect("register client socket");
            match send {
                Write::Each(s) | Write::Batched(s) => {
                    s.configure(&stream).expect("set TCP_NODELAY");
                    Sender::Conn(Conn::new(stream, s))
                }
                Write::Framed => {
                    stream.set_nodelay(true).expect("set TCP_NODELAY");
                    Sender::Framed(FramedWrite::new(stream, LengthDelimitedCodec::new()))
                }
                Write::Raw => {
                    stream.set_nodelay(true).expect("set TCP_NODELAY");
                    Sender::Raw(stream)
                }
            }
        });
        Oneway {
            send,
            sender,
            cmd,
            done,
            server,
        }
    }

    /// Sends `n` messages; returns when the receiver has counted them all.
    fn run(&mut self, rt: &Runtime, payload: &Bytes, n: u64) -> Duration {
        rt.block_on(async {
            self.cmd.send(n).expect("receiver gone");
            let start = Instant::now();
            match (&mut self.sender, self.send) {
                (Sender::Conn(conn), Write::Batched(_)) => {
                    for _ in 0..n {
                        conn.feed(payload).await.expect("feed");
                    }
                    conn.flush().await.expect("flush");
                }
                (Sender::Conn(conn), _) => {
                    for _ in 0..n {
                        conn.send(payload).await.expect("send");
                    }
                }
                (Sender::Framed(framed), _) => {
                    for _ in 0..n {
                        framed.feed(payload.clone()).await.expect("feed");
                    }
                    SinkExt::<Bytes>::flush(framed).await.expect("flush");
                }
                (Sender::Raw(stream), _) => {
                    for _ in 0..n {
                        stream.write_all(payload).await.expect("write");
                    }
                }
            }
            self.done.recv().await.expect("receiver gone");
            start.elapsed()
        })
    }

    fn close(self) {
        drop(self.cmd);
        drop(self.sender);
        self.server.join().expect("receiver thread");
    }
}

fn oneway(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group(report::ONEWAY);
    for size in SIZES {
        let payload = payload(size);
        // The pairs the targets compare run back to back, so a change in
        // load between them skews the ratio less.
        let mut sends = vec![
            Write::Framed,
            Write::Batched(LENGTH),
            Write::Batched(JSON_HEADER),
            Write::Each(LENGTH),
            Write::Each(TWO_SEND_NAGLE_OFF),
            Write::Each(TWO_SEND_NAGLE_ON),
            Write::Each(SLEEP),
            Write::Each(TWO_SEND_ACK),
        ];
        if size == RAW_WRITE {
            sends.insert(2, Write::Raw);
        }
        for send in sends {
            set_timing(&mut group, send.is_slow());
            let per_iter = send.per_iter(size);
            group.throughput(Throughput::ElementsAndBytes {
                elements: per_iter,
                bytes: per_iter * size as u64,
            });
            let mut case = Oneway::new(&rt, send, size);
            group.bench_with_input(BenchmarkId::new(send.id(), size), &payload, |b, payload| {
                b.iter_custom(|iters| case.run(&rt, payload, iters * per_iter));
            });
            case.close();
        }
    }
    group.finish();
}

/// Ratios measured side by side: the two cases of a pair alternate,
/// `rounds` times, each round timing a fixed amount of work on both; the
/// median of the per-round ratios is what the report quotes. On a machine
/// shared with other jobs, a change in load then hits both sides of a ratio
/// alike, which back-to-back criterion runs cannot promise.
fn paired() {
    let rounds = if quick() { 5 } else { 11 };
    let slice = Duration::from_millis(if quick() { 100 } else { 250 });
    let rt = runtime();
    let mut out = paired::RatioFile::new();
    // One-way: framecheck's batched binary length against Framed, and
    // against raw 64 KiB writes.
    let mut oneway_pairs: Vec<(Write, Write, usize)> = SIZES
        .iter()
        .map(|&size| (Write::Batched(LENGTH), Write::Framed, size))
        .collect();
    oneway_pairs.push((Write::Batched(LENGTH), Write::Raw, RAW_WRITE));
    oneway_pairs.push((Write::Batched(JSON_HEADER), Write::Batched(LENGTH), 256));
    for (a, b, size) in oneway_pairs {
        let payload = payload(size);
        let mut ca = Oneway::new(&rt, a, size);
        let mut cb = Oneway::new(&rt, b, size);
        let n = calibrate(|n| ca.run(&rt, &payload, n), slice);
        let mut ratios = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let ta = ca.run(&rt, &payload, n);
            let tb = cb.run(&rt, &payload, n);
            // Rate of a over rate of b = time of b over time of a.
            ratios.push(tb.as_secs_f64() / ta.as_secs_f64());
        }
        ca.close();
        cb.close();
        let key = paired::key(report::ONEWAY, &a.id(), &b.id(), size as u64);
        out.insert(
            key,
            paired::RatioSummary::of(&mut ratios).expect("rounds > 0"),
        );
    }
    // Request/response at 256 B against the binary length.
    let size = 256;
    let payload = payload(size);
    for other in [JSON_HEADER, TWO_SEND_NAGLE_OFF, TWO_SEND_ACK] {
        let mut ca = ReqResp::new(&rt, other);
        let mut cb = ReqResp::new(&rt, LENGTH);
        let mut sink = Vec::new();
        let n = calibrate(|n| ca.run(&rt, &payload, n, &mut sink), slice);
        let mut ratios = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            sink.clear();
            let ta = ca.run(&rt, &payload, n, &mut sink);
            let tb = cb.run(&rt, &payload, n, &mut sink);
            ratios.push(tb.as_secs_f64() / ta.as_secs_f64());
        }
        ca.close(&rt);
        cb.close(&rt);
        let key = paired::key(report::REQRESP, &other.id(), &LENGTH.id(), size as u64);
        out.insert(
            key,
            paired::RatioSummary::of(&mut ratios).expect("rounds > 0"),
        );
    }
    let path = paired::default_path();
    latency::merge_and_save(&path, out)
        .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    eprintln!("side-by-side ratios written to {}", path.display());
}

/// How many iterations of `run` take about `slice`.
fn calibrate(mut run: impl FnMut(u64) -> Duration, slice: Duration) -> u64 {
    let mut n = 1;
    loop {
        let t = run(n);
        if t >= slice / 4 || n >= 1 << 24 {
            let scaled = slice.as_secs_f64() / t.as_secs_f64().max(1e-9) * n as f64;
            return (scaled as u64).clamp(1, 1 << 26);
        }
        n *= 4;
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    reqresp(&mut c);
    oneway(&mut c);
    c.final_summary();
    if std::env::var_os("FRAMECHECK_BENCH_PAIRED").is_some_and(|v| v == "1") {
        paired();
    }
}
