//! Each framing strategy over real loopback TCP: a few hundred messages of
//! mixed sizes, checked on arrival. The sleep strategy is shown failing.

use std::time::Duration;

use bytes::Bytes;
use framecheck_codec::{
    strategy::{Conn, Framing},
    CodecError, FrameError, FramePart, Limits,
};
use tokio::{
    io::AsyncWriteExt,
    net::{TcpListener, TcpStream},
    time::timeout,
};

const DEADLINE: Duration = Duration::from_secs(30);

/// A connected pair of loopback sockets, configured for `framing`.
async fn pair(framing: Framing) -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, server) = tokio::join!(TcpStream::connect(addr), listener.accept());
    let (client, server) = (client.unwrap(), server.unwrap().0);
    framing.configure(&client).unwrap();
    framing.configure(&server).unwrap();
    (client, server)
}

/// `n` messages whose sizes cycle through the lengths decoders get wrong:
/// empty, one byte, around 255 and 65 535, and a few larger ones.
fn messages(n: usize) -> Vec<Bytes> {
    const SIZES: [usize; 12] = [
        0, 1, 7, 255, 256, 1000, 4096, 9000, 65_535, 65_536, 100_000, 3,
    ];
    (0..n)
        .map(|i| {
            let len = SIZES[i % SIZES.len()];
            Bytes::from((0..len).map(|j| (i * 31 + j) as u8).collect::<Vec<u8>>())
        })
        .collect()
}

/// Sends `msgs` one way with `framing` (fed, so small ones may batch) and
/// returns what the reader received until the writer shut down.
async fn one_way(framing: Framing, msgs: &[Bytes], feed: bool) -> Vec<Bytes> {
    let (client, server) = pair(framing).await;
    let sent = msgs.to_vec();
    let writer = tokio::spawn(async move {
        let mut conn = Conn::new(client, framing);
        for m in &sent {
            if feed {
                conn.feed(m).await?;
            } else {
                conn.send(m).await?;
            }
        }
        conn.shutdown().await?;
        Ok::<_, CodecError>(conn)
    });
    let mut reader = Conn::new(server, framing);
    let mut got = Vec::new();
    while let Some(m) = reader.recv().await.unwrap() {
        got.push(m);
    }
    // Keep the writer's socket open until the reader is done: with `ack`,
    // the reader's acknowledgements must find a live peer.
    drop(writer.await.unwrap().unwrap());
    got
}

async fn check_delivers_all(framing: Framing, n: usize, feed: bool) {
    let msgs = messages(n);
    let got = timeout(DEADLINE, one_way(framing, &msgs, feed))
        .await
        .unwrap_or_else(|_| panic!("{framing}: timed out"));
    assert_eq!(got.len(), msgs.len(), "{framing}: message count");
    for (i, (g, m)) in got.iter().zip(&msgs).enumerate() {
        assert_eq!(g, m, "{framing}: message {i} differs");
    }
}

#[tokio::test]
async fn two_send_delivers_every_message() {
    let framing = Framing::TwoSend {
        ack: false,
        nodelay: true,
    };
    check_delivers_all(framing, 300, false).await;
}

#[tokio::test]
async fn two_send_with_ack_delivers_every_message() {
    let framing = Framing::TwoSend {
        ack: true,
        nodelay: true,
    };
    check_delivers_all(framing, 300, false).await;
}

#[tokio::test]
async fn two_send_with_nagle_delivers_every_message() {
    // Correct but slow (each small second write may wait for a delayed
    // ACK), so fewer messages.
    let framing = Framing::TwoSend {
        ack: false,
        nodelay: false,
    };
    check_delivers_all(framing, 40, false).await;
}

#[tokio::test]
async fn length_prefixed_delivers_every_message() {
    check_delivers_all(Framing::Length, 300, false).await;
    check_delivers_all(Framing::Length, 300, true).await;
}

#[tokio::test]
async fn json_header_delivers_every_message() {
    check_delivers_all(Framing::JsonHeader, 300, false).await;
    check_delivers_all(Framing::JsonHeader, 300, true).await;
}

#[tokio::test]
async fn request_response_with_every_correct_strategy() {
    for framing in [
        Framing::TwoSend {
            ack: true,
            nodelay: true,
        },
        Framing::Length,
        Framing::JsonHeader,
    ] {
        let (client, server) = pair(framing).await;
        let echo = tokio::spawn(async move {
            let mut conn = Conn::new(server, framing);
            while let Some(m) = conn.recv().await? {
                conn.send(&m.to_ascii_uppercase()).await?;
            }
            Ok::<_, CodecError>(())
        });
        let mut conn = Conn::new(client, framing);
        for m in messages(60) {
            conn.send(&m).await.unwrap();
            let reply = timeout(DEADLINE, conn.recv()).await.unwrap().unwrap();
            assert_eq!(
                reply,
                Some(Bytes::from(m.to_ascii_uppercase())),
                "{framing}"
            );
        }
        conn.shutdown().await.unwrap();
        echo.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn sleep_without_gap_merges_messages() {
    // The writer does not sleep long enough (here: not at all) and the
    // reader is slower than the writer: every message sent before the
    // reader's next read() comes out of it as one "message".
    let framing = Framing::Sleep {
        gap: Duration::ZERO,
    };
    let (client, server) = pair(framing).await;
    let msgs: Vec<Bytes> = (0..200u8).map(|i| Bytes::from(vec![i; 100])).collect();
    let mut writer = Conn::new(client, framing);
    for m in &msgs {
        writer.send(m).await.unwrap();
    }
    writer.shutdown().await.unwrap();

    let mut reader = Conn::new(server, framing);
    let mut got = Vec::new();
    while let Some(m) = timeout(DEADLINE, reader.recv()).await.unwrap().unwrap() {
        got.push(m);
    }
    // Nothing is lost, but the boundaries are: 20 000 bytes arrive in far
    // fewer reads than the 200 messages sent.
    assert_eq!(got.concat(), msgs.concat());
    assert!(
        got.len() < msgs.len() / 10,
        "expected merged reads, got {} reads for {} messages",
        got.len(),
        msgs.len()
    );
    assert!(got[0].len() > 100, "first read holds several messages");
}

#[tokio::test]
async fn sleep_splits_messages_longer_than_one_read() {
    // The tutorial reads with recv(1024): a longer message arrives in pieces.
    let framing = Framing::Sleep {
        gap: Duration::from_millis(5),
    };
    let (client, server) = pair(framing).await;
    let msg = Bytes::from(vec![7u8; 5000]);
    let mut writer = Conn::new(client, framing);
    writer.send(&msg).await.unwrap();
    writer.shutdown().await.unwrap();

    let mut reader = Conn::new(server, framing).raw_read_size(1024);
    let mut got = Vec::new();
    while let Some(m) = timeout(DEADLINE, reader.recv()).await.unwrap().unwrap() {
        got.push(m);
    }
    assert_eq!(got.concat(), &msg[..]);
    assert!(
        got.len() >= 5,
        "one 5000-byte message came as {} reads",
        got.len()
    );
    assert!(got.iter().all(|m| m.len() <= 1024));
}

#[tokio::test]
async fn two_send_reader_refuses_oversized_length_before_reading() {
    let framing = Framing::TwoSend {
        ack: false,
        nodelay: true,
    };
    let (mut client, server) = pair(framing).await;
    client.write_all(&1_000_000i32.to_le_bytes()).await.unwrap();
    let mut reader = Conn::with_limits(server, framing, Limits::default().max_body_len(1000));
    match reader.recv().await {
        Err(CodecError::Frame(FrameError::BodyTooLong {
            declared: 1_000_000,
            limit: 1000,
        })) => {}
        other => panic!("expected BodyTooLong, got {other:?}"),
    }
}

#[tokio::test]
async fn two_send_reader_names_a_negative_body_length_as_such() {
    let framing = Framing::TwoSend {
        ack: false,
        nodelay: true,
    };
    let (mut client, server) = pair(framing).await;
    client.write_all(&(-7i32).to_le_bytes()).await.unwrap();
    let mut reader = Conn::new(server, framing);
    match reader.recv().await {
        Err(CodecError::Frame(e @ FrameError::NegativeBodyLength { declared: -7 })) => {
            assert_eq!(e.to_string(), "body length field is negative (-7)");
        }
        other => panic!("expected NegativeBodyLength, got {other:?}"),
    }
}

#[tokio::test]
async fn two_send_reader_reports_truncated_body() {
    let framing = Framing::TwoSend {
        ack: false,
        nodelay: true,
    };
    let (mut client, server) = pair(framing).await;
    client.write_all(&10i32.to_le_bytes()).await.unwrap();
    client.write_all(b"abc").await.unwrap();
    client.shutdown().await.unwrap();
    let mut reader = Conn::new(server, framing);
    match reader.recv().await {
        Err(CodecError::Frame(FrameError::Truncated {
            part: FramePart::Body,
            received: 3,
            expected: 10,
        })) => {}
        other => panic!("expected Truncated, got {other:?}"),
    }
}

#[tokio::test]
async fn length_reader_reports_stream_ending_after_length_field() {
    let (mut client, server) = pair(Framing::Length).await;
    client.write_all(&[0, 0, 0, 5]).await.unwrap();
    client.shutdown().await.unwrap();
    let mut reader = Conn::new(server, Framing::Length);
    match reader.recv().await {
        Err(CodecError::Frame(FrameError::Truncated {
            part: FramePart::Body,
            received: 0,
            expected: 5,
        })) => {}
        other => panic!("expected Truncated, got {other:?}"),
    }
}

#[tokio::test]
async fn json_header_sender_refuses_over_limit_and_sends_nothing() {
    let (client, server) = pair(Framing::JsonHeader).await;
    let limits = Limits::default().max_body_len(10);
    let mut writer = Conn::with_limits(client, Framing::JsonHeader, limits);
    match writer.send(&[0u8; 11]).await {
        Err(CodecError::Frame(FrameError::BodyTooLong {
            declared: 11,
            limit: 10,
        })) => {}
        other => panic!("expected BodyTooLong, got {other:?}"),
    }
    writer.send(b"ok").await.unwrap();
    writer.shutdown().await.unwrap();
    let mut reader = Conn::with_limits(server, Framing::JsonHeader, limits);
    assert_eq!(
        reader.recv().await.unwrap(),
        Some(Bytes::from_static(b"ok"))
    );
    assert_eq!(reader.recv().await.unwrap(), None);
}
