//! The report's charts, drawn with plotters' SVG backend into strings that
//! the page inlines (no scripts, no fonts to fetch: text is SVG `<text>`).
//! Labels come from the evidence, so they are cut short and stripped of
//! control characters here; plotters escapes XML metacharacters itself.

use crate::error::CliError;
use chrono::{DateTime, Datelike};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const FONT: &str = "sans-serif";
const WIDTH: u32 = 900;
const ROW_HEIGHT: u32 = 22;
/// Chart colours (colour-blind safe: blue, orange, vermilion).
pub const BLUE: RGBColor = RGBColor(0x00, 0x72, 0xb2);
pub const ORANGE: RGBColor = RGBColor(0xe6, 0x9f, 0x00);
pub const VERMILION: RGBColor = RGBColor(0xd5, 0x5e, 0x00);
const GREY: RGBColor = RGBColor(0x55, 0x55, 0x55);

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

fn err(e: impl std::fmt::Display) -> CliError {
    CliError::Message(format!("cannot draw a chart: {e}"))
}

/// At most `max` characters of `s`, control characters shown as `?`.
pub fn chart_label(s: &str, max: usize) -> String {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if clean.chars().count() <= max {
        clean
    } else {
        let mut cut: String = clean.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// Labels for a chart's bars, each at most `max` characters, never two the
/// same for different names: where cutting the end makes two alike
/// (`Contoso Ltd - Confidential…` twice), those keep their start and end
/// around a `…`; where even that collides, a number follows.
pub fn chart_labels(names: &[String], max: usize) -> Vec<String> {
    let mut out: Vec<String> = names.iter().map(|n| chart_label(n, max)).collect();
    let clashes = |out: &[String], i: usize| {
        (0..out.len()).any(|j| j != i && out[j] == out[i] && names[j] != names[i])
    };
    let clashing: Vec<usize> = (0..out.len()).filter(|&i| clashes(&out, i)).collect();
    for &i in &clashing {
        let clean = chart_label(&names[i], usize::MAX);
        let chars: Vec<char> = clean.chars().collect();
        let head = max.saturating_sub(1) / 2;
        let tail = max.saturating_sub(1) - head;
        let (a, b) = (&chars[..head], &chars[chars.len().saturating_sub(tail)..]);
        out[i] = format!(
            "{}…{}",
            a.iter().collect::<String>(),
            b.iter().collect::<String>()
        );
    }
    for i in 0..out.len() {
        let mut n = 1;
        while clashes(&out, i) {
            n += 1;
            out[i] = format!("{} ({n})", chart_label(&out[i], max.saturating_sub(4)));
        }
    }
    out
}

/// Draws on a fresh SVG canvas and returns the markup.
fn svg(height: u32, draw: impl FnOnce(&Area) -> Result<(), CliError>) -> Result<String, CliError> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        draw(&root)?;
        root.present().map_err(err)?;
    }
    Ok(out)
}

fn empty(area: &Area, caption: &str, message: &str) -> Result<(), CliError> {
    area.draw(&Text::new(
        caption.to_string(),
        (10, 10),
        (FONT, 16).into_font().color(&BLACK),
    ))
    .map_err(err)?;
    area.draw(&Text::new(
        message.to_string(),
        (10, 40),
        (FONT, 13).into_font().color(&GREY),
    ))
    .map_err(err)
}

/// Horizontal bars, one per row, the first row at the top, each with its value.
fn draw_hbars(
    area: &Area,
    caption: &str,
    rows: &[(String, u64)],
    color: RGBColor,
    label_width: u32,
) -> Result<(), CliError> {
    if rows.is_empty() {
        return empty(area, caption, "nothing to show");
    }
    let n = rows.len();
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    // Room at the right for the value printed after the longest bar.
    let x_max = max + (max / 8).max(1);
    let mut chart = ChartBuilder::on(area)
        .caption(caption, (FONT, 16))
        .margin(8)
        .x_label_area_size(24)
        .y_label_area_size(label_width)
        .build_cartesian_2d(0u64..x_max, (0usize..n).into_segmented())
        .map_err(err)?;
    let top_first = |i: usize| n - 1 - i;
    chart
        .configure_mesh()
        .disable_y_mesh()
        // A label on every bar (plotters thins labels out beyond ten).
        .y_labels(n + 1)
        .x_labels(6)
        .x_label_formatter(&|v| v.to_string())
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) if *i < n => rows[top_first(*i)].0.clone(),
            _ => String::new(),
        })
        .label_style((FONT, 12))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(
            Histogram::horizontal(&chart)
                .style(color.filled())
                .margin(3)
                .data(rows.iter().enumerate().map(|(i, r)| (top_first(i), r.1))),
        )
        .map_err(err)?;
    let value_style =
        TextStyle::from((FONT, 11).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    chart
        .draw_series(rows.iter().enumerate().map(|(i, r)| {
            Text::new(
                format!(" {}", r.1),
                (r.1, SegmentValue::CenterOf(top_first(i))),
                value_style.clone(),
            )
        }))
        .map_err(err)?;
    Ok(())
}

fn bars_height(rows: usize) -> u32 {
    70 + ROW_HEIGHT * rows.max(1) as u32
}

/// Issuers by the number of templates they issued and of profiles holding
/// anything they issued: two panels side by side, one row per issuer.
pub fn issuers(rows: &[(String, u64, u64)]) -> Result<String, CliError> {
    let templates: Vec<(String, u64)> = rows.iter().map(|r| (r.0.clone(), r.1)).collect();
    let profiles: Vec<(String, u64)> = rows.iter().map(|r| (r.0.clone(), r.2)).collect();
    svg(bars_height(rows.len()), |root| {
        let (left, right) = root.split_horizontally(WIDTH * 58 / 100);
        draw_hbars(&left, "Templates issued", &templates, BLUE, 250)?;
        let names_hidden: Vec<(String, u64)> =
            profiles.iter().map(|r| (String::new(), r.1)).collect();
        draw_hbars(
            &right,
            "Profiles holding its records",
            &names_hidden,
            ORANGE,
            8,
        )
    })
}

/// One horizontal bar per row.
pub fn bars(caption: &str, rows: &[(String, u64)], color: RGBColor) -> Result<String, CliError> {
    svg(bars_height(rows.len()), |root| {
        draw_hbars(root, caption, rows, color, 300)
    })
}

/// Dates outside these years are not drawn (sentinel or forged dates would
/// stretch the axis over centuries); the caption says how many.
const FIRST_YEAR: i32 = 1990;
const LAST_YEAR: i32 = 2100;

/// What the timeline drew.
pub struct Timeline {
    pub svg: String,
    /// Dates outside 1990–2100, not drawn.
    pub outside: usize,
    /// `month`, `quarter` or `year`.
    pub bin: &'static str,
}

fn month_index(secs: i64) -> Option<i32> {
    let t = DateTime::from_timestamp(secs, 0)?;
    (FIRST_YEAR..=LAST_YEAR)
        .contains(&t.year())
        .then(|| t.year() * 12 + t.month0() as i32)
}

/// Template revisions per month (or quarter, or year) of their `issued`
/// date and of their content-expiry date, with a line at `as_of`.
pub fn timeline(dates: &[(Option<i64>, Option<i64>)], as_of: i64) -> Result<Timeline, CliError> {
    let mut outside = 0;
    let mut months = |v: Option<i64>| -> Option<i32> {
        let m = v.map(month_index)?;
        if m.is_none() {
            outside += 1;
        }
        m
    };
    let points: Vec<(Option<i32>, Option<i32>)> = dates
        .iter()
        .map(|(i, e)| (months(*i), months(*e)))
        .collect();
    let all = points.iter().flat_map(|(i, e)| [*i, *e]).flatten();
    let (lo, hi) = all.fold((i32::MAX, i32::MIN), |(lo, hi), m| (lo.min(m), hi.max(m)));
    if lo > hi {
        let svg = svg(120, |root| {
            empty(
                root,
                "Template revisions over time",
                "no template dates in the index",
            )
        })?;
        return Ok(Timeline {
            svg,
            outside,
            bin: "month",
        });
    }
    let as_of_m = month_index(as_of);
    let (lo, hi) = match as_of_m {
        Some(a) => (lo.min(a), hi.max(a)),
        None => (lo, hi),
    };
    let (bin, bin_name) = match hi - lo + 1 {
        0..=36 => (1, "month"),
        37..=120 => (3, "quarter"),
        _ => (12, "year"),
    };
    let lo = lo - lo.rem_euclid(bin);
    let nbins = ((hi - lo) / bin + 1) as usize;
    let (mut issued, mut expires) = (vec![0u64; nbins], vec![0u64; nbins]);
    for (i, e) in &points {
        if let Some(i) = i {
            issued[((i - lo) / bin) as usize] += 1;
        }
        if let Some(e) = e {
            expires[((e - lo) / bin) as usize] += 1;
        }
    }
    let label = |k: usize| {
        let m = lo + k as i32 * bin;
        let (y, m0) = (m.div_euclid(12), m.rem_euclid(12));
        match bin {
            1 => format!("{y}-{:02}", m0 + 1),
            3 => format!("{y} Q{}", m0 / 3 + 1),
            _ => y.to_string(),
        }
    };
    let y_max = issued.iter().chain(&expires).copied().max().unwrap_or(1);
    let top = y_max + y_max / 3 + 2;
    let svg = svg(340, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                format!("Template revisions by {bin_name} issued and by {bin_name} their content expires"),
                (FONT, 16),
            )
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(44)
            // Headroom above the tallest bar for the legend.
            .build_cartesian_2d(-0.5f64..nbins as f64 - 0.5, 0u64..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(nbins.min(14))
            .x_label_formatter(&|x| {
                let k = x.round();
                if (x - k).abs() < 1e-6 && k >= 0.0 && (k as usize) < nbins {
                    label(k as usize)
                } else {
                    String::new()
                }
            })
            .y_labels(6)
            .y_desc("revisions")
            .label_style((FONT, 12))
            .draw()
            .map_err(err)?;
        for (series, color, offset, name) in [
            (&issued, BLUE, -0.42, "issued"),
            (&expires, VERMILION, 0.02, "content expires"),
        ] {
            chart
                .draw_series(
                    series
                        .iter()
                        .enumerate()
                        .filter(|(_, &n)| n > 0)
                        .map(|(k, &n)| {
                            let x = k as f64 + offset;
                            Rectangle::new([(x, 0), (x + 0.4, n)], color.filled())
                        }),
                )
                .map_err(err)?
                .label(name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled())
                });
        }
        if let (Some(a), Some(t)) = (as_of_m, DateTime::from_timestamp(as_of, 0)) {
            let within = f64::from(t.day0()) / 31.0;
            let x = (f64::from(a - lo) + within) / f64::from(bin) - 0.5;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x, 0), (x, top)],
                    GREY.stroke_width(2),
                )))
                .map_err(err)?
                .label("as of")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 12, y)], GREY.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(GREY)
            .label_font((FONT, 12))
            .draw()
            .map_err(err)
    })?;
    Ok(Timeline {
        svg,
        outside,
        bin: bin_name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_cut_and_cleaned() {
        assert_eq!(chart_label("a\u{1}b", 10), "a?b");
        assert_eq!(chart_label("abcdefgh", 5), "abcd…");
        assert_eq!(chart_label("abcde", 5), "abcde");
        let names = [
            "Contoso Ltd - Confidential (Finance)".to_string(),
            "Contoso Ltd - Confidential (Legal)".to_string(),
            "Short".to_string(),
            "Short".to_string(),
        ];
        assert_eq!(
            chart_labels(&names, 20),
            [
                "Contoso L… (Finance)",
                "Contoso L…al (Legal)",
                "Short",
                "Short"
            ]
        );
    }

    #[test]
    fn bars_escape_their_labels() {
        let svg = bars("Files", &[("<script>x</script>".into(), 3)], BLUE).unwrap();
        assert!(svg.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(!svg.contains("<script"));
    }

    #[test]
    fn every_bar_has_its_label() {
        let rows: Vec<(String, u64)> = (0..18).map(|i| (format!("profile-{i:02}"), i)).collect();
        let svg = bars("Files", &rows, BLUE).unwrap();
        for (name, _) in &rows {
            assert_eq!(svg.matches(&format!("{name}\n")).count(), 1, "{name}");
        }
    }

    #[test]
    fn timeline_bins_by_month_and_skips_absurd_dates() {
        // 2025-01-15 and 2025-03-10 issued; one expiry in 2025-03; one in year 9999.
        let d = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().timestamp();
        let t = timeline(
            &[
                (
                    Some(d("2025-01-15T00:00:00Z")),
                    Some(d("2025-03-31T00:00:00Z")),
                ),
                (
                    Some(d("2025-03-10T00:00:00Z")),
                    Some(d("9999-01-01T00:00:00Z")),
                ),
            ],
            d("2025-04-02T00:00:00Z"),
        )
        .unwrap();
        assert_eq!((t.outside, t.bin), (1, "month"));
        assert!(t.svg.contains("2025-01") && t.svg.contains("2025-04"));
    }
}
