//! One table helper for every report: the same rows as a Markdown table
//! (for `docs/` and `report.md`) or as aligned text (for a terminal).

use std::fmt::Write as _;

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text: left.
    Left,
    /// Figures: right.
    Right,
}

/// A table: column headings with their alignment, and rows of cells.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    columns: Vec<(String, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these columns, each `(heading, alignment)`.
    pub fn new<S: Into<String>>(columns: impl IntoIterator<Item = (S, Align)>) -> Table {
        Table {
            columns: columns.into_iter().map(|(h, a)| (h.into(), a)).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are empty, extra cells are dropped.
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) -> &mut Table {
        let mut cells: Vec<String> = cells.into_iter().map(Into::into).collect();
        cells.resize(self.columns.len(), String::new());
        self.rows.push(cells);
        self
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// As a Markdown table (a `|` in a cell is escaped), ending in a
    /// newline.
    ///
    /// ```
    /// use framecheck_figures::table::{Align, Table};
    ///
    /// let mut t = Table::new([("strategy", Align::Left), ("req/s", Align::Right)]);
    /// t.row(["length", "46 100"]);
    /// assert_eq!(t.markdown(), "| strategy | req/s |\n| --- | ---: |\n| length | 46 100 |\n");
    /// ```
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let line = |s: &mut String, cells: &mut dyn Iterator<Item = &str>| {
            for c in cells {
                let _ = write!(s, "| {} ", c.replace('|', "\\|"));
            }
            s.push_str("|\n");
        };
        line(&mut s, &mut self.columns.iter().map(|(h, _)| h.as_str()));
        line(
            &mut s,
            &mut self.columns.iter().map(|(_, a)| match a {
                Align::Left => "---",
                Align::Right => "---:",
            }),
        );
        for r in &self.rows {
            line(&mut s, &mut r.iter().map(String::as_str));
        }
        s
    }

    /// As text with columns padded to their widest cell (counted in
    /// characters), two spaces apart, ending in a newline.
    ///
    /// ```
    /// use framecheck_figures::table::{Align, Table};
    ///
    /// let mut t = Table::new([("framing", Align::Left), ("sent", Align::Right)]);
    /// t.row(["raw", "1500"]);
    /// assert_eq!(t.text(), "framing  sent\nraw      1500\n");
    /// ```
    pub fn text(&self) -> String {
        let width = |i: usize| {
            std::iter::once(&self.columns[i].0)
                .chain(self.rows.iter().map(|r| &r[i]))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..self.columns.len()).map(width).collect();
        let mut s = String::new();
        let mut line = |cells: &mut dyn Iterator<Item = &str>| {
            let mut out = String::new();
            for (i, c) in cells.enumerate() {
                if i > 0 {
                    out.push_str("  ");
                }
                let pad = widths[i].saturating_sub(c.chars().count());
                match self.columns[i].1 {
                    Align::Left => {
                        out.push_str(c);
                        out.extend(std::iter::repeat_n(' ', pad));
                    }
                    Align::Right => {
                        out.extend(std::iter::repeat_n(' ', pad));
                        out.push_str(c);
                    }
                }
            }
            s.push_str(out.trim_end());
            s.push('\n');
        };
        line(&mut self.columns.iter().map(|(h, _)| h.as_str()));
        for r in &self.rows {
            line(&mut r.iter().map(String::as_str));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_padded_escaped_and_completed() {
        let mut t = Table::new([("a", Align::Left), ("b", Align::Right)]);
        t.row(["x|y"]).row(["µs", "10", "dropped"]);
        assert_eq!(t.len(), 2);
        assert_eq!(
            t.markdown(),
            "| a | b |\n| --- | ---: |\n| x\\|y |  |\n| µs | 10 |\n"
        );
        assert_eq!(t.text(), "a     b\nx|y\nµs   10\n");
        assert!(Table::new([("a", Align::Left)]).is_empty());
    }
}
