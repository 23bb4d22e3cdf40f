//! Wire compatibility with the Python tutorial's peer, run for real: a
//! `python3` client frames messages with `struct.pack('<i', len(h)) + h +
//! body`, our `Conn` answers each upper-cased, and the client decodes the
//! replies the tutorial's way and checks them. On a machine where
//! `python3` cannot run, the test prints why and passes without checking;
//! in CI (`CI` set) a missing `python3` fails it.

use std::{process::Stdio, time::Duration};

use framecheck_codec::{
    strategy::{Conn, Framing},
    Header,
};
use tokio::{io::AsyncReadExt, net::TcpListener, process::Command, time::timeout};

const CLIENT: &str = r#"
import hashlib, json, socket, struct, sys

def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("peer closed after %d of %d bytes" % (len(data), n))
        data += chunk
    return data

sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
bodies = [b"", b"hello", "h\u00e9llo w\u00f6rld".encode(), bytes(range(256)) * 300]
for i, body in enumerate(bodies):
    head = json.dumps({"filename": "f%d.bin" % i, "data_size": len(body),
                       "hash": hashlib.sha256(body).hexdigest(), "seq": i}).encode()
    sock.sendall(struct.pack("<i", len(head)) + head + body)
for i, body in enumerate(bodies):
    (head_len,) = struct.unpack("<i", recv_exact(sock, 4))
    head = json.loads(recv_exact(sock, head_len).decode())
    reply = recv_exact(sock, head["data_size"])
    assert reply == body.upper(), (i, reply[:20])
    assert head["seq"] == i and head["filename"] == "f%d.bin" % i, head
    assert head["hash"] == hashlib.sha256(body).hexdigest(), head
sock.close()
print("python peer ok: %d frames" % len(bodies))
"#;

#[tokio::test]
async fn python_tutorial_peer_interoperates() {
    // A machine without Python cannot run the peer: say so and skip, except
    // in CI, which has python3 and must run this check.
    let probe = std::process::Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if let Err(e) = probe {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have python3 to check wire compatibility: {e}"
        );
        eprintln!("skipping python_tutorial_peer_interoperates: python3 not runnable ({e})");
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(CLIENT)
        .arg(port.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python3 ran for --version just above");

    let server = async {
        let (stream, _) = listener.accept().await.unwrap();
        let mut conn = Conn::new(stream, Framing::JsonHeader);
        let mut count = 0;
        while let Some(frame) = conn.recv_frame().await.unwrap() {
            let h: &Header = &frame.header;
            assert_eq!(
                h.filename.as_deref(),
                Some(format!("f{count}.bin").as_str())
            );
            assert_eq!(h.extra.get("seq"), Some(&count.into()));
            conn.send_frame(h, &frame.body.to_ascii_uppercase())
                .await
                .unwrap();
            count += 1;
        }
        count
    };
    let count = timeout(Duration::from_secs(30), server).await.unwrap();
    assert_eq!(count, 4);

    let status = timeout(Duration::from_secs(30), child.wait())
        .await
        .unwrap()
        .unwrap();
    let mut out = String::new();
    let mut err = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .await
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .await
        .unwrap();
    assert!(status.success(), "python peer failed: {err}");
    assert_eq!(out.trim(), "python peer ok: 4 frames");
}
