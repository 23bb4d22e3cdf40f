//! Showdown output: text tables for the terminal, a Markdown report, an SVG
//! chart and the raw results as JSON.

use std::{
    fmt::Write as _,
    io,
    path::{Path, PathBuf},
};

use crate::showdown::{Measure, Results, Tally};

/// What the Part 1 columns mean, printed under the table.
pub const PART1_LEGEND: &str = "\
intact  = a received unit holds exactly that message
merged  = the message arrived whole, glued to bytes of other messages in one unit
split   = the message's bytes arrived spread over two or more units
lost    = not all of its bytes arrived
units   = what the receiver took as messages (reads for raw, frames otherwise)";

/// One line on what a Part 1 row shows.
pub fn explain_part1(t: &Tally) -> String {
    if let Some(e) = &t.error {
        return format!("receiver stopped on an error: {e}");
    }
    if t.intact == t.sent {
        format!(
            "every boundary restored: the length field says where each message ends, \
             however the proxy cut the stream ({} of {} intact)",
            t.intact, t.sent
        )
    } else {
        format!(
            "TCP delivered every byte but no boundary: {} messages shared a read with others, \
             {} were cut across reads, {} of {} lined up by luck",
            t.merged, t.split, t.intact, t.sent
        )
    }
}

/// One line on why a Part 2 row came out as it did.
pub fn explain_part2(m: &Measure) -> String {
    let s = m.strategy.as_str();
    if let Some(e) = &m.error {
        return format!("run ended on an error: {e}");
    }
    let p50_ms = m.p50_us / 1000.0;
    if s.starts_with("sleep") {
        format!(
            "paced by the gap (timer rounds up to whole ms): {:.0} msg/s at best; the gap makes \
             merging less likely, never impossible, and a large message still splits across reads",
            m.msgs_per_sec
        )
    } else if s.starts_with("two-send") && s.ends_with("Nagle on") {
        if p50_ms >= 10.0 {
            format!(
                "stalls {p50_ms:.0} ms per echo, a wait on each side: Nagle holds the second small \
                 write until the first is ACKed, and the peer, still waiting for the rest of the \
                 message, delays its ACK (~40 ms on Linux){}",
                if m.capped {
                    "; stopped by the time cap"
                } else {
                    ""
                }
            )
        } else if s.contains("ack") {
            format!(
                "no Nagle stall (p50 {p50_ms:.2} ms): the wait for the ack between the two writes \
                 means the first is already ACKed when the second goes"
            )
        } else {
            format!(
                "no Nagle stall (p50 {p50_ms:.2} ms): a large body is mostly full segments, which \
                 Nagle never holds, and once the peer reads them it sends a window-update ACK at \
                 once, releasing the short tail"
            )
        }
    } else if s.starts_with("two-send,") {
        "two writes per message but none waits (TCP_NODELAY): a syscall and often a packet \
         per write"
            .to_owned()
    } else if s.starts_with("two-send + ack") {
        "the ack costs an extra round trip per message (two per exchange), and two more \
         syscalls on each side"
            .to_owned()
    } else if s.ends_with("pipelined") && m.size <= 8 * 1024 {
        "feed() copies small messages into one buffer and flush() writes them at once: many \
         messages per syscall; latency includes the wait for the batch"
            .to_owned()
    } else if s.ends_with("pipelined") {
        "bodies over 8 KiB are written straight out (no copy), so pipelining gains little over \
         single sends"
            .to_owned()
    } else if s.starts_with("JSON") {
        "one vectored write per message; the JSON header costs a little parsing per message"
            .to_owned()
    } else {
        "one vectored write (length + body) per message: a syscall each, nothing waits".to_owned()
    }
}

fn fmt_us(us: f64) -> String {
    if us >= 10_000.0 {
        format!("{:.0} ms", us / 1000.0)
    } else if us >= 1000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else {
        format!("{us:.0} µs")
    }
}

fn fmt_size(bytes: usize) -> String {
    if bytes >= 1024 && bytes % 1024 == 0 {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} B")
    }
}

/// Part 1 as a text table with the legend and one line per row.
pub fn part1_table(rows: &[Tally]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<30} {:>6} {:>6} {:>7} {:>7} {:>7} {:>5}",
        "framing", "sent", "units", "intact", "merged", "split", "lost"
    );
    for t in rows {
        let _ = writeln!(
            s,
            "{:<30} {:>6} {:>6} {:>7} {:>7} {:>7} {:>5}",
            t.framing, t.sent, t.units, t.intact, t.merged, t.split, t.lost
        );
    }
    let _ = writeln!(s, "\n{PART1_LEGEND}\n");
    for t in rows {
        let _ = writeln!(s, "- {}: {}", t.framing, explain_part1(t));
    }
    s
}

/// Part 2 as a text table and one line per row.
pub fn part2_table(rows: &[Measure]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<28} {:>6} {:>8} {:>11} {:>9} {:>9} {:>9}",
        "strategy", "size", "messages", "messages/s", "MB/s", "p50", "p99"
    );
    for m in rows {
        let _ = writeln!(
            s,
            "{:<28} {:>6} {:>7}{} {:>11.0} {:>9.1} {:>9} {:>9}",
            m.strategy,
            fmt_size(m.size),
            m.messages,
            if m.capped { "*" } else { " " },
            m.msgs_per_sec,
            m.mb_per_sec,
            fmt_us(m.p50_us),
            fmt_us(m.p99_us)
        );
    }
    let _ = writeln!(s, "\n* = stopped by the time cap\n");
    for m in rows {
        let _ = writeln!(
            s,
            "- {} / {}: {}",
            m.strategy,
            fmt_size(m.size),
            explain_part2(m)
        );
    }
    s
}

/// The Markdown report.
pub fn markdown(r: &Results) -> String {
    let mut s = String::from("# framecheck showdown\n\n");
    if !r.part1.is_empty() {
        let _ = writeln!(s, "## Part 1: does each framing keep message boundaries?\n");
        let _ = writeln!(s, "{}.\n", r.part1_setup);
        s.push_str("| framing | sent | units | intact | merged | split | lost | why |\n");
        s.push_str("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
        for t in &r.part1 {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                t.framing,
                t.sent,
                t.units,
                t.intact,
                t.merged,
                t.split,
                t.lost,
                explain_part1(t)
            );
        }
        s.push_str("\n```text\n");
        s.push_str(PART1_LEGEND);
        s.push_str("\n```\n\n");
    }
    if !r.part2.is_empty() {
        let _ = writeln!(s, "## Part 2: what each strategy costs\n");
        let _ = writeln!(s, "{}.\n", r.part2_setup);
        s.push_str("![messages per second](chart.svg)\n\n");
        s.push_str("| strategy | size | messages | messages/s | MB/s | p50 | p99 | why |\n");
        s.push_str("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
        for m in &r.part2 {
            let _ = writeln!(
                s,
                "| {} | {} | {}{} | {:.0} | {:.1} | {} | {} | {} |",
                m.strategy,
                fmt_size(m.size),
                m.messages,
                if m.capped { " (time cap)" } else { "" },
                m.msgs_per_sec,
                m.mb_per_sec,
                fmt_us(m.p50_us),
                fmt_us(m.p99_us),
                explain_part2(m)
            );
        }
    }
    s
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A horizontal bar chart of messages/s (log scale), two bars per strategy
/// (small and large messages), as a standalone SVG document.
pub fn chart_svg(rows: &[Measure]) -> String {
    let mut labels: Vec<&str> = Vec::new();
    for m in rows {
        if !labels.contains(&m.strategy.as_str()) {
            labels.push(&m.strategy);
        }
    }
    let mut sizes: Vec<usize> = rows.iter().map(|m| m.size).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let colors = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759"];
    let (left, top, bar_h, gap, plot_w) = (230.0, 50.0, 12.0, 10.0, 560.0);
    let row_h = bar_h * sizes.len().max(1) as f64 + gap;
    let height = top + row_h * labels.len() as f64 + 40.0;
    let max = rows.iter().map(|m| m.msgs_per_sec).fold(1.0_f64, f64::max);
    let decades = max.log10().ceil().max(1.0);
    let x = |v: f64| left + plot_w * (v.max(1.0).log10() / decades);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" viewBox="0 0 {w} {height}" font-family="sans-serif" font-size="11">"#,
        w = left + plot_w + 60.0
    );
    let _ = writeln!(
        s,
        r#"<rect width="100%" height="100%" fill="white"/><text x="{left}" y="20" font-size="14">Messages per second by framing strategy (log scale)</text>"#
    );
    for d in 0..=decades as u32 {
        let xv = x(10f64.powi(d as i32));
        let _ = writeln!(
            s,
            r##"<line x1="{xv:.1}" y1="{top}" x2="{xv:.1}" y2="{y2:.1}" stroke="#ddd"/><text x="{xv:.1}" y="{ty:.1}" text-anchor="middle">1e{d}</text>"##,
            y2 = height - 35.0,
            ty = height - 22.0
        );
    }
    for (i, label) in labels.iter().enumerate() {
        let y0 = top + row_h * i as f64;
        let _ = writeln!(
            s,
            r#"<text x="{tx}" y="{ty:.1}" text-anchor="end">{}</text>"#,
            escape(label),
            tx = left - 8.0,
            ty = y0 + bar_h * sizes.len() as f64 / 2.0 + 4.0
        );
        for (j, size) in sizes.iter().enumerate() {
            let Some(m) = rows
                .iter()
                .find(|m| m.strategy == *label && m.size == *size)
            else {
                continue;
            };
            let y = y0 + bar_h * j as f64;
            let w = (x(m.msgs_per_sec) - left).max(1.0);
            let _ = writeln!(
                s,
                r#"<rect x="{left}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="{c}"><title>{} {}: {:.0} msg/s</title></rect><text x="{tx:.1}" y="{ty:.1}" font-size="9">{:.0}</text>"#,
                escape(label),
                fmt_size(*size),
                m.msgs_per_sec,
                m.msgs_per_sec,
                h = bar_h - 1.0,
                c = colors[j % colors.len()],
                tx = left + w + 3.0,
                ty = y + bar_h - 3.0
            );
        }
    }
    for (j, size) in sizes.iter().enumerate() {
        let lx = left + 130.0 * j as f64;
        let _ = writeln!(
            s,
            r#"<rect x="{lx}" y="30" width="10" height="10" fill="{c}"/><text x="{tx}" y="39">{} messages</text>"#,
            fmt_size(*size),
            c = colors[j % colors.len()],
            tx = lx + 14.0
        );
    }
    s.push_str("</svg>\n");
    s
}

/// Where [`write()`] put the files.
#[derive(Debug, Clone)]
pub struct Written {
    /// `report.md`.
    pub markdown: PathBuf,
    /// `chart.svg`.
    pub chart: PathBuf,
    /// `results.json`.
    pub json: PathBuf,
}

/// Writes `report.md`, `chart.svg` and `results.json` into `dir`
/// (created if needed).
///
/// # Errors
///
/// Any filesystem error.
pub fn write(dir: &Path, results: &Results) -> io::Result<Written> {
    std::fs::create_dir_all(dir)?;
    let written = Written {
        markdown: dir.join("report.md"),
        chart: dir.join("chart.svg"),
        json: dir.join("results.json"),
    };
    std::fs::write(&written.markdown, markdown(results))?;
    std::fs::write(&written.chart, chart_svg(&results.part2))?;
    let json = serde_json::to_string_pretty(results).map_err(io::Error::other)?;
    std::fs::write(&written.json, json)?;
    Ok(written)
}
