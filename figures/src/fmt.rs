//! Numbers as the reports print them. Every function returns `–` for a
//! figure that is missing or not finite, so a table cell is never empty or
//! `NaN`.

/// What a missing figure prints as.
pub const MISSING: &str = "–";

/// A payload size: `16` → `16 B`, `1024` → `1 KiB`, `65536` → `64 KiB`
/// (KiB only for whole multiples of 1024).
///
/// ```
/// use framecheck_figures::fmt::size;
/// assert_eq!((size(256), size(65_536), size(1_500)), ("256 B".into(), "64 KiB".into(), "1500 B".into()));
/// ```
pub fn size(bytes: u64) -> String {
    if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} B")
    }
}

/// A rate, readable: three significant figures at most, thousands grouped
/// with a space (`39 000`), millions as `3.31 M`, small rates with one
/// decimal (`22.4`).
///
/// ```
/// use framecheck_figures::fmt::rate;
/// assert_eq!(rate(39_012.0), "39 000");
/// assert_eq!(rate(3_312_000.0), "3.31 M");
/// assert_eq!(rate(f64::NAN), "–");
/// ```
pub fn rate(per_sec: f64) -> String {
    if !per_sec.is_finite() {
        return MISSING.into();
    }
    if per_sec >= 1e6 {
        let m = per_sec / 1e6;
        return match m {
            m if m >= 100.0 => format!("{m:.0} M"),
            m if m >= 10.0 => format!("{m:.1} M"),
            m => format!("{m:.2} M"),
        };
    }
    if per_sec >= 1000.0 {
        let rounded = (per_sec / 100.0).round() as u64 * 100;
        return group_thousands(rounded);
    }
    if per_sec >= 100.0 {
        return format!("{per_sec:.0}");
    }
    format!("{per_sec:.1}")
}

/// `1234567` → `1 234 567`.
///
/// ```
/// use framecheck_figures::fmt::group_thousands;
/// assert_eq!(group_thousands(1_234_567), "1 234 567");
/// assert_eq!(group_thousands(999), "999");
/// ```
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// Bytes per second as megabytes (10^6 bytes) per second, without the unit;
/// below 1 with three decimals, or two significant figures when smaller.
///
/// ```
/// use framecheck_figures::fmt::mb_per_sec;
/// assert_eq!(mb_per_sec(10_958_000.0), "11.0");
/// assert_eq!(mb_per_sec(347.0), "0.00035");
/// ```
pub fn mb_per_sec(bytes_per_sec: f64) -> String {
    if !bytes_per_sec.is_finite() {
        return MISSING.into();
    }
    let mb = bytes_per_sec / 1e6;
    if mb >= 100.0 {
        format!("{mb:.0}")
    } else if mb >= 1.0 {
        format!("{mb:.1}")
    } else if mb >= 0.01 || mb <= 0.0 {
        format!("{mb:.3}")
    } else {
        let decimals = (-mb.log10()).ceil() as usize + 1;
        format!("{mb:.decimals$}")
    }
}

/// A duration in nanoseconds, in the unit that keeps it readable.
///
/// ```
/// use framecheck_figures::fmt::duration;
/// assert_eq!(duration(25_300.0), "25.3 µs");
/// assert_eq!(duration(44_900_000.0), "44.9 ms");
/// ```
pub fn duration(ns: f64) -> String {
    if !ns.is_finite() {
        return MISSING.into();
    }
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.1} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// A ratio already computed: `0.93×`, `12×`; below 0.1 with two
/// significant figures (`0.0094×`, `0.000017×`), so a small ratio never
/// prints as zero.
///
/// ```
/// use framecheck_figures::fmt::times;
/// assert_eq!(times(0.931), "0.93×");
/// assert_eq!(times(0.0000166), "0.000017×");
/// ```
pub fn times(r: f64) -> String {
    if !r.is_finite() || r < 0.0 {
        return MISSING.into();
    }
    if r >= 10.0 {
        format!("{r:.0}×")
    } else if r >= 0.1 {
        format!("{r:.2}×")
    } else if r == 0.0 {
        "0×".into()
    } else {
        // Two significant figures: one decimal past the first non-zero one.
        let decimals = (-r.log10()).ceil() as usize + 1;
        format!("{r:.decimals$}×")
    }
}

/// `a / b` as [`times`], or `–` when either is missing or `b` is not
/// positive.
///
/// ```
/// use framecheck_figures::fmt::ratio;
/// assert_eq!(ratio(Some(3.0), Some(3.3)), "0.91×");
/// assert_eq!(ratio(None, Some(1.0)), "–");
/// ```
pub fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => times(a / b),
        _ => MISSING.into(),
    }
}

/// Short axis labels: `1500` → `1.5k`, `3.3e6` → `3.3M`.
///
/// ```
/// use framecheck_figures::fmt::si;
/// assert_eq!(si(1500.0), "1.5k");
/// ```
pub fn si(v: f64) -> String {
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
    fn rates_keep_three_figures() {
        assert_eq!(rate(1_234_567.0), "1.23 M");
        assert_eq!(rate(13_512_000.0), "13.5 M");
        assert_eq!(rate(3_300_000.0), "3.30 M");
        assert_eq!(rate(123_456_789.0), "123 M");
        assert_eq!(rate(22.44), "22.4");
        assert_eq!(rate(460.2), "460");
        assert_eq!(rate(f64::INFINITY), MISSING);
    }

    #[test]
    fn durations_pick_their_unit() {
        assert_eq!(duration(850.0), "850 ns");
        assert_eq!(duration(2_500_000_000.0), "2.50 s");
        assert_eq!(duration(f64::NAN), MISSING);
    }

    #[test]
    fn ratios_keep_small_ones_readable() {
        assert_eq!(ratio(Some(22.0), Some(39_000.0)), "0.00056×");
        assert_eq!(times(0.0094), "0.0094×");
        assert_eq!(times(0.0864), "0.086×");
        assert_eq!(times(0.0), "0×");
        assert_eq!(times(-1.0), MISSING);
        assert_eq!(ratio(Some(1.0), Some(0.0)), MISSING);
        assert_eq!(times(16.68), "17×");
    }

    #[test]
    fn sizes_and_axis_labels() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(2048), "2 KiB");
        assert_eq!(si(10.0), "10");
        assert_eq!(si(3_300_000.0), "3.3M");
        assert_eq!(si(1e9), "1G");
        assert_eq!(mb_per_sec(500_000.0), "0.500");
        assert_eq!(mb_per_sec(250e6), "250");
    }
}
