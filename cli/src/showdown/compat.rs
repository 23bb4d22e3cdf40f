//! The report functions of the first showdown, kept for code that called
//! them: deprecated wrappers over the parts' own functions
//! ([`boundaries::explain`], [`boundaries::section`], [`cost::explain`],
//! [`cost::chart_svg`]). They live here, with the parts, so that the
//! [`report`](crate::report) module, which re-exports them under their old
//! names, still knows no part.

use super::{boundaries, cost, Measure, Tally};
use crate::report::Section;

/// What the Part 1 columns mean, printed under the table.
#[deprecated(note = "use showdown::boundaries::LEGEND")]
pub const PART1_LEGEND: &str = boundaries::LEGEND;

/// One line on what a Part 1 row shows.
#[deprecated(note = "use showdown::boundaries::explain")]
pub fn explain_part1(t: &Tally) -> String {
    boundaries::explain(t)
}

/// One line on why a Part 2 row came out as it did.
#[deprecated(note = "use showdown::cost::explain")]
pub fn explain_part2(m: &Measure) -> String {
    cost::explain(m)
}

/// Part 1 as a text table, the legend and one line per row.
#[deprecated(note = "use report::text(&showdown::boundaries::section(setup, rows))")]
pub fn part1_table(rows: &[Tally]) -> String {
    table_legend_notes(&boundaries::section("", rows))
}

/// Part 2 as a text table, the legend and one line per row.
#[deprecated(note = "use report::text(&showdown::cost::section(setup, rows)?)")]
pub fn part2_table(rows: &[Measure]) -> String {
    table_legend_notes(&cost::table_section("", rows))
}

/// The Part 2 chart as an SVG document; empty when there is nothing to
/// draw (no positive rate) or drawing fails.
#[deprecated(note = "use showdown::cost::chart_svg, which says why there is no chart")]
pub fn chart_svg(rows: &[Measure]) -> String {
    cost::chart_svg(rows).ok().flatten().unwrap_or_default()
}

/// The old layout: table, blank line, legend, blank line, `- row: why`.
fn table_legend_notes(s: &Section) -> String {
    let mut out = s.table.text();
    if let Some(legend) = &s.legend {
        out.push('\n');
        out.push_str(legend);
        out.push_str("\n\n");
    }
    for (row, why) in &s.notes {
        out.push_str(&format!("- {row}: {why}\n"));
    }
    out
}
