//! Showdown output, whatever the part: each part hands over a [`Section`]
//! (its tables, notes and chart, already computed), and this module prints
//! it for the terminal or writes `report.md`, the charts and
//! `results.json`. It knows no part: parts depend on it, never the reverse.

use std::{
    io,
    path::{Path, PathBuf},
};

pub use framecheck_figures::table::{Align, Table};

// The first showdown's report functions, deprecated; they are defined with
// the parts, so this module still calls none of them.
#[allow(deprecated)]
pub use crate::showdown::compat::{
    chart_svg, explain_part1, explain_part2, part1_table, part2_table, PART1_LEGEND,
};

/// A chart file next to the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// File name in the output directory (`chart.svg`).
    pub file: String,
    /// Alternative text of the Markdown image.
    pub alt: String,
    /// The SVG document.
    pub svg: String,
}

/// What one part of the showdown found, ready to print.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// Heading (`Part 1: does each framing keep message boundaries?`).
    pub title: String,
    /// How the part ran: settings and what was measured, one sentence.
    pub setup: String,
    /// The figures.
    pub table: Table,
    /// What the columns mean, printed under the table as is.
    pub legend: Option<String>,
    /// One line per row on why it came out so: `(row, why)`.
    pub notes: Vec<(String, String)>,
    /// A chart, if the part draws one.
    pub chart: Option<Chart>,
}

/// The section for a terminal: heading, setup, table, legend and notes.
///
/// ```
/// use framecheck_cli::report::{text, Align, Section, Table};
///
/// let mut table = Table::new([("framing", Align::Left), ("intact", Align::Right)]);
/// table.row(["JSON header", "3000"]);
/// let s = Section {
///     title: "Part 1".into(),
///     setup: "3000 messages".into(),
///     table,
///     legend: None,
///     notes: vec![("JSON header".into(), "every boundary restored".into())],
///     chart: None,
/// };
/// assert_eq!(
///     text(&s),
///     "Part 1\n\n3000 messages.\n\nframing      intact\nJSON header    3000\n\n- JSON header: every boundary restored\n"
/// );
/// ```
pub fn text(s: &Section) -> String {
    let mut out = format!("{}\n\n{}.\n\n{}", s.title, s.setup, s.table.text());
    if let Some(legend) = &s.legend {
        out.push('\n');
        out.push_str(legend);
        out.push('\n');
    }
    if !s.notes.is_empty() {
        out.push('\n');
    }
    for (row, why) in &s.notes {
        out.push_str(&format!("- {row}: {why}\n"));
    }
    out
}

/// The Markdown report of every section, in order.
pub fn markdown(sections: &[Section]) -> String {
    let mut out = String::from("# framecheck showdown\n");
    for s in sections {
        out.push_str(&format!("\n## {}\n\n{}.\n\n", s.title, s.setup));
        if let Some(c) = &s.chart {
            out.push_str(&format!("![{}]({})\n\n", c.alt, c.file));
        }
        out.push_str(&s.table.markdown());
        if let Some(legend) = &s.legend {
            out.push_str(&format!("\n```text\n{legend}\n```\n"));
        }
        if !s.notes.is_empty() {
            out.push('\n');
        }
        for (row, why) in &s.notes {
            out.push_str(&format!("- **{row}**: {why}\n"));
        }
    }
    out
}

/// Where [`write()`] put the files.
#[derive(Debug, Clone)]
pub struct Written {
    /// `report.md`.
    pub markdown: PathBuf,
    /// The charts, in section order.
    pub charts: Vec<PathBuf>,
    /// `results.json`.
    pub json: PathBuf,
}

/// Writes `report.md`, each section's chart and `results.json` (the raw
/// results, as given) into `dir`, created if needed.
///
/// # Errors
///
/// Any filesystem error.
pub fn write(dir: &Path, sections: &[Section], results: &serde_json::Value) -> io::Result<Written> {
    std::fs::create_dir_all(dir)?;
    let mut charts = Vec::new();
    for c in sections.iter().filter_map(|s| s.chart.as_ref()) {
        let path = dir.join(&c.file);
        std::fs::write(&path, &c.svg)?;
        charts.push(path);
    }
    let written = Written {
        markdown: dir.join("report.md"),
        charts,
        json: dir.join("results.json"),
    };
    std::fs::write(&written.markdown, markdown(sections))?;
    let json = serde_json::to_string_pretty(results).map_err(io::Error::other)?;
    std::fs::write(&written.json, json)?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(chart: bool) -> Section {
        let mut table = Table::new([("strategy", Align::Left), ("messages/s", Align::Right)]);
        table.row(["JSON header", "41 000"]);
        Section {
            title: "Part 2: what each strategy costs".into(),
            setup: "loopback".into(),
            table,
            legend: Some("* = stopped by the time cap".into()),
            notes: vec![("JSON header".into(), "one vectored write".into())],
            chart: chart.then(|| Chart {
                file: "chart.svg".into(),
                alt: "messages per second".into(),
                svg: "<svg/>".into(),
            }),
        }
    }

    #[test]
    fn markdown_has_heading_chart_table_legend_and_notes() {
        let md = markdown(&[section(true)]);
        assert_eq!(
            md,
            "# framecheck showdown\n\n## Part 2: what each strategy costs\n\nloopback.\n\n\
             ![messages per second](chart.svg)\n\n| strategy | messages/s |\n| --- | ---: |\n\
             | JSON header | 41 000 |\n\n```text\n* = stopped by the time cap\n```\n\n\
             - **JSON header**: one vectored write\n"
        );
    }

    #[test]
    fn write_puts_every_file_in_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("nested");
        let results = serde_json::json!({"cost": {"rows": []}});
        let w = write(&out, &[section(true), section(false)], &results).unwrap();
        assert_eq!(w.charts, [out.join("chart.svg")]);
        assert_eq!(std::fs::read_to_string(&w.charts[0]).unwrap(), "<svg/>");
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&w.json).unwrap()).unwrap();
        assert_eq!(json, results);
        let md = std::fs::read_to_string(&w.markdown).unwrap();
        assert_eq!(md.matches("## Part 2").count(), 2);
    }
}
