//! `slice-proxy`: cuts decided by stream offset (recorded with
//! `--record`), and connections bounded by a cap, timeouts and a grace
//! after one half ends.

mod common;

use std::time::{Duration, Instant};

use common::{Server, LIMIT};
use serde_json::Value;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpSocket, TcpStream},
};

/// An upstream that reads everything and closes when its client does.
async fn sink() -> (String, tokio::task::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let task = tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                }
            });
        }
    });
    (addr, task)
}

fn records(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

async fn send_in(addr: &str, data: &[u8], sizes: &[usize], gap: Duration) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.set_nodelay(true).unwrap();
    let mut at = 0;
    for &n in sizes.iter().cycle() {
        if at >= data.len() {
            break;
        }
        let end = (at + n).min(data.len());
        s.write_all(&data[at..end]).await.unwrap();
        at = end;
        tokio::time::sleep(gap).await;
    }
    s.shutdown().await.unwrap();
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(LIMIT, s.read_to_end(&mut rest)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_and_bytes_give_the_same_cuts_whatever_the_write_sizes() {
    let (upstream, _sink) = sink().await;
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("cuts.jsonl");
    let proxy = Server::start(&[
        "slice-proxy",
        "--upstream",
        &upstream,
        "--max-chunk",
        "64",
        "--seed",
        "5",
        "--record",
        record.to_str().unwrap(),
    ])
    .await;
    let data: Vec<u8> = (0..4000u32).map(|i| (i * 7 % 251) as u8).collect();
    // One write; 1 000 + 3 000 with a pause longer than the hold; 7-byte
    // writes; and two clients at once.
    send_in(&proxy.addr, &data, &[4000], Duration::ZERO).await;
    send_in(&proxy.addr, &data, &[1000, 3000], Duration::from_millis(30)).await;
    send_in(&proxy.addr, &data, &[7], Duration::ZERO).await;
    tokio::join!(
        send_in(&proxy.addr, &data, &[333], Duration::from_millis(1)),
        send_in(&proxy.addr, &data, &[4000], Duration::ZERO),
    );
    let deadline = Instant::now() + LIMIT;
    let mut rows = records(&record);
    while rows.len() < 10 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        rows = records(&record);
    }
    let up: Vec<&Value> = rows.iter().filter(|r| r["dir"] == "up").collect();
    assert_eq!(up.len(), 5, "{rows:?}");
    let cuts: Vec<Vec<u64>> = up
        .iter()
        .map(|r| {
            r["cuts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_u64().unwrap())
                .collect()
        })
        .collect();
    assert!(cuts[0].len() > 60, "{:?}", cuts[0]);
    assert!(cuts[0].iter().all(|&c| c <= 4000));
    for (i, c) in cuts.iter().enumerate() {
        assert_eq!(c, &cuts[0], "connection {i} was cut elsewhere");
        assert_eq!(up[i]["bytes"], 4000);
        assert_eq!(up[i]["seed"], 5);
    }
    let mut conns: Vec<u64> = up.iter().map(|r| r["conn"].as_u64().unwrap()).collect();
    conns.sort_unstable();
    assert_eq!(conns, [0, 1, 2, 3, 4]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_proxy_closes_new_clients_and_idle_ones_are_closed() {
    let (upstream, _sink) = sink().await;
    let proxy = Server::start(&[
        "slice-proxy",
        "--upstream",
        &upstream,
        "--max-connections",
        "2",
        "--idle-timeout",
        "400",
    ])
    .await;
    let started = Instant::now();
    let mut a = TcpStream::connect(&proxy.addr).await.unwrap();
    let mut b = TcpStream::connect(&proxy.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut c = TcpStream::connect(&proxy.addr).await.unwrap();
    let mut buf = [0u8; 16];
    // The third is over the cap: closed at once.
    let n = tokio::time::timeout(Duration::from_millis(300), c.read(&mut buf)).await;
    assert!(matches!(n, Ok(Ok(0)) | Ok(Err(_))), "{n:?}");
    // The two idle ones are closed by the idle timeout, not before.
    for s in [&mut a, &mut b] {
        let n = tokio::time::timeout(LIMIT, s.read(&mut buf)).await.unwrap();
        assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");
    }
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(400), "{waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    // Slots are free again.
    let mut d = TcpStream::connect(&proxy.addr).await.unwrap();
    d.write_all(b"x").await.unwrap();
    let n = tokio::time::timeout(Duration::from_millis(200), d.read(&mut buf)).await;
    assert!(n.is_err(), "a client within the cap was closed: {n:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_is_closed_when_the_upstream_does_not_accept_in_time() {
    // An upstream whose accept queue is full: further connects hang.
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = socket.local_addr().unwrap().to_string();
    let _listener = socket.listen(0).unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        if let Ok(Ok(s)) =
            tokio::time::timeout(Duration::from_millis(200), TcpStream::connect(&addr)).await
        {
            fillers.push(s);
        }
    }
    let proxy = Server::start(&[
        "slice-proxy",
        "--upstream",
        &addr,
        "--connect-timeout",
        "300",
    ])
    .await;
    let started = Instant::now();
    let mut c = TcpStream::connect(&proxy.addr).await.unwrap();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(LIMIT, c.read(&mut buf)).await.unwrap();
    assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let log = proxy.wait_for_log("did not accept within 300 ms").await;
    assert!(log.contains("did not accept within 300 ms"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_that_ignores_eof_is_closed_after_the_grace() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = l.local_addr().unwrap().to_string();
    let proxy = Server::start(&[
        "slice-proxy",
        "--upstream",
        &upstream,
        "--close-grace",
        "300",
    ])
    .await;
    let mut client = TcpStream::connect(&proxy.addr).await.unwrap();
    let (mut up, _) = tokio::time::timeout(LIMIT, l.accept())
        .await
        .unwrap()
        .unwrap();
    client.write_all(b"bye").await.unwrap();
    client.shutdown().await.unwrap();
    // The upstream sees the bytes and the EOF, ignores it and keeps
    // writing; the client keeps reading. After the grace the proxy closes
    // both sides.
    let mut got = Vec::new();
    tokio::time::timeout(LIMIT, up.read_to_end(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, b"bye");
    let started = Instant::now();
    let writer = tokio::spawn(async move {
        loop {
            if up.write_all(b"still here").await.is_err() {
                return Instant::now();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    let mut seen = Vec::new();
    tokio::time::timeout(LIMIT, client.read_to_end(&mut seen))
        .await
        .unwrap()
        .ok();
    let closed_after = started.elapsed();
    assert!(seen.starts_with(b"still here"), "{seen:?}");
    assert!(
        closed_after >= Duration::from_millis(250),
        "{closed_after:?}"
    );
    assert!(closed_after < Duration::from_secs(5), "{closed_after:?}");
    let upstream_closed = tokio::time::timeout(LIMIT, writer).await.unwrap().unwrap();
    assert!(upstream_closed.duration_since(started) < Duration::from_secs(5));
}
