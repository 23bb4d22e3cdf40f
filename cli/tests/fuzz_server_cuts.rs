//! Are the cuts real? A Python `socketserver` reports the size of every
//! `recv()`; we compare them with the pieces fuzz-server wrote (one write
//! each, `TCP_NODELAY`, a pause after each). `FRAMECHECK_CUT_CONVERSATIONS`
//! sets how many conversations per pause (default 40); `ci/fuzz-server-check.sh`
//! runs 300 and quotes the rates.

use std::{
    io::{Read, Write as _},
    net::Shutdown,
    path::PathBuf,
    time::Duration,
};

use framecheck_cli::fuzz_server::{exchange::Client, Format, Spec, Target};

/// Share of conversations (and of pieces) that the server read exactly as
/// they were cut.
fn match_rate(client: &Client, pause: Duration, conversations: usize) -> (f64, f64) {
    let mut whole = 0;
    let mut pieces_total = 0;
    let mut pieces_matched = 0;
    for i in 0..conversations {
        // 2 to 8 pieces of 1 to 40 bytes, like fuzz-server's aimed cuts.
        let pieces: Vec<Vec<u8>> = (0..2 + i % 7)
            .map(|k| vec![b'a'; 1 + (i * 7 + k * 13) % 40])
            .collect();
        let mut s = client.send_pieces(&pieces, pause).unwrap().unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut line = String::new();
        s.read_to_string(&mut line).unwrap();
        let reads: Vec<usize> = line
            .split_whitespace()
            .map(|n| n.parse().unwrap())
            .collect();
        let sizes: Vec<usize> = pieces.iter().map(Vec::len).collect();
        assert_eq!(
            reads.iter().sum::<usize>(),
            sizes.iter().sum::<usize>(),
            "{line}"
        );
        if reads == sizes {
            whole += 1;
        }
        // A piece matched when one read ended exactly where it ended and
        // started where it started.
        let ends = |v: &[usize]| -> Vec<usize> {
            v.iter()
                .scan(0, |a, n| {
                    *a += n;
                    Some(*a)
                })
                .collect()
        };
        let (re, pe) = (ends(&reads), ends(&sizes));
        for (k, &end) in pe.iter().enumerate() {
            let start = if k == 0 { 0 } else { pe[k - 1] };
            let starts_ok = start == 0 || re.contains(&start);
            if starts_ok && re.contains(&end) {
                pieces_matched += 1;
            }
        }
        pieces_total += sizes.len();
    }
    (
        whole as f64 / conversations as f64,
        pieces_matched as f64 / pieces_total as f64,
    )
}

#[test]
fn a_python_server_s_reads_match_the_cuts() {
    let n: usize = std::env::var("FRAMECHECK_CUT_CONVERSATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/servers/recv_sizes.py");
    let target = Target::start(
        Spec::Spawn(vec![
            "python3".into(),
            script.to_string_lossy().into_owned(),
            "{port}".into(),
        ]),
        Duration::from_secs(20),
    )
    .unwrap();
    let client = Client {
        addr: target.addr(),
        format: Format::Raw,
        timeout: Duration::from_secs(2),
    };
    let mut rates = Vec::new();
    for pause_us in [0, 100, 1000, 5000] {
        let (conv, piece) = match_rate(&client, Duration::from_micros(pause_us), n);
        println!(
            "pause {pause_us:>5} us: {:5.1}% of {n} conversations and {:5.1}% of pieces read exactly as cut",
            conv * 100.0,
            piece * 100.0
        );
        rates.push(piece);
    }
    // Without a pause, pieces merge; with fuzz-server's replay pause
    // (5 ms) nearly every read matches its cut.
    assert!(rates[3] >= 0.9, "{rates:?}");
    assert!(rates[3] > rates[0], "{rates:?}");
    let _ = std::io::stdout().flush();
}
