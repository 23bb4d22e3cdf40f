//! A horizontal bar chart on a logarithmic axis, drawn with plotters' SVG
//! backend (no fonts needed: the SVG carries text, the viewer renders it).
//!
//! The axis is logarithmic because framing strategies span six orders of
//! magnitude (20 requests/s to millions of messages/s). Bars are drawn top
//! to bottom in the order given; each has a series (its colour), and a
//! chart with named series draws a legend.

use plotters::{coord::ranged1d::SegmentValue, prelude::*};

/// One bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Label on the left.
    pub label: String,
    /// Length, in the chart's unit; must be positive and finite to be drawn.
    pub value: f64,
    /// Colour index (e.g. one per payload size), also the index of its name
    /// in [`BarChart::series`].
    pub series: usize,
}

/// A chart: its title, the unit of the axis, the bars, and the names of
/// the series for the legend (no legend when empty).
#[derive(Debug, Clone, Copy)]
pub struct BarChart<'a> {
    /// Caption above the chart.
    pub title: &'a str,
    /// Description of the horizontal axis.
    pub unit: &'a str,
    /// The bars, first at the top.
    pub bars: &'a [Bar],
    /// Legend entry of each series, by [`Bar::series`].
    pub series: &'a [String],
}

const COLORS: [RGBColor; 5] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xbd),
];

impl BarChart<'_> {
    /// Renders the chart as an SVG document; `None` when no bar has a
    /// positive value.
    ///
    /// # Errors
    ///
    /// plotters' drawing error, as text.
    ///
    /// ```
    /// use framecheck_figures::chart::{Bar, BarChart};
    ///
    /// let bars = [Bar { label: "length · 256 B".into(), value: 39_000.0, series: 0 }];
    /// let chart = BarChart { title: "req/s", unit: "requests/s", bars: &bars, series: &[] };
    /// assert!(chart.svg().unwrap().unwrap().contains("length · 256 B"));
    /// let none = [Bar { value: 0.0, ..bars[0].clone() }];
    /// assert_eq!(BarChart { bars: &none, ..chart }.svg(), Ok(None));
    /// ```
    pub fn svg(&self) -> Result<Option<String>, String> {
        let bars: Vec<&Bar> = self
            .bars
            .iter()
            .filter(|b| b.value > 0.0 && b.value.is_finite())
            .collect();
        let (Some(min), Some(max)) = (
            bars.iter().map(|b| b.value).reduce(f64::min),
            bars.iter().map(|b| b.value).reduce(f64::max),
        ) else {
            return Ok(None);
        };
        // Whole decades around the data, so the axis ticks are 10^k.
        let lo = 10f64.powf(min.log10().floor());
        let hi = 10f64.powf(max.log10().ceil().max(min.log10().floor() + 1.0));
        let n = bars.len();
        let legend_rows = if self.series.is_empty() {
            0
        } else {
            self.series.len() as u32
        };
        let height = 90 + 18 * n as u32 + 18 * legend_rows;
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (900, height)).into_drawing_area();
            root.fill(&WHITE).map_err(|e| e.to_string())?;
            let mut chart = ChartBuilder::on(&root)
                .caption(self.title, ("sans-serif", 18))
                .margin(10)
                .x_label_area_size(36 + 18 * legend_rows)
                .y_label_area_size(250)
                .build_cartesian_2d((lo..hi).log_scale(), (0..n).into_segmented())
                .map_err(|e| e.to_string())?;
            let labels: Vec<String> = bars.iter().map(|b| b.label.clone()).collect();
            let label_of = |v: &SegmentValue<usize>| match v {
                SegmentValue::CenterOf(row) if *row < n => labels[n - 1 - row].clone(),
                _ => String::new(),
            };
            chart
                .configure_mesh()
                .disable_y_mesh()
                .y_labels(n)
                .y_label_formatter(&label_of)
                .x_desc(self.unit)
                .x_label_formatter(&|v| crate::fmt::si(*v))
                .label_style(("sans-serif", 12))
                .draw()
                .map_err(|e| e.to_string())?;
            let series_count = bars.iter().map(|b| b.series + 1).max().unwrap_or(0);
            for series in 0..series_count.max(self.series.len()) {
                let color = COLORS[series % COLORS.len()];
                let drawn = chart
                    .draw_series(
                        bars.iter()
                            .enumerate()
                            .filter(|(_, b)| b.series == series)
                            .map(|(i, b)| {
                                // First bar at the top.
                                let row = n - 1 - i;
                                let mut bar = Rectangle::new(
                                    [
                                        (lo, SegmentValue::Exact(row)),
                                        (b.value, SegmentValue::Exact(row + 1)),
                                    ],
                                    color.filled(),
                                );
                                bar.set_margin(2, 2, 0, 0);
                                bar
                            }),
                    )
                    .map_err(|e| e.to_string())?;
                if let Some(name) = self.series.get(series) {
                    drawn.label(name.as_str()).legend(move |(x, y)| {
                        Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled())
                    });
                }
            }
            if !self.series.is_empty() {
                chart
                    .configure_series_labels()
                    .position(SeriesLabelPosition::LowerRight)
                    .background_style(WHITE)
                    .border_style(BLACK)
                    .label_font(("sans-serif", 12))
                    .draw()
                    .map_err(|e| e.to_string())?;
            }
            root.present().map_err(|e| e.to_string())?;
        }
        Ok(Some(svg))
    }
}

/// [`BarChart::svg`] without a legend.
///
/// # Errors
///
/// plotters' drawing error, as text.
pub fn bar_chart_svg(title: &str, unit: &str, bars: &[Bar]) -> Result<Option<String>, String> {
    BarChart {
        title,
        unit,
        bars,
        series: &[],
    }
    .svg()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(label: &str, value: f64, series: usize) -> Bar {
        Bar {
            label: label.into(),
            value,
            series,
        }
    }

    #[test]
    fn chart_has_one_bar_per_positive_value_and_the_labels() {
        let bars = vec![
            bar("length 256 B", 39_000.0, 1),
            bar("two-send-nagle-on 256 B", 22.0, 1),
            bar("missing", 0.0, 0),
        ];
        let svg = bar_chart_svg("req/s", "requests/s", &bars)
            .unwrap()
            .unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        assert!(svg.contains("length 256 B"));
        assert!(svg.contains("two-send-nagle-on 256 B"));
        assert!(!svg.contains("missing"));
        // The two bars in the series colour (#FF7F0E).
        assert_eq!(svg.matches(r##"fill="#FF7F0E""##).count(), 2, "{svg}");
    }

    #[test]
    fn named_series_get_a_legend() {
        let bars = vec![bar("a", 10.0, 0), bar("a", 1000.0, 1)];
        let series = ["64 B messages".to_string(), "64 KiB messages".to_string()];
        let chart = BarChart {
            title: "t",
            unit: "u",
            bars: &bars,
            series: &series,
        };
        let svg = chart.svg().unwrap().unwrap();
        assert!(svg.contains("64 B messages") && svg.contains("64 KiB messages"));
        // One bar and one legend swatch per series.
        assert_eq!(svg.matches(r##"fill="#1F77B4""##).count(), 2, "{svg}");
        assert_eq!(svg.matches(r##"fill="#FF7F0E""##).count(), 2, "{svg}");
        let plain = bar_chart_svg("t", "u", &bars).unwrap().unwrap();
        assert!(!plain.contains("64 B messages"));
    }

    #[test]
    fn no_positive_value_no_chart() {
        let bars = [bar("x", f64::NAN, 0)];
        assert_eq!(bar_chart_svg("t", "u", &bars), Ok(None));
    }
}
