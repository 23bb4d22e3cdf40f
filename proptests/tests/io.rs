//! The async adapters: whole `Framed` pipelines and the framing
//! strategies' connections under split, merged and stalled I/O.

use std::{io, time::Duration};

use bytes::Bytes;
use framecheck::{
    io::{schedules, schedules_with_interrupts, ChunkedReader, ChunkedWriter, Schedule, Step},
    strategies,
};
use framecheck_codec::{
    strategy::{Conn, Framing},
    Frame, HeaderCodec,
};
use futures_util::{SinkExt, StreamExt};
use proptest::{
    collection::vec,
    prelude::*,
    test_runner::{Config, TestCaseError, TestError, TestRunner},
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::codec::{FramedRead, FramedWrite};

/// Runs `f` on a fresh single-threaded runtime, failing after 10 s.
fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            tokio::time::timeout(Duration::from_secs(10), f)
                .await
                .expect("timed out")
        })
}

fn runner(cases: u32) -> TestRunner {
    // At most `cases`, fewer when PROPTEST_CASES asks for fewer.
    let config = Config::default();
    let cases = config.cases.min(cases);
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..config
    })
}

#[test]
fn header_codec_pipeline_survives_any_schedule() {
    let strategy = (
        vec(framecheck_codec_fuzz::strategies::header_frame(), 0..5),
        schedules(),
        schedules(),
    );
    runner(64)
        .run(&strategy, |(frames, write, read)| {
            let got = block_on(async {
                let (a, b) = tokio::io::duplex(4096);
                let mut tx = FramedWrite::new(ChunkedWriter::new(a, write), HeaderCodec::new());
                let mut rx = FramedRead::new(ChunkedReader::new(b, read), HeaderCodec::new());
                let sent = frames.clone();
                let send = async move {
                    for frame in sent {
                        tx.send(frame).await.unwrap();
                    }
                    tx.get_mut().shutdown().await.unwrap();
                };
                let recv = async move {
                    let mut got = Vec::new();
                    while let Some(frame) = rx.next().await {
                        got.push(frame.map_err(|e| e.to_string()));
                    }
                    got
                };
                tokio::join!(send, recv).1
            });
            let got: Result<Vec<Frame>, String> = got.into_iter().collect();
            prop_assert_eq!(got, Ok(frames));
            Ok(())
        })
        .unwrap();
}

/// Messages sent with the sleep strategy and received with one read per
/// message, through a reader that splits and merges reads.
fn sleep_strategy_round_trip(messages: &[Bytes], read: Schedule) -> Vec<Bytes> {
    block_on(async {
        let (a, b) = tokio::io::duplex(1 << 20);
        let gap = Framing::Sleep {
            gap: Duration::ZERO,
        };
        let mut tx = Conn::new(a, gap);
        let mut rx = Conn::new(ChunkedReader::new(b, read), gap);
        for msg in messages {
            tx.send(msg).await.unwrap();
        }
        tx.shutdown().await.unwrap();
        let mut got = Vec::new();
        while got.len() <= messages.len() + 16 {
            match rx.recv().await.unwrap() {
                Some(msg) => got.push(msg),
                None => break,
            }
        }
        got
    })
}

#[test]
fn sleep_strategy_reader_fails_under_split_and_merged_reads() {
    let messages = vec(vec(any::<u8>(), 1..600).prop_map(Bytes::from), 1..5);
    let result = runner(256).run(&(messages, schedules()), |(messages, read)| {
        let got = sleep_strategy_round_trip(&messages, read);
        prop_assert_eq!(got, messages);
        Ok(())
    });
    match result {
        Err(TestError::Fail(reason, (messages, schedule))) => {
            eprintln!(
                "sleep strategy, minimal failure: {} messages of {:?} bytes, reads {schedule}: {reason}",
                messages.len(),
                messages.iter().map(Bytes::len).collect::<Vec<_>>()
            );
        }
        other => panic!("the sleep strategy should fail, got {other:?}"),
    }
    // A single one-byte read schedule splits a 2-byte message in two.
    let got = sleep_strategy_round_trip(&[Bytes::from_static(b"hi")], Schedule::one_byte());
    assert_eq!(got, [Bytes::from_static(b"h"), Bytes::from_static(b"i")]);
}

#[test]
fn header_prefixed_conn_passes_where_the_sleep_strategy_fails() {
    let messages = vec(vec(any::<u8>(), 0..600).prop_map(Bytes::from), 0..5);
    runner(64)
        .run(
            &(messages, schedules(), schedules()),
            |(messages, write, read)| {
                let got = block_on(async {
                    let (a, b) = tokio::io::duplex(1 << 20);
                    let mut tx = Conn::new(ChunkedWriter::new(a, write), Framing::JsonHeader);
                    let mut rx = Conn::new(ChunkedReader::new(b, read), Framing::JsonHeader);
                    for msg in &messages {
                        tx.send(msg).await.unwrap();
                    }
                    tx.shutdown().await.unwrap();
                    let mut got = Vec::new();
                    while let Some(msg) = rx.recv().await.unwrap() {
                        got.push(msg);
                    }
                    got
                });
                prop_assert_eq!(got, messages);
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn reader_follows_its_schedule_and_merges_ready_writes() {
    block_on(async {
        let (mut a, b) = tokio::io::duplex(64);
        a.write_all(b"abc").await.unwrap();
        a.write_all(b"defgh").await.unwrap();
        drop(a);
        let schedule = Schedule::new(vec![
            Step::Chunk(1),
            Step::Interrupted,
            Step::Chunk(6),
            Step::Pending,
        ]);
        let mut reader = ChunkedReader::new(b, schedule);
        let mut buf = [0u8; 16];
        assert_eq!(reader.read(&mut buf).await.unwrap(), 1);
        let err = reader.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::Interrupted);
        // Both writes merge into one read.
        assert_eq!(reader.read(&mut buf).await.unwrap(), 6);
        assert_eq!(&buf[..6], b"bcdefg");
        // `Pending` then the cycle restarts with a one-byte read.
        assert_eq!(reader.read(&mut buf).await.unwrap(), 1);
        assert_eq!(
            reader.read(&mut buf).await.unwrap_err().kind(),
            io::ErrorKind::Interrupted
        );
        assert_eq!(reader.read(&mut buf).await.unwrap(), 0);
    });
}

#[test]
fn writer_holds_merges_and_splits_writes() {
    block_on(async {
        let schedule = Schedule::new(vec![
            Step::Hold(2),
            Step::Hold(2),
            Step::Chunk(3),
            Step::Interrupted,
        ]);
        let mut writer = ChunkedWriter::new(Vec::new(), schedule);
        assert_eq!(writer.write(b"ab").await.unwrap(), 2);
        assert_eq!(writer.write(b"cdXX").await.unwrap(), 2);
        assert!(writer.get_mut().is_empty(), "held back");
        assert_eq!(writer.write(b"efgh").await.unwrap(), 3);
        assert_eq!(
            writer.get_mut().as_slice(),
            b"abcdefg",
            "merged into one write"
        );
        let err = writer.write(b"h").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::Interrupted);
        writer.write_all(b"h").await.unwrap();
        writer.flush().await.unwrap();
        assert_eq!(writer.get_mut().as_slice(), b"abcdefgh");
    });
}

#[test]
fn bytes_all_arrive_when_interrupted_calls_are_retried() {
    let data = vec(any::<u8>(), 0..3000);
    runner(64)
        .run(
            &(
                data,
                schedules_with_interrupts(),
                schedules_with_interrupts(),
            ),
            |(data, write, read)| {
                let got = block_on(async {
                    let (a, b) = tokio::io::duplex(256);
                    let mut writer = ChunkedWriter::new(a, write);
                    let mut reader = ChunkedReader::new(b, read);
                    let send = async {
                        let mut rest = &data[..];
                        while !rest.is_empty() {
                            match writer.write(rest).await {
                                Ok(n) => rest = &rest[n..],
                                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                                Err(e) => return Err(e),
                            }
                        }
                        loop {
                            match writer.shutdown().await {
                                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                                other => return other,
                            }
                        }
                    };
                    let recv = async {
                        let mut got = Vec::new();
                        let mut buf = [0u8; 512];
                        loop {
                            match reader.read(&mut buf).await {
                                Ok(0) => return Ok(got),
                                Ok(n) => got.extend_from_slice(&buf[..n]),
                                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                                Err(e) => return Err(e),
                            }
                        }
                    };
                    let (sent, got) = tokio::join!(send, recv);
                    sent.map_err(|e| TestCaseError::fail(e.to_string()))?;
                    got.map_err(|e| TestCaseError::fail(e.to_string()))
                })?;
                prop_assert_eq!(got, data);
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn schedules_are_arbitrary() {
    use arbitrary::{Arbitrary, Unstructured};
    let mut non_empty = 0;
    for seed in 0u8..64 {
        let bytes: Vec<u8> = (0..32u8)
            .map(|i| i.wrapping_mul(seed).wrapping_add(seed))
            .collect();
        let schedule = Schedule::arbitrary_take_rest(Unstructured::new(&bytes)).unwrap();
        // Empty passes through; otherwise something always moves bytes.
        if !schedule.steps().is_empty() {
            non_empty += 1;
            assert!(
                schedule
                    .steps()
                    .iter()
                    .any(|s| matches!(s, Step::Chunk(_) | Step::Hold(_))),
                "{schedule}"
            );
        }
    }
    assert!(non_empty >= 16, "{non_empty}");
}

#[test]
fn framed_pipeline_check_passes_the_correct_codecs() {
    // Small frames: through one-byte async I/O every byte costs a poll.
    let small = vec(strategies::bodies_of(0usize..2000), 0..6);
    framecheck::io::check_framed_roundtrip(tokio_util::codec::LengthDelimitedCodec::new, small)
        .unwrap();
    framecheck::io::check_framed_roundtrip(tokio_util::codec::LinesCodec::new, strategies::lines())
        .unwrap();
}

mod planted;

#[test]
fn framed_pipeline_check_catches_a_decoder_that_drops_glued_frames() {
    // The free function's settings, saving into a temporary directory.
    let dir = tempfile::tempdir().unwrap();
    let failure = framecheck::Harness::new()
        .regressions_dir(dir.path())
        .check_framed_roundtrip(
            || planted::Planted::new(planted::Bug::ClearsAfterFrame, 4),
            vec(strategies::bodies_of(0usize..300), 0..6),
        )
        .unwrap_err();
    assert!(failure.to_string().contains("read schedule: "), "{failure}");
}
