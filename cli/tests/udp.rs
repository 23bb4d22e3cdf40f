//! End-to-end: `udp-echo-server` and `udp-echo-client`.

mod common;

use common::{run, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_echo_keeps_datagram_boundaries() {
    let server = Server::start(&["udp-echo-server", "--listen", "127.0.0.1:0"]).await;
    let out = run(
        &["udp-echo-client", "--connect", &server.addr],
        b"a\nbb\nccc\n",
    )
    .await;
    assert!(out.status.success(), "{}", out.stderr);
    assert_eq!(out.stdout, "A\nBB\nCCC\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_client_reports_an_oversize_datagram_and_goes_on() {
    let server = Server::start(&["udp-echo-server", "--listen", "127.0.0.1:0"]).await;
    let mut input = b"before\n".to_vec();
    input.extend(std::iter::repeat_n(b'x', 70_000));
    input.extend_from_slice(b"\nafter\n");
    let out = run(&["udp-echo-client", "--connect", &server.addr], &input).await;
    assert!(!out.status.success());
    assert!(
        out.stderr
            .contains("datagram of 70000 bytes exceeds the UDP limit of 65507 bytes"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, "BEFORE\nAFTER\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_server_reports_a_datagram_longer_than_its_buffer() {
    let server = Server::start(&[
        "udp-echo-server",
        "--listen",
        "127.0.0.1:0",
        "--recv-size",
        "16",
    ])
    .await;
    let out = run(
        &[
            "udp-echo-client",
            "--connect",
            &server.addr,
            "--timeout",
            "300",
        ],
        b"short\nthis line is longer than sixteen bytes\n",
    )
    .await;
    assert!(!out.status.success());
    assert_eq!(out.stdout, "SHORT\n");
    assert!(
        out.stderr.contains("no reply within 300 ms"),
        "{}",
        out.stderr
    );
    let log = server.wait_for_log("16-byte receive buffer").await;
    assert!(
        log.contains("longer than the 16-byte receive buffer"),
        "{log}"
    );
}
