//! End-to-end: `send` and `receive`, directly and through `slice-proxy`.

mod common;

use std::{
    path::Path,
    time::{Duration, Instant},
};

use common::{run, Server, LIMIT};
use framecheck_codec::{Frame, Header, HeaderCodec};
use futures_util::{SinkExt, StreamExt};
use sha2::{Digest, Sha256};
use tokio::{io::AsyncWriteExt, net::TcpStream};
use tokio_util::codec::Framed;

fn write_file(dir: &Path, name: &str, len: usize) -> (std::path::PathBuf, Vec<u8>) {
    let data: Vec<u8> = (0..len)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, &data).unwrap();
    (path, data)
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn receiver(dir: &Path, extra: &[&str]) -> Server {
    let mut args = vec![
        "receive",
        "--listen",
        "127.0.0.1:0",
        "--dir",
        dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    Server::start(&args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_mib_file_through_the_proxy_arrives_with_its_hash() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    let (path, data) = write_file(src.path(), "big.bin", 6 * 1024 * 1024 + 123);
    let recv = receiver(dst.path(), &[]).await;
    let proxy = Server::start(&[
        "slice-proxy",
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        &recv.addr,
        "--min-chunk",
        "1",
        "--max-chunk",
        "9000",
        "--seed",
        "11",
    ])
    .await;
    let out = run(
        &["send", path.to_str().unwrap(), "--connect", &proxy.addr],
        b"",
    )
    .await;
    assert!(out.status.success(), "send failed: {}", out.stderr);
    let want_hash = hex(&Sha256::digest(&data));
    assert!(out.stdout.contains(&want_hash), "{}", out.stdout);
    assert_eq!(entries(dst.path()), ["big.bin"]);
    let got = std::fs::read(dst.path().join("big.bin")).unwrap();
    assert_eq!(got.len(), data.len());
    assert_eq!(hex(&Sha256::digest(&got)), want_hash);
    // Quiet when stderr is not a terminal: no progress bar.
    assert!(out.stderr.is_empty(), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsafe_names_are_refused_and_nothing_is_written() {
    let root = tempfile::tempdir().unwrap();
    let dst = root.path().join("inbox");
    std::fs::create_dir(&dst).unwrap();
    let (path, _) = write_file(root.path(), "payload.bin", 10_000);
    let recv = receiver(&dst, &[]).await;
    for (name, reason) in [
        ("../evil.txt", "path separator"),
        ("..", "'.' and '..' are not file names"),
        ("/tmp/evil.txt", "path separator"),
        ("sub\\evil.txt", "path separator"),
        ("", "empty"),
    ] {
        let out = run(
            &[
                "send",
                path.to_str().unwrap(),
                "--connect",
                &recv.addr,
                "--name",
                name,
            ],
            b"",
        )
        .await;
        assert!(!out.status.success(), "{name:?} was accepted");
        assert!(
            out.stderr.contains("bad-filename") && out.stderr.contains(reason),
            "{name:?}: {}",
            out.stderr
        );
    }
    assert_eq!(entries(&dst), Vec::<String>::new());
    assert_eq!(entries(root.path()), ["inbox", "payload.bin"]);
    let log = recv.wait_for_log("refused file name").await;
    assert!(
        log.contains(r#"refused file name "../evil.txt": contains a path separator"#),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_limit_file_is_refused_with_the_numbers() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    let (path, _) = write_file(src.path(), "big.bin", 300_000);
    let recv = receiver(dst.path(), &["--max-size", "1000"]).await;
    let out = run(
        &["send", path.to_str().unwrap(), "--connect", &recv.addr],
        b"",
    )
    .await;
    assert!(!out.status.success());
    assert!(
        out.stderr.contains("too-large")
            && out
                .stderr
                .contains("file of 300000 bytes exceeds the receiver's limit of 1000 bytes"),
        "{}",
        out.stderr
    );
    assert_eq!(entries(dst.path()), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_file_is_not_overwritten() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    let (path, _) = write_file(src.path(), "a.bin", 1000);
    std::fs::write(dst.path().join("a.bin"), b"keep me").unwrap();
    let recv = receiver(dst.path(), &[]).await;
    let out = run(
        &["send", path.to_str().unwrap(), "--connect", &recv.addr],
        b"",
    )
    .await;
    assert!(!out.status.success());
    assert!(out.stderr.contains("exists"), "{}", out.stderr);
    assert_eq!(std::fs::read(dst.path().join("a.bin")).unwrap(), b"keep me");
    assert_eq!(entries(dst.path()), ["a.bin"]);
}

async fn send_raw_frame(addr: &str, header: Header, body: &[u8]) -> Option<Frame> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let mut framed = Framed::new(stream, HeaderCodec::new());
    framed
        .send(Frame {
            header,
            body: body.to_vec().into(),
        })
        .await
        .unwrap();
    tokio::time::timeout(LIMIT, framed.next())
        .await
        .unwrap()
        .map(|r| r.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hash_mismatch_is_refused_and_leaves_no_file() {
    let dst = tempfile::tempdir().unwrap();
    let recv = receiver(dst.path(), &[]).await;
    let mut header = Header::new(5);
    header.filename = Some("x.txt".into());
    header.hash = Some("0".repeat(64));
    let reply = send_raw_frame(&recv.addr, header, b"hello")
        .await
        .expect("a reply");
    assert_eq!(reply.header.extra["status"], "error");
    assert_eq!(reply.header.extra["error"], "hash-mismatch");
    let msg = String::from_utf8_lossy(&reply.body);
    assert!(msg.contains(&hex(&Sha256::digest(b"hello"))), "{msg}");
    assert_eq!(entries(dst.path()), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_hash_is_refused() {
    let dst = tempfile::tempdir().unwrap();
    let recv = receiver(dst.path(), &[]).await;
    let mut header = Header::new(5);
    header.filename = Some("x.txt".into());
    let reply = send_raw_frame(&recv.addr, header, b"hello")
        .await
        .expect("a reply");
    assert_eq!(reply.header.extra["error"], "bad-hash");
    assert_eq!(entries(dst.path()), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_upload_leaves_no_partial_file() {
    let dst = tempfile::tempdir().unwrap();
    let recv = receiver(dst.path(), &[]).await;
    let mut s = TcpStream::connect(&recv.addr).await.unwrap();
    let header = format!(
        r#"{{"data_size": 1000000, "filename": "part.bin", "hash": "{}"}}"#,
        "a".repeat(64)
    );
    s.write_all(&(header.len() as i32).to_le_bytes())
        .await
        .unwrap();
    s.write_all(header.as_bytes()).await.unwrap();
    s.write_all(&[7u8; 50_000]).await.unwrap();
    s.shutdown().await.unwrap();
    let log = recv.wait_for_log("stream ended after").await;
    assert!(
        log.contains("stream ended after 50000 of 1000000 body bytes"),
        "{log}"
    );
    drop(s);
    assert_eq!(entries(dst.path()), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_upload_times_out_and_leaves_no_partial_file() {
    let dst = tempfile::tempdir().unwrap();
    let recv = receiver(dst.path(), &["--idle-timeout", "300"]).await;
    let mut s = TcpStream::connect(&recv.addr).await.unwrap();
    let header = format!(
        r#"{{"data_size": 1000, "filename": "slow.bin", "hash": "{}"}}"#,
        "a".repeat(64)
    );
    s.write_all(&(header.len() as i32).to_le_bytes())
        .await
        .unwrap();
    s.write_all(header.as_bytes()).await.unwrap();
    s.write_all(&[1u8; 10]).await.unwrap();
    let log = recv.wait_for_log("idle timeout").await;
    assert!(log.contains("no progress for 300 ms"), "{log}");
    assert_eq!(entries(dst.path()), Vec::<String>::new());
}

fn file_header(name: &str, body: &[u8]) -> Header {
    let mut header = Header::new(body.len() as u64);
    header.filename = Some(name.into());
    header.hash = Some(hex(&Sha256::digest(body)));
    header
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_portable_names_are_refused_with_the_reason() {
    let dst = tempfile::tempdir().unwrap();
    let recv = receiver(dst.path(), &[]).await;
    for (name, reason) in [
        ("NUL.txt", "Windows device name"),
        ("con", "Windows device name"),
        ("COM1.log", "Windows device name"),
        ("report.txt.", "ends with '.' or a space"),
        ("report.txt ", "ends with '.' or a space"),
        ("invoice\u{202E}fdp.exe", "bidirectional control"),
        ("pass\u{200B}word.txt", "invisible character"),
        (".framecheck-x.part", "temporary-file prefix"),
        ("what?.txt", "invalid on Windows"),
        ("tab\there", "control character"),
    ] {
        let reply = send_raw_frame(&recv.addr, file_header(name, b"hello"), b"hello")
            .await
            .expect("a reply");
        assert_eq!(reply.header.extra["error"], "bad-filename", "{name:?}");
        let msg = String::from_utf8_lossy(&reply.body);
        assert!(msg.contains(reason), "{name:?}: {msg}");
    }
    assert_eq!(entries(dst.path()), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nfc_and_nfd_spellings_of_one_name_are_one_file() {
    let dst = tempfile::tempdir().unwrap();
    let recv = receiver(dst.path(), &[]).await;
    let nfc = "caf\u{e9}.txt";
    let nfd = "cafe\u{301}.txt";
    let reply = send_raw_frame(&recv.addr, file_header(nfc, b"one"), b"one")
        .await
        .unwrap();
    assert_eq!(reply.header.extra["status"], "ok");
    let reply = send_raw_frame(&recv.addr, file_header(nfd, b"two"), b"two")
        .await
        .unwrap();
    assert_eq!(reply.header.extra["error"], "exists");
    assert_eq!(entries(dst.path()), [nfc]);
    // Stored under the NFC name, whichever spelling came first.
    let dst2 = tempfile::tempdir().unwrap();
    let recv2 = receiver(dst2.path(), &[]).await;
    let reply = send_raw_frame(&recv2.addr, file_header(nfd, b"two"), b"two")
        .await
        .unwrap();
    assert_eq!(reply.header.extra["status"], "ok");
    assert_eq!(entries(dst2.path()), [nfc]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_differing_only_in_case_are_one_file_and_the_second_is_refused() {
    let dst = tempfile::tempdir().unwrap();
    let recv = receiver(dst.path(), &[]).await;
    let reply = send_raw_frame(&recv.addr, file_header("Report.txt", b"one"), b"one")
        .await
        .unwrap();
    assert_eq!(reply.header.extra["status"], "ok");
    for other in ["report.txt", "REPORT.TXT", "r\u{c9}port.txt"] {
        let reply = send_raw_frame(&recv.addr, file_header(other, b"two"), b"two").await;
        let reply = reply.unwrap();
        if other.contains('\u{c9}') {
            // Another letter, not another case: a file of its own.
            assert_eq!(reply.header.extra["status"], "ok", "{other}");
            continue;
        }
        assert_eq!(reply.header.extra["error"], "exists", "{other}");
        let message = String::from_utf8_lossy(&reply.body).into_owned();
        assert!(
            message.contains("\"Report.txt\" already exists")
                && message.contains("differs from it only in case"),
            "{message}"
        );
    }
    assert_eq!(entries(dst.path()), ["Report.txt", "r\u{c9}port.txt"]);
    assert_eq!(
        std::fs::read(dst.path().join("Report.txt")).unwrap(),
        b"one"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_overwrite_a_name_differing_in_case_replaces_the_file_and_keeps_its_spelling() {
    let dst = tempfile::tempdir().unwrap();
    let recv = receiver(dst.path(), &["--overwrite"]).await;
    for (name, body) in [("Report.txt", &b"one"[..]), ("report.TXT", b"two")] {
        let reply = send_raw_frame(&recv.addr, file_header(name, body), body)
            .await
            .unwrap();
        assert_eq!(reply.header.extra["status"], "ok", "{name}");
        let message = String::from_utf8_lossy(&reply.body).into_owned();
        assert!(message.starts_with("saved Report.txt "), "{message}");
    }
    assert_eq!(entries(dst.path()), ["Report.txt"]);
    assert_eq!(
        std::fs::read(dst.path().join("Report.txt")).unwrap(),
        b"two"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_file_on_one_connection_is_received_and_answered() {
    let dst = tempfile::tempdir().unwrap();
    let recv = receiver(dst.path(), &[]).await;
    let stream = TcpStream::connect(&recv.addr).await.unwrap();
    let mut framed = Framed::new(stream, HeaderCodec::new());
    for (name, body) in [("first.txt", &b"one"[..]), ("second.txt", b"two")] {
        framed
            .send(Frame::with_header(file_header(name, body), body))
            .await
            .unwrap();
        let reply = tokio::time::timeout(LIMIT, framed.next())
            .await
            .unwrap()
            .expect("a reply for each file")
            .unwrap();
        assert_eq!(reply.header.extra["status"], "ok", "{name}");
    }
    // A refused third file is answered too, then the connection closes.
    framed
        .send(Frame::with_header(file_header("NUL", b"x"), &b"x"[..]))
        .await
        .unwrap();
    let reply = tokio::time::timeout(LIMIT, framed.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(reply.header.extra["error"], "bad-filename");
    assert_eq!(entries(dst.path()), ["first.txt", "second.txt"]);
    assert_eq!(
        std::fs::read(dst.path().join("second.txt")).unwrap(),
        b"two"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporary_file_left_by_a_killed_receiver_is_removed_at_restart() {
    let dst = tempfile::tempdir().unwrap();
    let mut recv = receiver(dst.path(), &[]).await;
    let mut s = TcpStream::connect(&recv.addr).await.unwrap();
    let header = format!(
        r#"{{"data_size": 1000000, "filename": "big.bin", "hash": "{}"}}"#,
        "a".repeat(64)
    );
    s.write_all(&(header.len() as i32).to_le_bytes())
        .await
        .unwrap();
    s.write_all(header.as_bytes()).await.unwrap();
    s.write_all(&[1u8; 10_000]).await.unwrap();
    // Wait for the temporary file, then SIGKILL: nothing runs to remove it.
    let deadline = Instant::now() + LIMIT;
    while !entries(dst.path()).iter().any(|n| n.ends_with(".part")) {
        assert!(Instant::now() < deadline, "no temporary file appeared");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    recv.child.kill().await.unwrap();
    let left = entries(dst.path());
    assert!(
        left.len() == 1 && left[0].starts_with(".framecheck-"),
        "{left:?}"
    );
    let recv = receiver(dst.path(), &[]).await;
    assert_eq!(entries(dst.path()), Vec::<String>::new());
    let log = recv.log();
    assert!(
        log.contains("removed 1 temporary file(s) an earlier run left behind"),
        "{log}"
    );
}
