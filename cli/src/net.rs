//! What the servers share: message formats, deadlines and admission
//! ([`Guarded`], [`Registry`]), the memory budget ([`MemoryBudget`]),
//! rate-limited warnings ([`Throttle`]), graceful shutdown and the
//! `listening on IP:PORT` line.

use std::{
    future::Future,
    io::{self, Write as _},
    net::SocketAddr,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use bytes::{Bytes, BytesMut};
use framecheck_codec::{CodecError, Frame, HeaderCodec, Limits, StrictLengthCodec};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpSocket, TcpStream},
    task::JoinSet,
    time::{Instant, Sleep},
};
use tokio_util::{
    codec::{Decoder, Encoder},
    sync::CancellationToken,
};

mod budget;
mod guard;
mod throttle;

pub use budget::{BudgetError, BudgetKind, Charge, MemoryBudget, DEFAULT_MAX_MEMORY};
pub use guard::{DeadlineError, Deadlines, Guarded, Progress, Registry, Slot};
pub use throttle::Throttle;

/// How messages are delimited on a TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The `HeaderCodec` wire format: `i32` LE header length, JSON header
    /// with `data_size`, body.
    JsonHeader,
    /// A `u32` big-endian length, then the body.
    Length,
    /// No framing: whatever one read returns is taken as one message (the
    /// tutorial's first server). Broken by design, kept to show the problem.
    Raw,
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Format::JsonHeader => "json-header",
            Format::Length => "length",
            Format::Raw => "raw",
        })
    }
}

/// The tutorial's `recv(1024)`: the most one raw read returns.
pub const RAW_READ_SIZE: usize = 1024;

/// A tokio-util codec for any [`Format`], with [`Frame`] as the item (the
/// length and raw formats carry a minimal header).
#[derive(Debug)]
pub enum MsgCodec {
    /// JSON-header frames.
    JsonHeader(HeaderCodec),
    /// Binary-length frames.
    Length(StrictLengthCodec),
    /// One read, one message, at most [`RAW_READ_SIZE`] bytes.
    Raw,
}

impl MsgCodec {
    /// A codec for `format` with `limits` (the length format uses the body
    /// limit; raw has none).
    pub fn new(format: Format, limits: Limits) -> Self {
        match format {
            Format::JsonHeader => MsgCodec::JsonHeader(HeaderCodec::with_limits(limits)),
            Format::Length => MsgCodec::Length(StrictLengthCodec::new(limits.body())),
            Format::Raw => MsgCodec::Raw,
        }
    }
}

impl MsgCodec {
    /// The body length the frame under way declares, once known (see
    /// [`HeaderCodec::declared_body_len`]); never for raw.
    pub fn declared_body_len(&self) -> Option<usize> {
        match self {
            MsgCodec::JsonHeader(c) => c.declared_body_len(),
            MsgCodec::Length(c) => c.declared_body_len(),
            MsgCodec::Raw => None,
        }
    }
}

impl Decoder for MsgCodec {
    type Item = Frame;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        match self {
            MsgCodec::JsonHeader(c) => c.decode(src),
            MsgCodec::Length(c) => Ok(c.decode(src)?.map(|b| Frame::new(b.freeze()))),
            // `FramedRead` calls `decode` after every read: taking what is
            // buffered is "one read = one message".
            MsgCodec::Raw if src.is_empty() => Ok(None),
            MsgCodec::Raw => {
                let n = src.len().min(RAW_READ_SIZE);
                Ok(Some(Frame::new(src.split_to(n).freeze())))
            }
        }
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        match self {
            MsgCodec::JsonHeader(c) => c.decode_eof(buf),
            MsgCodec::Length(c) => Ok(c.decode_eof(buf)?.map(|b| Frame::new(b.freeze()))),
            MsgCodec::Raw => self.decode(buf),
        }
    }
}

impl Encoder<Frame> for MsgCodec {
    type Error = CodecError;

    fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<(), CodecError> {
        match self {
            MsgCodec::JsonHeader(c) => c.encode(frame, dst),
            MsgCodec::Length(c) => c.encode(frame.body, dst),
            MsgCodec::Raw => {
                dst.extend_from_slice(&frame.body);
                Ok(())
            }
        }
    }
}

/// Upper-cases ASCII letters, leaving every other byte alone (the
/// tutorial's `data.upper()`, safe for binary payloads).
pub fn upper(body: &[u8]) -> Bytes {
    Bytes::from(body.to_ascii_uppercase())
}

/// A stream that fails with [`io::ErrorKind::TimedOut`] once neither a read
/// nor a write has made progress for `timeout`: an idle peer, or one that
/// sent a header and then stalled.
#[derive(Debug)]
pub struct IdleStream<S> {
    inner: S,
    timeout: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl<S> IdleStream<S> {
    /// Wraps `inner`; the clock starts now.
    pub fn new(inner: S, timeout: Duration) -> Self {
        IdleStream {
            inner,
            timeout,
            deadline: Box::pin(tokio::time::sleep(timeout)),
        }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped stream, mutably (socket options, say).
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    fn progress(&mut self) {
        let next = Instant::now() + self.timeout;
        self.deadline.as_mut().reset(next);
    }

    fn expired(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(
                DeadlineError::Idle {
                    idle_ms: self.timeout.as_millis(),
                }
                .into(),
            ),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for IdleStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                this.progress();
                Poll::Ready(r)
            }
            Poll::Pending => this.expired(cx).map(Err),
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for IdleStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(r) => {
                this.progress();
                Poll::Ready(r)
            }
            Poll::Pending => this.expired(cx).map(Err),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(r) => {
                this.progress();
                Poll::Ready(r)
            }
            Poll::Pending => this.expired(cx).map(Err),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Binds `addr` and prints `listening on IP:PORT` as the first line of
/// stdout, flushed, so a script or test can read the port back.
///
/// # Errors
///
/// The bind error.
pub async fn listen(addr: &str) -> io::Result<TcpListener> {
    let listener = TcpListener::bind(addr).await?;
    announce(listener.local_addr()?)?;
    Ok(listener)
}

/// [`listen`] for a server with [`ServerOpts`]: with `--send-buffer`, the
/// listening socket's `SO_SNDBUF` is set before it listens, and every
/// connection accepted from it inherits it (Linux, the BSDs, macOS).
///
/// # Errors
///
/// The bind error, or an address that resolves to nothing.
pub async fn listen_server(addr: &str, opts: &ServerOpts) -> io::Result<TcpListener> {
    let listener = match opts.send_buffer {
        0 => TcpListener::bind(addr).await?,
        bytes => bind_with_send_buffer(addr, bytes).await?,
    };
    announce(listener.local_addr()?)?;
    Ok(listener)
}

/// Backlog of a listener bound by [`listen_server`] with a send buffer
/// (what `TcpListener::bind` uses).
const BACKLOG: u32 = 1024;

async fn bind_with_send_buffer(addr: &str, bytes: u32) -> io::Result<TcpListener> {
    let mut last = None;
    for a in tokio::net::lookup_host(addr).await? {
        let socket = if a.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        // As TcpListener::bind does.
        #[cfg(unix)]
        socket.set_reuseaddr(true)?;
        socket.set_send_buffer_size(bytes)?;
        match socket.bind(a) {
            Ok(()) => return socket.listen(BACKLOG),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{addr} resolves to no address"),
        )
    }))
}

/// Prints `listening on IP:PORT` and flushes stdout.
///
/// # Errors
///
/// A failure to write to stdout.
pub fn announce(addr: SocketAddr) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "listening on {addr}")?;
    out.flush()
}

/// A token cancelled on Ctrl-C (SIGINT) or SIGTERM. The handlers are in
/// place when this returns, so call it before announcing the address.
///
/// # Errors
///
/// A failure to install the signal handlers.
pub fn shutdown_on_signal() -> io::Result<CancellationToken> {
    let token = CancellationToken::new();
    let signalled = signals()?;
    let t = token.clone();
    tokio::spawn(async move {
        signalled.await;
        tracing::info!("shutdown requested: no longer accepting connections");
        t.cancel();
    });
    Ok(token)
}

#[cfg(unix)]
fn signals() -> io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
    })
}

#[cfg(not(unix))]
fn signals() -> io::Result<impl Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// Options every TCP server shares.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerOpts {
    /// Close a connection after this many milliseconds without progress in
    /// either direction (an idle peer, or a header and then nothing).
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    pub idle_timeout: u64,
    /// Each frame must be complete within this many milliseconds of its
    /// first byte, plus one second per --min-rate bytes received; each
    /// reply must drain by the same rule. 0: no frame deadline.
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    pub frame_timeout: u64,
    /// The slowest rate, in bytes per second, at which a frame may arrive
    /// or a reply drain once --frame-timeout is used up.
    #[arg(long, value_name = "BYTES_PER_S", default_value_t = 65_536)]
    pub min_rate: u64,
    /// After Ctrl-C, how long open exchanges may take to finish, in
    /// milliseconds, before the process exits.
    #[arg(long, value_name = "MS", default_value_t = 2_000)]
    pub grace: u64,
    /// Connections open at once. When all are taken, a new connection is
    /// still admitted: the one that has made the least progress toward a
    /// frame is closed to make room.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub max_connections: usize,
    /// Connections open at once from one IP address; more are closed as
    /// soon as they are accepted. 0: no cap.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub max_per_ip: usize,
    /// Bytes all connections' buffers may hold together. A frame that
    /// would take the total over it is refused and only its connection
    /// closes.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_MEMORY)]
    pub max_memory: usize,
    /// The kernel's send buffer for each connection, in bytes (SO_SNDBUF;
    /// Linux doubles it for bookkeeping): with the one reply being
    /// written, what a peer that reads nothing can make the server hold
    /// for it. 0: the kernel's default, which Linux grows up to
    /// net.ipv4.tcp_wmem's maximum (4 MiB by default).
    #[arg(long, value_name = "BYTES", default_value_t = 0)]
    pub send_buffer: u32,
}

impl ServerOpts {
    /// The idle timeout as a `Duration`.
    pub fn idle(&self) -> Duration {
        Duration::from_millis(self.idle_timeout.max(1))
    }

    /// The deadlines every connection runs under.
    pub fn deadlines(&self) -> Deadlines {
        Deadlines {
            idle: self.idle(),
            frame: (self.frame_timeout > 0).then(|| Duration::from_millis(self.frame_timeout)),
            min_rate: self.min_rate,
        }
    }

    /// A fresh memory budget of `--max-memory` bytes.
    pub fn budget(&self) -> MemoryBudget {
        MemoryBudget::new(self.max_memory)
    }
}

/// Repeated `accept` failures (EMFILE and friends).
static ACCEPT_FAILED: Throttle = Throttle::new();
/// Connections refused by `--max-per-ip`.
static PER_IP_REFUSED: Throttle = Throttle::new();
/// Connections evicted to admit a new one.
static EVICTED: Throttle = Throttle::new();

/// Accepts connections until `shutdown` is cancelled, running `handle` for
/// each on its own task; then waits up to `opts.grace` for open connections
/// to finish. Handlers see `shutdown` too, and should stop reading new
/// messages once it is cancelled. At `--max-connections`, further
/// connections wait in the kernel's accept queue (see [`serve_guarded`]
/// for admission that trickling peers cannot block).
///
/// # Errors
///
/// Never for a single failed `accept` (logged, rate-limited, and retried
/// after a pause); only if the listener itself cannot report its address.
pub async fn serve<F, Fut>(
    listener: TcpListener,
    opts: &ServerOpts,
    shutdown: CancellationToken,
    handle: F,
) -> io::Result<()>
where
    F: Fn(TcpStream, SocketAddr, CancellationToken) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let local = listener.local_addr()?;
    let mut tasks = JoinSet::new();
    loop {
        let accept_allowed = tasks.len() < opts.max_connections;
        tokio::select! {
            _ = shutdown.cancelled() => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            accepted = listener.accept(), if accept_allowed => match accepted {
                Ok((stream, peer)) => {
                    tracing::debug!(%peer, "accepted");
                    tasks.spawn(handle(stream, peer, shutdown.clone()));
                }
                Err(e) => accept_failed(&e).await,
            },
        }
    }
    drain(tasks, local, opts).await;
    Ok(())
}

/// Connections beyond `--max-connections` that may be open while evicted
/// ones close.
const EVICTION_SLACK: usize = 64;

/// [`serve`] with deadlines and admission: each connection's stream is
/// [`Guarded`] by `opts.deadlines()`; when `--max-connections` are open,
/// a new one is admitted and the connection with the least progress
/// toward a frame is evicted; past `--max-per-ip` from one address, a new
/// connection is closed at once.
///
/// # Errors
///
/// As [`serve`].
pub async fn serve_guarded<F, Fut>(
    listener: TcpListener,
    opts: &ServerOpts,
    shutdown: CancellationToken,
    handle: F,
) -> io::Result<()>
where
    F: Fn(Guarded<TcpStream>, SocketAddr, CancellationToken) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let local = listener.local_addr()?;
    let registry = Registry::new();
    let deadlines = opts.deadlines();
    let max = opts.max_connections.max(1);
    let mut tasks = JoinSet::new();
    loop {
        let accept_allowed = tasks.len() < max + EVICTION_SLACK;
        tokio::select! {
            _ = shutdown.cancelled() => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            accepted = listener.accept(), if accept_allowed => match accepted {
                Ok((stream, peer)) => {
                    let ip = peer.ip();
                    if opts.max_per_ip > 0 && registry.from_ip(ip) >= opts.max_per_ip {
                        let cap = opts.max_per_ip;
                        PER_IP_REFUSED.warn(|| format!(
                            "refused a connection from {ip}: {cap} open from it already (--max-per-ip)"
                        ));
                        drop(stream);
                        continue;
                    }
                    if registry.active() >= max {
                        if let Some(victim) = registry.evict_least_progress() {
                            EVICTED.warn(|| format!(
                                "all {max} connection slots taken: evicted the connection from {victim} that had made the least progress, to admit {peer}"
                            ));
                        }
                    }
                    tracing::debug!(%peer, "accepted");
                    let (stream, slot) = registry.admit(stream, ip, deadlines);
                    let fut = handle(stream, peer, shutdown.clone());
                    tasks.spawn(async move {
                        let _slot = slot;
                        fut.await;
                    });
                }
                Err(e) => accept_failed(&e).await,
            },
        }
    }
    drain(tasks, local, opts).await;
    Ok(())
}

static CLOSE_BAD_FRAME: Throttle = Throttle::new();
static CLOSE_IDLE: Throttle = Throttle::new();
static CLOSE_FRAME_TIMEOUT: Throttle = Throttle::new();
static CLOSE_DRAIN: Throttle = Throttle::new();
static CLOSE_BUDGET: Throttle = Throttle::new();
static CLOSE_OTHER: Throttle = Throttle::new();

/// Logs why a connection closes, rate-limited per kind of reason (a bad
/// frame, each deadline, the memory budget, anything else), so a flood of
/// bad peers leaves a count, not a flood of lines; an eviction (already
/// logged when it happens) and a peer's reset are logged at debug level.
pub fn warn_closing(error: &(dyn std::error::Error + 'static), message: impl FnOnce() -> String) {
    let throttle = match classify(error) {
        Reason::Evicted | Reason::Reset => {
            tracing::debug!("{}", message());
            return;
        }
        Reason::Frame => &CLOSE_BAD_FRAME,
        Reason::Idle => &CLOSE_IDLE,
        Reason::FrameTimeout => &CLOSE_FRAME_TIMEOUT,
        Reason::Drain => &CLOSE_DRAIN,
        Reason::Budget => &CLOSE_BUDGET,
        Reason::Other => &CLOSE_OTHER,
    };
    throttle.warn(message);
}

enum Reason {
    Frame,
    Idle,
    FrameTimeout,
    Drain,
    Evicted,
    Budget,
    Reset,
    Other,
}

/// Walks the error's chain (into `io::Error`'s inner error too, which its
/// `source()` skips) for the first error that says what happened.
fn classify(error: &(dyn std::error::Error + 'static)) -> Reason {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(d) = e.downcast_ref::<DeadlineError>() {
            return match d {
                DeadlineError::Idle { .. } => Reason::Idle,
                DeadlineError::Frame { .. } => Reason::FrameTimeout,
                DeadlineError::Drain { .. } => Reason::Drain,
                _ => Reason::Evicted,
            };
        }
        if e.is::<BudgetError>() {
            return Reason::Budget;
        }
        if e.is::<framecheck_codec::FrameError>() {
            return Reason::Frame;
        }
        if let Some(io) = e.downcast_ref::<io::Error>() {
            if let Some(inner) = io.get_ref() {
                next = Some(inner);
                continue;
            }
            if matches!(
                io.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
            ) {
                return Reason::Reset;
            }
        }
        next = e.source();
    }
    Reason::Other
}

/// Logs a failed `accept` (rate-limited) and pauses instead of spinning.
async fn accept_failed(e: &io::Error) {
    ACCEPT_FAILED.warn(|| format!("accept failed: {e}"));
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// After the listener closed: waits up to `opts.grace` for the open
/// connections, then aborts the rest.
async fn drain(mut tasks: JoinSet<()>, local: SocketAddr, opts: &ServerOpts) {
    let open = tasks.len();
    tracing::info!(%local, open, grace_ms = opts.grace, "stopped accepting; draining");
    let drained = tokio::time::timeout(Duration::from_millis(opts.grace), async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            left = tasks.len(),
            "grace period over; closing remaining connections"
        );
        tasks.abort_all();
    }
}

/// Waits for `fut` unless `shutdown` is cancelled first; after
/// cancellation, `fut` (an exchange already under way) gets `grace` more to
/// finish. `None` when it did not.
pub async fn or_shutdown<T>(
    fut: impl Future<Output = T>,
    shutdown: &CancellationToken,
    grace: Duration,
) -> Option<T> {
    tokio::pin!(fut);
    tokio::select! {
        v = &mut fut => Some(v),
        _ = shutdown.cancelled() => tokio::time::timeout(grace, fut).await.ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use framecheck_codec::FrameError;

    fn length_codec(limit: usize) -> MsgCodec {
        MsgCodec::new(Format::Length, Limits::default().max_body_len(limit))
    }

    #[test]
    fn length_over_limit_is_a_typed_error_with_the_numbers() {
        let mut c = length_codec(100);
        let mut src = BytesMut::from(&5000u32.to_be_bytes()[..]);
        match c.decode(&mut src) {
            Err(CodecError::Frame(e)) => {
                assert_eq!(
                    e,
                    FrameError::BodyTooLong {
                        declared: 5000,
                        limit: 100
                    }
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn length_frames_decode_byte_by_byte_and_body_bytes_are_not_taken_for_a_head() {
        let mut c = length_codec(100);
        // A body whose first bytes, read as a length, would be over the limit.
        let mut wire = Vec::new();
        for body in [&[0xff_u8, 0xff, 0xff, 0xff, 1][..], b"ok", b""] {
            wire.extend_from_slice(&(body.len() as u32).to_be_bytes());
            wire.extend_from_slice(body);
        }
        let mut src = BytesMut::new();
        let mut got = Vec::new();
        for b in wire {
            src.extend_from_slice(&[b]);
            while let Some(f) = c.decode(&mut src).unwrap() {
                got.push(f.body);
            }
        }
        assert_eq!(got, [&[0xff_u8, 0xff, 0xff, 0xff, 1][..], b"ok", b""]);
        assert_eq!(c.decode_eof(&mut src).unwrap(), None);
    }

    #[tokio::test]
    async fn idle_stream_gives_access_to_the_wrapped_stream() {
        use tokio::io::AsyncReadExt;
        let mut s = IdleStream::new(io::Cursor::new(b"abc".to_vec()), Duration::from_secs(5));
        assert_eq!(s.get_ref().get_ref(), b"abc");
        let mut first = [0u8; 1];
        s.read_exact(&mut first).await.unwrap();
        assert_eq!((first, s.get_ref().position()), (*b"a", 1));
        s.get_mut().set_position(2);
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b"c");
    }

    #[test]
    fn raw_takes_one_read_as_one_message_up_to_the_read_size() {
        let mut c = MsgCodec::new(Format::Raw, Limits::default());
        let mut src = BytesMut::from(&vec![b'a'; RAW_READ_SIZE + 10][..]);
        assert_eq!(
            c.decode(&mut src).unwrap().unwrap().body.len(),
            RAW_READ_SIZE
        );
        assert_eq!(c.decode(&mut src).unwrap().unwrap().body.len(), 10);
        assert_eq!(c.decode(&mut src).unwrap(), None);
    }
}
