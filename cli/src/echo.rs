//! `echo-server` and `echo-client`: the tutorial's TCP pair, in any
//! [`Format`].
//!
//! The server replies to every message with its body upper-cased. In the
//! `json-header` format the reply keeps the request's header fields and
//! fixes `data_size`; in `raw`, one read is one message, so what the client
//! sent as separate lines may come back merged or split.

use std::{net::SocketAddr, time::Duration};

use framecheck_codec::{Frame, Limits};
use futures_util::{SinkExt, StreamExt};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::TcpStream,
    sync::mpsc,
};
use tokio_util::{
    codec::{Framed, FramedRead, FramedWrite},
    sync::CancellationToken,
};

use crate::net::{self, Format, IdleStream, MsgCodec, ServerOpts};

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
    let listener = net::listen(&args.listen).await?;
    tracing::info!(format = %args.format, max_size = args.max_size, "echo server ready");
    let limits = Limits::default().max_body_len(args.max_size);
    let (format, idle, grace) = (args.format, args.server.idle(), args.server.grace);
    net::serve(
        listener,
        &args.server,
        shutdown,
        move |stream, peer, shutdown| {
            serve_conn(
                stream,
                peer,
                format,
                limits,
                idle,
                Duration::from_millis(grace),
                shutdown,
            )
        },
    )
    .await
}

async fn serve_conn(
    stream: TcpStream,
    peer: SocketAddr,
    format: Format,
    limits: Limits,
    idle: Duration,
    grace: Duration,
    shutdown: CancellationToken,
) {
    // Replies are whole messages: send them at once.
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(%peer, error = %e, "set_nodelay failed");
    }
    let mut framed = Framed::new(IdleStream::new(stream, idle), MsgCodec::new(format, limits));
    let mut served = 0u64;
    loop {
        let Some(next) = net::or_shutdown(framed.next(), &shutdown, grace).await else {
            tracing::debug!(%peer, served, "closing at shutdown");
            break;
        };
        let frame = match next {
            None => {
                tracing::debug!(%peer, served, "peer closed");
                break;
            }
            Some(Err(e)) => {
                tracing::warn!(%peer, served, error = %e, "closing connection");
                break;
            }
            Some(Ok(frame)) => frame,
        };
        let reply = Frame::with_header(frame.header, net::upper(&frame.body));
        if let Err(e) = framed.send(reply).await {
            tracing::warn!(%peer, served, error = %e, "reply failed; closing connection");
            break;
        }
        served += 1;
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
