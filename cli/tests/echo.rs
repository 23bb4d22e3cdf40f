//! End-to-end: `echo-server`, `echo-client` and `slice-proxy`.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{run, Server, LIMIT};
use framecheck_codec::{Frame, Header, HeaderCodec};
use futures_util::{SinkExt, StreamExt};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tokio_util::codec::Framed;

/// Lines of many lengths, some longer than a raw read.
fn lines(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("message {i} {}", "abc".repeat(i % 40)))
        .collect()
}

fn stdin_of(lines: &[String]) -> Vec<u8> {
    lines
        .iter()
        .flat_map(|l| format!("{l}\n").into_bytes())
        .collect()
}

fn upper_lines(lines: &[String]) -> String {
    lines
        .iter()
        .map(|l| l.to_ascii_uppercase() + "\n")
        .collect()
}

async fn echo_through_proxy(format: &str, proxy_args: &[&str], n: usize) {
    let server =
        Server::start(&["echo-server", "--listen", "127.0.0.1:0", "--format", format]).await;
    let mut args = vec![
        "slice-proxy",
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        &server.addr,
    ];
    args.extend_from_slice(proxy_args);
    let proxy = Server::start(&args).await;
    let input = lines(n);
    let out = run(
        &["echo-client", "--connect", &proxy.addr, "--format", format],
        &stdin_of(&input),
    )
    .await;
    assert!(out.status.success(), "client failed: {}", out.stderr);
    assert_eq!(out.stdout, upper_lines(&input));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_header_echo_survives_one_byte_chunks() {
    echo_through_proxy(
        "json-header",
        &["--min-chunk", "1", "--max-chunk", "1", "--seed", "3"],
        60,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn length_echo_survives_one_byte_chunks() {
    echo_through_proxy("length", &["--min-chunk", "1", "--max-chunk", "1"], 60).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_header_echo_survives_merging() {
    echo_through_proxy("json-header", &["--merge-ms", "30"], 200).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_echo_merges_replies_behind_a_merging_proxy() {
    let server =
        Server::start(&["echo-server", "--listen", "127.0.0.1:0", "--format", "raw"]).await;
    let proxy = Server::start(&[
        "slice-proxy",
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        &server.addr,
        "--merge-ms",
        "50",
    ])
    .await;
    let input: Vec<String> = (0..20).map(|i| format!("line{i}")).collect();
    let out = run(
        &["echo-client", "--connect", &proxy.addr, "--format", "raw"],
        &stdin_of(&input),
    )
    .await;
    assert!(out.status.success(), "client failed: {}", out.stderr);
    let replies: Vec<&str> = out.stdout.lines().collect();
    // Every byte came back, upper-cased, in order...
    assert_eq!(replies.concat(), input.concat().to_ascii_uppercase());
    // ...but not as 20 messages: the proxy glued sends together.
    assert!(
        replies.len() < input.len(),
        "expected merged replies, got {} for {} lines: {replies:?}",
        replies.len(),
        input.len()
    );
    assert!(
        replies.iter().any(|r| r.len() > "LINE19".len()),
        "{replies:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_header_reply_keeps_extra_fields_and_fixes_data_size() {
    let server = Server::start(&["echo-server", "--listen", "127.0.0.1:0"]).await;
    let stream = TcpStream::connect(&server.addr).await.unwrap();
    let mut framed = Framed::new(stream, HeaderCodec::new());
    let mut header = Header::new(0);
    header.filename = Some("notes.txt".into());
    header.extra.insert("id".into(), 7.into());
    header.extra.insert("tag".into(), "x".into());
    framed
        .send(Frame::with_header(header.clone(), &b"hello, world"[..]))
        .await
        .unwrap();
    let reply = tokio::time::timeout(LIMIT, framed.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(reply.body, Bytes::from_static(b"HELLO, WORLD"));
    assert_eq!(reply.header.data_size, 12);
    assert_eq!(reply.header.filename.as_deref(), Some("notes.txt"));
    assert_eq!(reply.header.extra, header.extra);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundreds_of_concurrent_clients_get_their_replies_in_order() {
    const CLIENTS: usize = 400;
    const MESSAGES: usize = 10;
    let server = Server::start(&["echo-server", "--listen", "127.0.0.1:0"]).await;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(CLIENTS));
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..CLIENTS {
        let addr = server.addr.clone();
        let barrier = barrier.clone();
        tasks.spawn(async move {
            let stream = TcpStream::connect(&addr).await.unwrap();
            let mut framed = Framed::new(stream, HeaderCodec::new());
            // Every client is connected before any sends: all are open at once.
            barrier.wait().await;
            for m in 0..MESSAGES {
                framed
                    .feed(Frame::new(format!("client {c} msg {m}").into_bytes()))
                    .await
                    .unwrap();
            }
            framed.flush().await.unwrap();
            let mut got = Vec::new();
            for _ in 0..MESSAGES {
                got.push(framed.next().await.unwrap().unwrap().body);
            }
            let want: Vec<Bytes> = (0..MESSAGES)
                .map(|m| Bytes::from(format!("CLIENT {c} MSG {m}")))
                .collect();
            assert_eq!(got, want, "client {c}");
            c
        });
    }
    let mut done = 0;
    tokio::time::timeout(LIMIT, async {
        while let Some(r) = tasks.join_next().await {
            r.unwrap();
            done += 1;
        }
    })
    .await
    .expect("clients did not finish in time");
    assert_eq!(done, CLIENTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_header_closes_only_that_connection() {
    let server = Server::start(&["echo-server", "--listen", "127.0.0.1:0"]).await;
    let good = TcpStream::connect(&server.addr).await.unwrap();
    let mut good = Framed::new(good, HeaderCodec::new());
    good.send(Frame::new(&b"first"[..])).await.unwrap();
    assert_eq!(
        good.next().await.unwrap().unwrap().body,
        Bytes::from_static(b"FIRST")
    );

    let mut bad = TcpStream::connect(&server.addr).await.unwrap();
    bad.write_all(&5i32.to_le_bytes()).await.unwrap();
    bad.write_all(b"nope!").await.unwrap();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(LIMIT, bad.read(&mut buf))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(
        n, 0,
        "the server should close the garbage connection without a reply"
    );

    good.send(Frame::new(&b"second"[..])).await.unwrap();
    assert_eq!(
        good.next().await.unwrap().unwrap().body,
        Bytes::from_static(b"SECOND")
    );
    let log = server.wait_for_log("not JSON").await;
    assert!(log.contains("closing connection"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_frame_closes_connection_with_the_numbers() {
    let server = Server::start(&[
        "echo-server",
        "--listen",
        "127.0.0.1:0",
        "--max-size",
        "1000",
    ])
    .await;
    let mut s = TcpStream::connect(&server.addr).await.unwrap();
    let header = br#"{"data_size": 5000}"#;
    s.write_all(&(header.len() as i32).to_le_bytes())
        .await
        .unwrap();
    s.write_all(header).await.unwrap();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(LIMIT, s.read(&mut buf))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(n, 0);
    let log = server.wait_for_log("5000").await;
    assert!(
        log.contains("header says 5000 body bytes, limit is 1000"),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_connection_is_closed_after_the_idle_timeout() {
    let server = Server::start(&[
        "echo-server",
        "--listen",
        "127.0.0.1:0",
        "--idle-timeout",
        "300",
    ])
    .await;
    let mut s = TcpStream::connect(&server.addr).await.unwrap();
    // A header length and half a header, then nothing.
    s.write_all(&40i32.to_le_bytes()).await.unwrap();
    s.write_all(br#"{"data_size""#).await.unwrap();
    let started = std::time::Instant::now();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(LIMIT, s.read(&mut buf))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(n, 0);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(250),
        "closed too early: {waited:?}"
    );
    let log = server.wait_for_log("idle timeout").await;
    assert!(log.contains("no progress for 300 ms"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupt_stops_accepting_and_exits_cleanly() {
    let mut server =
        Server::start(&["echo-server", "--listen", "127.0.0.1:0", "--grace", "300"]).await;
    let open = TcpStream::connect(&server.addr).await.unwrap();
    let pid = server.child.id().unwrap().to_string();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = tokio::time::timeout(LIMIT, server.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
    drop(open);
    assert!(
        TcpStream::connect(&server.addr).await.is_err(),
        "still accepting after exit"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slice_proxy_refuses_an_empty_chunk_range() {
    let out = run(
        &[
            "slice-proxy",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            "127.0.0.1:9",
            "--min-chunk",
            "5",
            "--max-chunk",
            "2",
        ],
        b"",
    )
    .await;
    assert!(!out.status.success());
    assert!(
        out.stderr.contains("chunk range 5..=2 is empty"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupt_lets_an_open_exchange_finish() {
    let mut server = Server::start(&[
        "-v",
        "echo-server",
        "--listen",
        "127.0.0.1:0",
        "--grace",
        "5000",
    ])
    .await;
    let stream = TcpStream::connect(&server.addr).await.unwrap();
    let mut framed = Framed::new(stream, HeaderCodec::new());
    // Half a message before the interrupt...
    let header = br#"{"data_size": 10}"#;
    framed
        .get_mut()
        .write_all(&(header.len() as i32).to_le_bytes())
        .await
        .unwrap();
    framed.get_mut().write_all(header).await.unwrap();
    framed.get_mut().write_all(b"hello").await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let pid = server.child.id().unwrap().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    server.wait_for_log("shutdown requested").await;
    // ...and the rest after it: the exchange still completes.
    framed.get_mut().write_all(b"world").await.unwrap();
    let reply = tokio::time::timeout(LIMIT, framed.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(reply.body, Bytes::from_static(b"HELLOWORLD"));
    drop(framed);
    let status = tokio::time::timeout(LIMIT, server.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
}
