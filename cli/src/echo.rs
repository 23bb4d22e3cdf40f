//! `echo-server` and `echo-client`: the tutorial's TCP pair, in any
//! [`Format`].
//!
//! The server replies to every message with its body upper-cased. In the
//! `json-header` format the reply carries the request's header bytes as
//! the peer sent them (upper-casing keeps the length, so `data_size` still
//! holds), and a header that was within the limit on the way in is within
//! it on the way out; in `raw`, one read is one message, so what the client
//! sent as separate lines may come back merged or split.
//!
//! Against hostile peers the server runs under [`ServerOpts`]: deadlines
//! per frame and per reply, admission that evicts the slowest connection
//! when all slots are taken, a memory budget shared by all connections,
//! and no reading from a peer while its reply is still being written.

use std::{net::SocketAddr, time::Duration};

use bytes::{Bytes, BytesMut};
use framecheck_codec::{CodecError, Frame, Limits, VerbatimCodec, VerbatimFrame};
use futures_util::{SinkExt, StreamExt};
use tokio::{
    io::{AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader},
    net::TcpStream,
    sync::mpsc,
};
use tokio_util::{
    codec::{Decoder, Framed, FramedRead, FramedWrite},
    sync::CancellationToken,
};

use crate::net::{self, BudgetError, Charge, Format, Guarded, MsgCodec, ServerOpts};

/// `framecheck echo-server`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// Address to listen on; port 0 picks a free one (printed first).
    #[arg(long, default_value = "127.0.0.1:9999")]
    pub listen: String,
    /// How messages are delimited.
    #[arg(long, value_enum, default_value_t = Format::JsonHeader)]
    pub format: Format,
    /// Largest message body accepted, in bytes; a larger one closes the
    /// connection with a typed error.
    #[arg(long, value_name = "BYTES", default_value_t = framecheck_codec::DEFAULT_MAX_BODY_LEN)]
    pub max_size: usize,
    /// Shared server options.
    #[command(flatten)]
    pub server: ServerOpts,
}

/// Runs the echo server until Ctrl-C.
///
/// # Errors
///
/// The bind error; per-connection errors are logged, not returned.
pub async fn run_server(args: ServerArgs) -> std::io::Result<()> {
    let shutdown = net::shutdown_on_signal()?;
    let listener = net::listen_server(&args.listen, &args.server).await?;
    tracing::info!(format = %args.format, max_size = args.max_size, "echo server ready");
    let limits = Limits::default().max_body_len(args.max_size);
    let format = args.format;
    let grace = Duration::from_millis(args.server.grace);
    let budget = args.server.budget();
    net::serve_guarded(
        listener,
        &args.server,
        shutdown,
        move |stream, peer, shutdown| {
            let codec = ServerCodec::new(format, limits, budget.charge());
            serve_conn(stream, peer, codec, grace, shutdown)
        },
    )
    .await
}

/// Above this capacity, a read buffer left nearly empty after a reply is
/// replaced by a small one, so that an idle connection does not keep the
/// allocation of its largest frame.
const SHRINK_ABOVE: usize = 64 * 1024;
/// Size of one upper-cased piece of a reply.
const REPLY_CHUNK: usize = 64 * 1024;

async fn serve_conn(
    mut stream: Guarded<TcpStream>,
    peer: SocketAddr,
    codec: ServerCodec,
    grace: Duration,
    shutdown: CancellationToken,
) {
    // Replies are whole messages: send them at once.
    if let Err(e) = stream.get_mut().set_nodelay(true) {
        tracing::debug!(%peer, error = %e, "set_nodelay failed");
    }
    let mut framed = Framed::new(stream, codec);
    let mut served = 0u64;
    loop {
        let Some(next) = net::or_shutdown(framed.next(), &shutdown, grace).await else {
            tracing::debug!(%peer, served, "closing at shutdown");
            break;
        };
        let request = match next {
            None => {
                tracing::debug!(%peer, served, "peer closed");
                break;
            }
            Some(Err(e)) => {
                net::warn_closing(&e, || {
                    format!("closing connection from {peer} after {served} replies: {e}")
                });
                break;
            }
            Some(Ok(request)) => request,
        };
        // While the reply is written nothing more is read: a peer that does
        // not read its replies holds one reply, and the drain deadline.
        let limits = *framed.codec().limits();
        if let Err(e) = reply(framed.get_mut(), request, &limits).await {
            net::warn_closing(&e, || {
                format!("reply to {peer} failed after {served} replies; closing connection: {e}")
            });
            // Reset rather than close: the kernel would otherwise keep the
            // unsent reply and go on feeding it to a peer that reads too
            // slowly.
            if let Err(e) = framed.get_mut().get_mut().set_zero_linger() {
                tracing::debug!(%peer, error = %e, "could not set SO_LINGER 0");
            }
            break;
        }
        served += 1;
        let buf = framed.read_buffer_mut();
        if buf.capacity() > SHRINK_ABOVE && buf.len() <= SHRINK_ABOVE / 4 {
            *buf = BytesMut::from(&buf[..]);
        }
        let held = framed.read_buffer().capacity();
        framed.codec_mut().reply_sent(held);
        let next_started = !framed.read_buffer().is_empty();
        framed.get_mut().frame_done(next_started);
    }
}

/// Writes the reply to `request`: its header as received (json-header) or
/// the format's length field, then the body upper-cased, a piece at a time.
async fn reply<S>(io: &mut S, request: Request, limits: &Limits) -> Result<(), ConnError>
where
    S: AsyncWrite + Unpin,
{
    let mut out = Vec::new();
    let body = match request {
        Request::Json(frame) => {
            out.extend_from_slice(&frame.length_field(limits).map_err(CodecError::from)?);
            let (_, header, body) = frame.into_parts();
            out.extend_from_slice(&header);
            body
        }
        Request::Length(body) => {
            // The body came in under the limit, so its length fits a u32
            // (StrictLengthCodec refuses anything longer).
            let len = u32::try_from(body.len()).map_err(|_| {
                CodecError::from(framecheck_codec::FrameError::BodyTooLong {
                    declared: body.len() as u64,
                    limit: limits.body(),
                })
            })?;
            out.extend_from_slice(&len.to_be_bytes());
            body
        }
        Request::Raw(body) => body,
    };
    let mut rest = &body[..];
    loop {
        let take = rest.len().min(REPLY_CHUNK);
        out.extend(rest[..take].iter().map(u8::to_ascii_uppercase));
        rest = &rest[take..];
        io.write_all(&out).await?;
        out.clear();
        if rest.is_empty() {
            break;
        }
    }
    io.flush().await?;
    Ok(())
}

/// A request, as the server's codec decodes it.
#[derive(Debug)]
enum Request {
    /// A json-header frame, with its header bytes as received.
    Json(VerbatimFrame),
    /// A length-format body.
    Length(Bytes),
    /// One raw read.
    Raw(Bytes),
}

/// The server's codec: the format's decoder (json-header through
/// [`VerbatimCodec`], so the reply can carry the header bytes the peer
/// sent) with the connection's memory [`Charge`] kept up to date.
#[derive(Debug)]
struct ServerCodec {
    inner: Inner,
    limits: Limits,
    charge: Charge,
    /// Body bytes of the request being answered, held until the reply is out.
    in_flight: usize,
    /// Whether the frame under way had its declared length weighed.
    claimed: bool,
}

#[derive(Debug)]
enum Inner {
    Json(VerbatimCodec),
    Other(MsgCodec),
}

impl ServerCodec {
    fn new(format: Format, limits: Limits, charge: Charge) -> Self {
        let inner = match format {
            Format::JsonHeader => Inner::Json(VerbatimCodec::with_limits(limits)),
            other => Inner::Other(MsgCodec::new(other, limits)),
        };
        ServerCodec {
            inner,
            limits,
            charge,
            in_flight: 0,
            claimed: false,
        }
    }

    fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The reply is out: the request's body is no longer held, only the
    /// read buffer (`buffered` bytes of capacity).
    fn reply_sent(&mut self, buffered: usize) {
        self.in_flight = 0;
        // Lowering a charge cannot fail; a higher one is checked at the
        // next decode.
        let _ = self.charge.set(buffered.min(self.charge.held()));
    }

    fn decode_with(&mut self, src: &mut BytesMut, eof: bool) -> Result<Option<Request>, ConnError> {
        let request = match (&mut self.inner, eof) {
            (Inner::Json(c), false) => c.decode(src)?.map(Request::Json),
            (Inner::Json(c), true) => c.decode_eof(src)?.map(Request::Json),
            (Inner::Other(c), eof) => {
                let frame = if eof {
                    c.decode_eof(src)?
                } else {
                    c.decode(src)?
                };
                frame.map(|f| match c {
                    MsgCodec::Raw => Request::Raw(f.body),
                    _ => Request::Length(f.body),
                })
            }
        };
        if let Some(r) = &request {
            self.in_flight = match r {
                Request::Json(f) => f.header_json().len() + f.body().len(),
                Request::Length(b) | Request::Raw(b) => b.len(),
            };
            self.claimed = false;
        }
        self.charge.set(src.capacity() + self.in_flight)?;
        if request.is_none() && !self.claimed {
            let declared = match &self.inner {
                Inner::Json(c) => c.declared_body_len(),
                Inner::Other(c) => c.declared_body_len(),
            };
            if let Some(n) = declared {
                self.charge.check_claim(n.saturating_sub(src.len()))?;
                self.claimed = true;
            }
        }
        Ok(request)
    }
}

impl Decoder for ServerCodec {
    type Item = Request;
    type Error = ConnError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Request>, ConnError> {
        self.decode_with(src, false)
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Request>, ConnError> {
        self.decode_with(src, true)
    }
}

/// Why the echo server closed a connection.
#[derive(Debug)]
enum ConnError {
    /// A bad frame or a transport error (deadlines included).
    Codec(CodecError),
    /// The memory budget is spent.
    Budget(BudgetError),
}

impl std::fmt::Display for ConnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnError::Codec(e) => e.fmt(f),
            ConnError::Budget(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ConnError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConnError::Codec(e) => Some(e),
            ConnError::Budget(e) => Some(e),
        }
    }
}

impl From<CodecError> for ConnError {
    fn from(e: CodecError) -> Self {
        ConnError::Codec(e)
    }
}

impl From<BudgetError> for ConnError {
    fn from(e: BudgetError) -> Self {
        ConnError::Budget(e)
    }
}

impl From<std::io::Error> for ConnError {
    fn from(e: std::io::Error) -> Self {
        ConnError::Codec(CodecError::Io(e))
    }
}

/// `framecheck echo-client`.
#[derive(Debug, Clone, clap::Args)]
pub struct ClientArgs {
    /// Server (or slice-proxy) address.
    #[arg(long, default_value = "127.0.0.1:9999")]
    pub connect: String,
    /// How messages are delimited; must match the server.
    #[arg(long, value_enum, default_value_t = Format::JsonHeader)]
    pub format: Format,
    /// Give up when a reply is due and none arrives within this many
    /// milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    pub timeout: u64,
}

/// What the client got back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientSummary {
    /// Messages sent (non-empty lines in `raw`).
    pub sent: u64,
    /// Replies printed (reads, in `raw`).
    pub replies: u64,
}

/// Sends every stdin line as one message and prints each reply body on its
/// own line, in order. In `raw` the client cannot know where replies end:
/// it prints every read on its own line and stops once as many bytes came
/// back as it sent (empty lines are skipped: they would send nothing).
///
/// # Errors
///
/// Connection, framing and timeout errors, and a server that closes before
/// every reply arrived.
pub async fn run_client(args: ClientArgs) -> std::io::Result<ClientSummary> {
    use std::io::{Error, ErrorKind};

    let stream = TcpStream::connect(&args.connect).await?;
    stream.set_nodelay(true)?;
    let timeout = Duration::from_millis(args.timeout.max(1));
    let (rd, wr) = stream.into_split();
    let limits = Limits::default();
    let format = args.format;
    // Each sent message's length, for the reader to know what to expect.
    let (tx, mut rx) = mpsc::unbounded_channel::<usize>();
    let writer = tokio::spawn(async move {
        let mut sink = FramedWrite::new(wr, MsgCodec::new(format, limits));
        let mut lines = BufReader::new(tokio::io::stdin()).lines();
        let mut sent = 0u64;
        while let Some(line) = lines.next_line().await? {
            if format == Format::Raw && line.is_empty() {
                continue;
            }
            let len = line.len();
            sink.send(Frame::new(line.into_bytes())).await?;
            sent += 1;
            if tx.send(len).is_err() {
                break;
            }
        }
        sink.get_mut().shutdown().await?;
        Ok::<u64, std::io::Error>(sent)
    });

    let mut replies = FramedRead::new(rd, MsgCodec::new(format, limits));
    let mut out = std::io::BufWriter::new(std::io::stdout());
    let mut count = 0u64;
    // Replies still due: messages, or bytes in `raw`.
    let unit = |len: usize| if format == Format::Raw { len as i64 } else { 1 };
    let mut owed = 0i64;
    let mut input_done = false;
    loop {
        while let Ok(len) = rx.try_recv() {
            owed += unit(len);
        }
        if owed <= 0 {
            if input_done {
                break;
            }
            match rx.recv().await {
                Some(len) => owed += unit(len),
                None => input_done = true,
            }
            continue;
        }
        let next = tokio::time::timeout(timeout, replies.next())
            .await
            .map_err(|_| {
                Error::new(
                    ErrorKind::TimedOut,
                    format!(
                        "no reply within {} ms after {count} replies",
                        timeout.as_millis()
                    ),
                )
            })?;
        let frame = match next {
            Some(r) => r?,
            None => {
                return Err(Error::new(
                    ErrorKind::UnexpectedEof,
                    format!("server closed the connection after {count} replies; more were due"),
                ))
            }
        };
        use std::io::Write as _;
        out.write_all(&frame.body)?;
        out.write_all(b"\n")?;
        count += 1;
        owed -= match format {
            Format::Raw => frame.body.len() as i64,
            _ => 1,
        };
        if owed <= 0 {
            // Caught up: show the replies now (an interactive user waits).
            out.flush()?;
        }
    }
    {
        use std::io::Write as _;
        out.flush()?;
    }
    let sent = writer
        .await
        .map_err(|e| Error::other(format!("writer task failed: {e}")))??;
    Ok(ClientSummary {
        sent,
        replies: count,
    })
}
