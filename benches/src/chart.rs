//! One SVG bar chart per benchmark group, drawn with plotters' SVG backend
//! (no fonts needed: the SVG carries text, the viewer renders it).
//!
//! Bars are horizontal on a logarithmic axis, since the strategies span six
//! orders of magnitude (20 req/s to millions of messages/s).

use plotters::{coord::ranged1d::SegmentValue, prelude::*};

/// One bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Label on the left.
    pub label: String,
    /// Length, in the chart's unit; must be positive to be drawn.
    pub value: f64,
    /// Colour index (e.g. one per payload size).
    pub series: usize,
}

const COLORS: [RGBColor; 5] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xbd),
];

/// Renders `bars` as an SVG document; `None` when no bar has a positive
/// value.
///
/// # Errors
///
/// plotters' drawing error, as text.
pub fn bar_chart_svg(title: &str, unit: &str, bars: &[Bar]) -> Result<Option<String>, String> {
    let bars: Vec<&Bar> = bars
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
    let height = 90 + 18 * n as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(36)
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
            .x_desc(unit)
            .x_label_formatter(&|v| format_si(*v))
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, b)| {
                let color = COLORS[b.series % COLORS.len()];
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
            }))
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(Some(svg))
}

/// `1500` → `1.5k`, `3.3e6` → `3.3M`: short axis labels.
pub fn format_si(v: f64) -> String {
    let (scaled, suffix) = match v.abs() {
        x if x >= 1e9 => (v / 1e9, "G"),
        x if x >= 1e6 => (v / 1e6, "M"),
        x if x >= 1e3 => (v / 1e3, "k"),
        _ => (v, ""),
    };
    let text = format!("{scaled:.1}");
    let text = text.strip_suffix(".0").unwrap_or(&text);
    format!("{text}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn si_labels() {
        assert_eq!(format_si(10.0), "10");
        assert_eq!(format_si(1500.0), "1.5k");
        assert_eq!(format_si(3_300_000.0), "3.3M");
        assert_eq!(format_si(1e9), "1G");
    }

    #[test]
    fn chart_has_one_bar_per_positive_value_and_the_labels() {
        let bars = vec![
            Bar {
                label: "length 256 B".into(),
                value: 39_000.0,
                series: 1,
            },
            Bar {
                label: "two-send-nagle-on 256 B".into(),
                value: 22.0,
                series: 1,
            },
            Bar {
                label: "missing".into(),
                value: 0.0,
                series: 0,
            },
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
    fn no_positive_value_no_chart() {
        let bars = [Bar {
            label: "x".into(),
            value: f64::NAN,
            series: 0,
        }];
        assert_eq!(bar_chart_svg("t", "u", &bars), Ok(None));
    }
}
