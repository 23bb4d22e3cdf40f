//! `udp-echo-server` and `udp-echo-client`: the tutorial's UDP pair.
//!
//! UDP keeps message boundaries (one datagram in, one datagram out, never
//! merged or split) but limits each datagram's size: at most 65 507 bytes
//! of payload over IPv4 (65 535 less the IP and UDP headers), and a
//! receiver whose buffer is smaller than the datagram silently loses the
//! rest. The server reports that truncation instead of hiding it.

use std::{io, net::SocketAddr, time::Duration};

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    net::UdpSocket,
};

use crate::net::{self, Throttle};

/// Largest UDP payload over IPv4: 65 535 − 20 (IP header) − 8 (UDP header).
pub const MAX_DATAGRAM: usize = 65_507;

/// `framecheck udp-echo-server`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// Address to listen on; port 0 picks a free one (printed first).
    #[arg(long, default_value = "127.0.0.1:9998")]
    pub listen: String,
    /// Receive buffer size in bytes (the tutorial's `recvfrom(1024)`); a
    /// longer datagram is truncated by the kernel, and reported.
    #[arg(long, value_name = "BYTES", default_value_t = MAX_DATAGRAM)]
    pub recv_size: usize,
}

/// Oversize datagrams, logged once per window with a count.
static OVERSIZE: Throttle = Throttle::new();
/// Failed receives.
static RECV_FAILED: Throttle = Throttle::new();
/// Failed replies.
static REPLY_FAILED: Throttle = Throttle::new();

/// Runs the UDP echo server until Ctrl-C. Repeated warnings (oversize
/// datagrams, failed receives or replies) are rate-limited with a count.
///
/// # Errors
///
/// The bind error, or a failure of the socket itself.
pub async fn run_server(args: ServerArgs) -> io::Result<()> {
    let socket = UdpSocket::bind(&args.listen).await?;
    let shutdown = net::shutdown_on_signal()?;
    net::announce(socket.local_addr()?)?;
    // One byte more than allowed: a datagram that fills it was cut short.
    let cap = args.recv_size.clamp(1, MAX_DATAGRAM);
    let mut buf = vec![0u8; cap + 1];
    loop {
        let (n, peer) = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            r = socket.recv_from(&mut buf) => match r {
                Ok(v) => v,
                Err(e) => {
                    // An ICMP "port unreachable" from an earlier reply shows up
                    // here on some systems; it concerns one peer only.
                    RECV_FAILED.warn(|| format!("recv_from failed: {e}"));
                    continue;
                }
            },
        };
        if n > cap {
            OVERSIZE.warn(|| format!(
                "datagram from {peer} longer than the {cap}-byte receive buffer: the rest was discarded by the kernel; dropped"
            ));
            continue;
        }
        tracing::debug!(%peer, bytes = n, "datagram");
        if let Err(e) = socket.send_to(&net::upper(&buf[..n]), peer).await {
            REPLY_FAILED.warn(|| format!("reply to {peer} failed: {e}"));
        }
    }
}

/// `framecheck udp-echo-client`.
#[derive(Debug, Clone, clap::Args)]
pub struct ClientArgs {
    /// Server address.
    #[arg(long, default_value = "127.0.0.1:9998")]
    pub connect: String,
    /// How long to wait for each reply, in milliseconds (UDP may lose
    /// datagrams; nothing is retried).
    #[arg(long, value_name = "MS", default_value_t = 1_000)]
    pub timeout: u64,
}

/// Why one line did not come back.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DatagramError {
    /// The line is longer than one UDP datagram can carry.
    TooLarge {
        /// The line's length in bytes.
        len: usize,
        /// [`MAX_DATAGRAM`].
        limit: usize,
    },
    /// No reply within the timeout.
    NoReply {
        /// The timeout in milliseconds.
        timeout_ms: u128,
    },
}

impl std::fmt::Display for DatagramError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatagramError::TooLarge { len, limit } => write!(
                f,
                "datagram of {len} bytes exceeds the UDP limit of {limit} bytes (IPv4); not sent"
            ),
            DatagramError::NoReply { timeout_ms } => {
                write!(f, "no reply within {timeout_ms} ms (lost, or no server)")
            }
        }
    }
}

impl std::error::Error for DatagramError {}

/// Sends every stdin line as one datagram, waits for its reply and prints
/// it on its own line. A line that cannot be sent or gets no reply is
/// reported on stderr and the rest go on; returns how many failed.
///
/// # Errors
///
/// Socket errors other than a per-datagram failure.
pub async fn run_client(args: ClientArgs) -> io::Result<usize> {
    let server: SocketAddr = tokio::net::lookup_host(&args.connect)
        .await?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address for --connect"))?;
    let bind: SocketAddr = if server.is_ipv4() {
        "0.0.0.0:0".parse().expect("valid literal")
    } else {
        "[::]:0".parse().expect("valid literal")
    };
    let socket = UdpSocket::bind(bind).await?;
    socket.connect(server).await?;
    let timeout = Duration::from_millis(args.timeout.max(1));
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut buf = vec![0u8; MAX_DATAGRAM + 1];
    let mut failed = 0;
    let mut out = std::io::stdout();
    while let Some(line) = lines.next_line().await? {
        match exchange(&socket, line.as_bytes(), &mut buf, timeout).await? {
            Ok(n) => {
                use std::io::Write as _;
                out.write_all(&buf[..n])?;
                out.write_all(b"\n")?;
                out.flush()?;
            }
            Err(e) => {
                failed += 1;
                eprintln!("framecheck: {e}");
            }
        }
    }
    Ok(failed)
}

async fn exchange(
    socket: &UdpSocket,
    msg: &[u8],
    buf: &mut [u8],
    timeout: Duration,
) -> io::Result<Result<usize, DatagramError>> {
    if msg.len() > MAX_DATAGRAM {
        return Ok(Err(DatagramError::TooLarge {
            len: msg.len(),
            limit: MAX_DATAGRAM,
        }));
    }
    socket.send(msg).await?;
    match tokio::time::timeout(timeout, socket.recv(buf)).await {
        Ok(Ok(n)) => Ok(Ok(n)),
        // ECONNREFUSED from an ICMP port-unreachable: nobody is listening.
        Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => {
            Ok(Err(DatagramError::NoReply {
                timeout_ms: timeout.as_millis(),
            }))
        }
        Ok(Err(e)) => Err(e),
        Err(_) => Ok(Err(DatagramError::NoReply {
            timeout_ms: timeout.as_millis(),
        })),
    }
}
