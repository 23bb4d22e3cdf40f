//! The servers against hostile peers, each attack scaled to seconds
//! (`ci/attack.sh` runs the full-size versions and prints the figures).

mod common;

use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{Server, LIMIT};
use framecheck_codec::{Frame, HeaderCodec};
use futures_util::{SinkExt, StreamExt};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
};
use tokio_util::codec::Framed;

/// A header-length field and a header declaring `data_size` body bytes.
fn prefix(data_size: usize) -> Vec<u8> {
    let h = format!(r#"{{"data_size": {data_size}}}"#);
    let mut v = (h.len() as i32).to_le_bytes().to_vec();
    v.extend_from_slice(h.as_bytes());
    v
}

/// One message through the echo server on a fresh connection; the reply
/// body, and how long it took from connect to reply.
async fn good_exchange(addr: &str) -> (Bytes, Duration) {
    let started = Instant::now();
    let stream = TcpStream::connect(addr).await.unwrap();
    let mut framed = Framed::new(stream, HeaderCodec::new());
    framed.send(Frame::new(&b"good client"[..])).await.unwrap();
    let reply = tokio::time::timeout(LIMIT, framed.next())
        .await
        .expect("no reply in time")
        .expect("server closed")
        .unwrap();
    (reply.body, started.elapsed())
}

/// Waits (bounded) until `stream` is closed by the server; how long that took.
async fn closed_within(stream: &mut TcpStream) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(LIMIT, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await
    .expect("the server did not close the connection");
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_of_8_mib_with_no_body_cannot_exhaust_a_2_gib_address_space() {
    // 400 headers declaring 8 MiB are 3.2 GiB of claims: a decoder that
    // reserved them would abort under this limit.
    let mut server = Server::start_limited(
        "ulimit -v 2097152",
        &["echo-server", "--listen", "127.0.0.1:0"],
        &[],
    )
    .await;
    let header = prefix(8 << 20);
    let mut attackers = Vec::new();
    for _ in 0..400 {
        let mut s = TcpStream::connect(&server.addr).await.unwrap();
        s.write_all(&header).await.unwrap();
        attackers.push(s);
    }
    // Every header has been read and parsed by the time this is answered
    // (accepts and reads are served in order on a quiet server).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (body, _) = good_exchange(&server.addr).await;
    assert_eq!(body, Bytes::from_static(b"GOOD CLIENT"));
    assert!(server.alive(), "server died: {}", server.log());
    let log = server.log();
    assert!(!log.contains("memory allocation"), "{log}");
    drop(attackers);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_budget_refuses_the_claim_that_would_exceed_it_and_only_that_one() {
    let server = Server::start(&[
        "echo-server",
        "--listen",
        "127.0.0.1:0",
        "--max-memory",
        "12582912",
    ])
    .await;
    // A holds 6 MiB of body (one byte short of its frame).
    let body = vec![b'a'; 6 << 20];
    let mut a = TcpStream::connect(&server.addr).await.unwrap();
    a.write_all(&prefix(body.len())).await.unwrap();
    a.write_all(&body[..body.len() - 1]).await.unwrap();
    // Time for the server to take A's bytes out of the kernel's buffers.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    // B declares 8 MiB: more than is left.
    let mut b = TcpStream::connect(&server.addr).await.unwrap();
    b.write_all(&prefix(8 << 20)).await.unwrap();
    closed_within(&mut b).await;
    let log = server.wait_for_log("memory budget spent").await;
    assert!(
        log.contains("memory budget spent: a frame declaring 8388608 more bytes refused"),
        "{log}"
    );
    // A is untouched: it finishes and gets its reply.
    a.write_all(b"a").await.unwrap();
    let mut framed = Framed::new(a, HeaderCodec::new());
    let reply = tokio::time::timeout(LIMIT, framed.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(reply.body.len(), 6 << 20);
    assert!(reply.body.iter().all(|&c| c == b'A'));
    let (body, _) = good_exchange(&server.addr).await;
    assert_eq!(body, Bytes::from_static(b"GOOD CLIENT"));
}

/// Connects `n` peers that each send a frame's first bytes, then one more
/// byte every `every`, for as long as the returned handle lives.
async fn tricklers(addr: &str, n: usize, every: Duration) -> tokio::task::JoinSet<()> {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        let mut s = TcpStream::connect(addr).await.unwrap();
        set.spawn(async move {
            let header = br#"{"data_size": 5, "padding": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}"#;
            let mut wire = (header.len() as i32).to_le_bytes().to_vec();
            wire.extend_from_slice(header);
            for byte in wire {
                if s.write_all(&[byte]).await.is_err() {
                    return;
                }
                tokio::time::sleep(every).await;
            }
        });
    }
    set
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_trickling_into_every_slot_cannot_keep_a_good_client_out() {
    let server = Server::start(&[
        "echo-server",
        "--listen",
        "127.0.0.1:0",
        "--max-connections",
        "50",
    ])
    .await;
    let held = tricklers(&server.addr, 50, Duration::from_secs(1)).await;
    // Every slot is taken and has received bytes.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (body, took) = good_exchange(&server.addr).await;
    assert_eq!(body, Bytes::from_static(b"GOOD CLIENT"));
    assert!(took < Duration::from_secs(2), "answered after {took:?}");
    let log = server.wait_for_log("evicted").await;
    assert!(log.contains("all 50 connection slots taken"), "{log}");
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_trickled_a_byte_at_a_time_hits_the_frame_deadline() {
    let server = Server::start(&[
        "echo-server",
        "--listen",
        "127.0.0.1:0",
        "--frame-timeout",
        "500",
        "--idle-timeout",
        "10000",
    ])
    .await;
    let mut s = TcpStream::connect(&server.addr).await.unwrap();
    let wire = prefix(10);
    let started = Instant::now();
    // A byte every 100 ms: the idle timer alone would never fire.
    let mut closed = false;
    for byte in wire.iter().cycle().take(100) {
        if s.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut probe = [0u8; 1];
        if let Ok(Ok(0) | Err(_)) =
            tokio::time::timeout(Duration::from_millis(1), s.read(&mut probe)).await
        {
            closed = true;
            break;
        }
    }
    let took = started.elapsed();
    assert!(closed, "still open after {took:?}");
    assert!(
        took >= Duration::from_millis(450) && took < Duration::from_secs(3),
        "{took:?}"
    );
    let log = server.wait_for_log("frame timeout").await;
    assert!(log.contains("bytes of a frame in"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_at_16_kib_per_second_cannot_hold_an_8_mib_reply() {
    let server = Server::start(&[
        "echo-server",
        "--listen",
        "127.0.0.1:0",
        "--frame-timeout",
        "500",
        "--min-rate",
        "4194304",
    ])
    .await;
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(16 * 1024).unwrap();
    let mut s = socket.connect(server.addr.parse().unwrap()).await.unwrap();
    let body = vec![b'z'; 8 << 20];
    s.write_all(&prefix(body.len())).await.unwrap();
    s.write_all(&body).await.unwrap();
    // Read 16 KiB a second until the server gives up.
    let started = Instant::now();
    let mut got = 0usize;
    let mut buf = vec![0u8; 1024];
    let closed = tokio::time::timeout(LIMIT, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got += n,
            }
            tokio::time::sleep(Duration::from_millis(1000 / 16)).await;
        }
    })
    .await;
    let took = started.elapsed();
    assert!(
        closed.is_ok(),
        "still open after {took:?}, {got} bytes read: {}",
        server.log()
    );
    assert!(got < 8 << 20, "the whole reply was read: {got}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    let log = server.wait_for_log("reply drain timeout").await;
    assert!(log.contains("it reads too slowly"), "{log}");
}

/// How a peer that never reads its replies fared: what it got the server
/// to take, and when.
struct NonReader {
    /// When it connected.
    connected: Instant,
    /// Bytes the kernel accepted from it in all.
    sent: usize,
    /// When its last write made progress.
    last_progress: Instant,
    /// When the server closed the connection (`None`: still open at the end).
    closed: Option<Instant>,
    /// Good clients answered while it was stalled and still open.
    good_served: usize,
}

/// Writes 4 KiB frames to `addr` as fast as the server takes them and
/// never reads a reply (16 KiB socket buffers, so the kernel holds little);
/// once a write has stalled for 300 ms, a good client is served on another
/// connection. Stops when the server closes the connection, or after `LIMIT`.
async fn never_read_replies(addr: &str) -> NonReader {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(16 * 1024).unwrap();
    socket.set_send_buffer_size(16 * 1024).unwrap();
    let mut s = socket.connect(addr.parse().unwrap()).await.unwrap();
    let body = vec![b'q'; 4096];
    let mut frame = prefix(body.len());
    frame.extend_from_slice(&body);
    let wire = frame.repeat(16);
    let started = Instant::now();
    let mut r = NonReader {
        connected: started,
        sent: 0,
        last_progress: started,
        closed: None,
        good_served: 0,
    };
    let mut at = 0usize;
    while started.elapsed() < LIMIT {
        match tokio::time::timeout(Duration::from_millis(300), s.write(&wire[at..])).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                r.closed = Some(Instant::now());
                break;
            }
            Ok(Ok(n)) => {
                r.sent += n;
                at = (at + n) % wire.len();
                r.last_progress = Instant::now();
            }
            Err(_) if r.good_served == 0 => {
                let (body, _) = good_exchange(addr).await;
                assert_eq!(body, Bytes::from_static(b"GOOD CLIENT"));
                r.good_served += 1;
            }
            Err(_) => {}
        }
    }
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_reads_no_replies_is_no_longer_read_and_is_closed_at_the_drain_deadline() {
    let server = Server::start(&[
        "echo-server",
        "--listen",
        "127.0.0.1:0",
        "--frame-timeout",
        "1500",
        "--min-rate",
        "1048576",
    ])
    .await;
    let r = never_read_replies(&server.addr).await;
    let closed = r.closed.unwrap_or_else(|| {
        panic!(
            "still open after {LIMIT:?}, {} bytes taken: {}",
            r.sent,
            server.log()
        )
    });
    // The server stopped reading: the peer's writes stalled for good once
    // the kernel buffers were full (about 4 MiB, nearly all of it replies
    // in the server's autotuned send buffer) and one reply was pending,
    // far short of the gigabytes loopback would carry in that time.
    assert!(r.sent < 8 << 20, "the server took {} bytes", r.sent);
    // It was closed by the drain deadline (1.5 s for the reply it could
    // not write, plus 1 s per MiB of it), not by the 30 s idle timeout:
    // within seconds of its last write going through, and no sooner than
    // 1.5 s after it connected (the first reply began after that). Where
    // the deadline started is not visible from here: the kernel can take
    // the peer's bytes for a while after the server's reply stalled, the
    // longer the busier the machine (1.04 s between the last write and the
    // close in one loaded CI run).
    let stalled = closed.duration_since(r.last_progress);
    assert!(
        stalled < Duration::from_secs(6),
        "closed {stalled:?} after its last write went through"
    );
    let open = closed.duration_since(r.connected);
    assert!(
        open >= Duration::from_millis(1500),
        "closed {open:?} after it connected, before the 1.5 s drain deadline could pass"
    );
    assert_eq!(r.good_served, 1, "no good client was served meanwhile");
    let log = server.wait_for_log("reply drain timeout").await;
    assert!(log.contains("it reads too slowly"), "{log}");
    assert!(!log.contains("idle timeout"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_send_buffer_bound_a_peer_that_reads_nothing_is_given_little() {
    let server = Server::start(&[
        "echo-server",
        "--listen",
        "127.0.0.1:0",
        "--frame-timeout",
        "1000",
        "--send-buffer",
        "32768",
    ])
    .await;
    let r = never_read_replies(&server.addr).await;
    assert!(r.closed.is_some(), "still open: {}", server.log());
    // Without the bound the kernel takes about 4 MiB of replies for it
    // (the test above); with it, what the four socket buffers hold (about
    // 160 KiB here).
    assert!(r.sent < 512 << 10, "the server took {} bytes", r.sent);
    assert_eq!(r.good_served, 1);
    server.wait_for_log("reply drain timeout").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_per_address_cap_are_closed() {
    let server = Server::start(&[
        "echo-server",
        "--listen",
        "127.0.0.1:0",
        "--max-per-ip",
        "3",
    ])
    .await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(TcpStream::connect(&server.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut fourth = TcpStream::connect(&server.addr).await.unwrap();
    assert!(closed_within(&mut fourth).await < Duration::from_secs(2));
    let log = server.wait_for_log("--max-per-ip").await;
    assert!(log.contains("3 open from it already"), "{log}");
    // The three are served.
    let mut framed = Framed::new(open.pop().unwrap(), HeaderCodec::new());
    framed.send(Frame::new(&b"x"[..])).await.unwrap();
    let reply = tokio::time::timeout(LIMIT, framed.next()).await.unwrap();
    assert_eq!(reply.unwrap().unwrap().body, Bytes::from_static(b"X"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_returns_a_65_021_byte_header_of_1e15_numbers_byte_for_byte() {
    let server = Server::start(&["echo-server", "--listen", "127.0.0.1:0"]).await;
    let numbers = vec!["1e15"; 10_833].join(", ");
    let header = format!(r#"{{"data_size": 5, "n": [{numbers}]}}"#).into_bytes();
    assert_eq!(header.len(), 65_021);
    let mut wire = (header.len() as i32).to_le_bytes().to_vec();
    wire.extend_from_slice(&header);
    wire.extend_from_slice(b"hello");
    let mut s = TcpStream::connect(&server.addr).await.unwrap();
    s.write_all(&wire).await.unwrap();
    let mut reply = vec![0u8; wire.len()];
    tokio::time::timeout(LIMIT, s.read_exact(&mut reply))
        .await
        .expect("no reply")
        .unwrap();
    let mut want = wire[..wire.len() - 5].to_vec();
    want.extend_from_slice(b"HELLO");
    assert!(
        reply == want,
        "the reply's header differs from the one sent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_udp_warnings_are_counted_not_repeated() {
    let server = Server::start_env(
        &[
            "udp-echo-server",
            "--listen",
            "127.0.0.1:0",
            "--recv-size",
            "16",
        ],
        &[("FRAMECHECK_LOG_WINDOW_MS", "400")],
    )
    .await;
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    for _ in 0..20 {
        socket
            .send_to(b"this datagram is longer than sixteen bytes", &server.addr)
            .await
            .unwrap();
    }
    let log = server.wait_for_log("more in the last 400 ms").await;
    let lines = log
        .lines()
        .filter(|l| l.contains("longer than the 16-byte receive buffer"))
        .count();
    assert_eq!(lines, 2, "{log}");
    assert!(log.contains("(x19 more in the last 400 ms)"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_failures_at_the_descriptor_limit_are_counted_and_the_server_lives() {
    let mut server = Server::start_limited(
        "ulimit -n 32",
        &["echo-server", "--listen", "127.0.0.1:0"],
        &[("FRAMECHECK_LOG_WINDOW_MS", "500")],
    )
    .await;
    let mut held = Vec::new();
    for _ in 0..40 {
        held.push(TcpStream::connect(&server.addr).await.unwrap());
    }
    let log = server.wait_for_log("more in the last 500 ms").await;
    let lines = log.lines().filter(|l| l.contains("accept failed")).count();
    assert!(lines <= 4, "{lines} lines: {log}");
    assert!(log.contains("accept failed: "), "{log}");
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (body, _) = good_exchange(&server.addr).await;
    assert_eq!(body, Bytes::from_static(b"GOOD CLIENT"));
    assert!(server.alive());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_of_repeated_warnings_still_pending_are_logged_at_shutdown() {
    // A window far longer than the test: only the shutdown can report.
    let mut server = Server::start_env(
        &[
            "echo-server",
            "--listen",
            "127.0.0.1:0",
            "--max-per-ip",
            "1",
            "--grace",
            "200",
        ],
        &[("FRAMECHECK_LOG_WINDOW_MS", "600000")],
    )
    .await;
    let held = TcpStream::connect(&server.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut refused = Vec::new();
    for _ in 0..10 {
        let mut s = TcpStream::connect(&server.addr).await.unwrap();
        closed_within(&mut s).await;
        refused.push(s);
    }
    let log = server.log();
    assert_eq!(log.matches("--max-per-ip").count(), 1, "{log}");
    let pid = server.child.id().unwrap().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::time::timeout(LIMIT, server.child.wait())
        .await
        .expect("the server did not stop")
        .unwrap();
    assert!(exit.success(), "{exit:?}");
    let log = server.log();
    let summary = log
        .lines()
        .find(|l| l.contains("(x9 more in the last"))
        .unwrap_or_else(|| panic!("no summary: {log}"));
    assert!(
        summary.contains("1 open from it already (--max-per-ip)")
            && summary.ends_with(", at shutdown)"),
        "{summary}"
    );
    drop((held, refused));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cli_error_is_printed_once() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    drop(listener);
    let out = common::run(&["echo-client", "--connect", &addr], b"hi\n").await;
    assert!(!out.status.success());
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(out.stderr.starts_with("framecheck: "), "{}", out.stderr);
}
