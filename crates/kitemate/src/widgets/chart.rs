//! Widgets drawn as SVG on the server: a title, labelled axes and legends
//! where the kind has them, Indian number formatting, a colour-blind-safe
//! palette (Okabe–Ito), `<title>`/`<desc>` for screen readers. The same data
//! gives the same bytes: no clock, no randomness, fixed number formatting.

use std::fmt::Write as _;

use serde_json::Value;

use super::model::{WidgetKind, WidgetOptions};
use crate::portfolio::model::Paise;
use crate::portfolio::query::{Column, Data, Format, Measure, Source};
use crate::portfolio::text::{inr, short_inr};

pub const WIDTH: f64 = 640.0;
pub const HEIGHT: f64 = 400.0;

/// Okabe & Ito's palette, distinguishable with any colour vision.
const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
];
const OTHERS: &str = "#999999";
const NEGATIVE: &str = "#D55E00";
const INK: &str = "#1a1a1a";
const MUTED: &str = "#595959";
const FONT: &str = "DejaVu Sans, Verdana, sans-serif";
/// Slices or bars drawn before the rest become "Others".
const MAX_ITEMS: usize = 12;
const MAX_TABLE_ROWS: usize = 12;

/// What the chart draws.
#[derive(Debug)]
pub struct Chart<'a> {
    pub title: &'a str,
    pub kind: WidgetKind,
    pub source: Option<&'a Source>,
    pub data: Option<&'a Data>,
    pub options: &'a WidgetOptions,
}

/// Text safe inside SVG elements and attributes (the same escaping as HTML).
pub(super) use crate::web::html::esc;

/// At most `n` characters, with an ellipsis when cut.
fn clip(text: &str, n: usize) -> String {
    if text.chars().count() <= n {
        text.to_string()
    } else {
        let mut out: String = text.chars().take(n.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// One decimal, no `-0`: coordinates written the same way every time.
fn n(v: f64) -> String {
    let rounded = (v * 10.0).round() / 10.0;
    if rounded == 0.0 {
        "0".into()
    } else if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}")
    }
}

/// A cell as a number: paise for money, the percentage for percents.
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A cell as text, formatted for its column.
pub(super) fn cell(column: &Column, value: &Value) -> String {
    match (column.format, value) {
        (_, Value::Null) => "—".into(),
        (Format::Money, v) => number(v).map_or_else(|| "—".into(), |p| inr(Paise::new(p as i64))),
        (Format::Percent, Value::String(s)) => format!("{s}%"),
        (Format::Percent, v) => number(v).map_or_else(|| "—".into(), |p| format!("{}%", n(p))),
        (_, Value::String(s)) => s.clone(),
        (_, v) => v.to_string(),
    }
}

/// A value as an axis or bar label.
fn short(format: Format, v: f64) -> String {
    match format {
        Format::Money => short_inr(Paise::new(v as i64)),
        Format::Percent => format!("{}%", n(v)),
        _ => n(v),
    }
}

/// The column a chart measures, by what the source asks.
fn measure<'a>(source: Option<&Source>, data: &'a Data) -> Option<&'a Column> {
    let preferred: &[&str] = match source {
        Some(Source::Allocation(_) | Source::Concentration(_)) => &["percent"],
        Some(Source::Holdings(_)) => &["valuePaise", "weightPercent", "pnlPercent"],
        Some(Source::Movers(m)) if m.measure == Measure::Amount => &["pnlPaise", "pnlPercent"],
        Some(Source::Movers(_)) => &["pnlPercent"],
        Some(Source::Realized(_)) => &["totalPaise"],
        Some(Source::Xirr(_)) => &["xirrPercent"],
        Some(Source::History(_)) => &["valuePaise", "returnPercent"],
        _ => &[],
    };
    preferred
        .iter()
        .find_map(|key| data.columns.iter().find(|c| c.key == *key))
        .or_else(|| {
            data.columns
                .iter()
                .find(|c| matches!(c.format, Format::Money | Format::Percent | Format::Number))
        })
}

/// The column that names each row: the first text or date column.
fn label(data: &Data) -> Option<&Column> {
    data.columns
        .iter()
        .find(|c| matches!(c.format, Format::Text | Format::Date))
}

/// (name, value) pairs of a table, the largest `MAX_ITEMS` and "Others".
fn items(data: &Data, name: &Column, value: &Column, merge: bool) -> Vec<(String, f64)> {
    let mut items: Vec<(String, f64)> = data
        .rows
        .iter()
        .filter_map(|row| {
            let v = number(row.get(&value.key)?)?;
            let label = row.get(&name.key).map_or_else(String::new, |l| match l {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            Some((label, v))
        })
        .collect();
    if merge && items.len() > MAX_ITEMS {
        let rest: f64 = items[MAX_ITEMS - 1..].iter().map(|(_, v)| v).sum();
        items.truncate(MAX_ITEMS - 1);
        items.push(("Others".into(), rest));
    } else {
        items.truncate(MAX_ITEMS);
    }
    items
}

/// Round steps for an axis from `low` to `high`: 1, 2 or 5 times a power of ten.
fn ticks(low: f64, high: f64) -> Vec<f64> {
    let (low, high) = if high > low {
        (low, high)
    } else {
        (low - 1.0, low + 1.0)
    };
    let rough = (high - low) / 4.0;
    let power = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|s| *s >= rough)
        .unwrap_or(power * 10.0);
    // From the step at or below `low` to the first at or above `high`.
    let mut out = Vec::new();
    let mut t = (low / step).floor() * step;
    loop {
        out.push(t);
        if t >= high - step * 1e-9 || out.len() >= 12 {
            break out;
        }
        t += step;
    }
}

fn text(svg: &mut String, x: f64, y: f64, size: u32, fill: &str, anchor: &str, body: &str) {
    let _ = write!(
        svg,
        r#"<text x="{}" y="{}" font-size="{size}" fill="{fill}" text-anchor="{anchor}">{}</text>"#,
        n(x),
        n(y),
        esc(body)
    );
}

fn empty(svg: &mut String, why: &str) {
    text(svg, WIDTH / 2.0, HEIGHT / 2.0, 16, MUTED, "middle", why);
}

fn metric(svg: &mut String, data: &Data) {
    let Some(row) = data.rows.first() else {
        return empty(svg, "No figures yet");
    };
    let figures: Vec<&Column> = data
        .columns
        .iter()
        .filter(|c| c.format != Format::Text && c.format != Format::Date)
        .take(8)
        .collect();
    if let Some(name) = label(data)
        .and_then(|c| row.get(&c.key))
        .and_then(Value::as_str)
    {
        text(svg, 24.0, 78.0, 15, MUTED, "start", name);
    }
    if figures.is_empty() {
        return empty(svg, "Amounts are hidden");
    }
    let columns = if figures.len() > 2 { 2.0 } else { 1.0 };
    for (i, column) in figures.iter().enumerate() {
        let (col, line) = ((i % 2) as f64, (i / 2) as f64);
        let (x, y) = if columns > 1.0 {
            (24.0 + col * WIDTH / 2.0, 120.0 + line * 70.0)
        } else {
            (24.0, 130.0 + i as f64 * 90.0)
        };
        let value = row.get(&column.key).unwrap_or(&Value::Null);
        text(svg, x, y, 13, MUTED, "start", &column.label);
        let size = if columns > 1.0 { 26 } else { 36 };
        let negative = number(value).is_some_and(|v| v < 0.0) && column.format != Format::Number;
        let fill = if negative { NEGATIVE } else { INK };
        text(
            svg,
            x,
            y + f64::from(size) + 4.0,
            size,
            fill,
            "start",
            &cell(column, value),
        );
    }
}

fn table(svg: &mut String, data: &Data) {
    if data.rows.is_empty() {
        return empty(svg, "Nothing to list yet");
    }
    let columns: Vec<&Column> = data.columns.iter().take(5).collect();
    let width = (WIDTH - 48.0) / columns.len() as f64;
    let cut = (width / 8.0) as usize;
    for (i, column) in columns.iter().enumerate() {
        let x = 24.0 + i as f64 * width;
        text(svg, x, 76.0, 13, MUTED, "start", &clip(&column.label, cut));
    }
    let _ = write!(
        svg,
        r#"<line x1="24" y1="84" x2="{}" y2="84" stroke="{MUTED}" stroke-width="1"/>"#,
        n(WIDTH - 24.0)
    );
    for (r, row) in data.rows.iter().take(MAX_TABLE_ROWS).enumerate() {
        let y = 104.0 + r as f64 * 22.0;
        for (i, column) in columns.iter().enumerate() {
            let x = 24.0 + i as f64 * width;
            let value = row.get(&column.key).unwrap_or(&Value::Null);
            text(
                svg,
                x,
                y,
                13,
                INK,
                "start",
                &clip(&cell(column, value), cut),
            );
        }
    }
    let more = data
        .total_rows
        .unwrap_or(data.rows.len())
        .saturating_sub(MAX_TABLE_ROWS);
    if more > 0 {
        text(
            svg,
            24.0,
            HEIGHT - 14.0,
            12,
            MUTED,
            "start",
            &format!("… and {more} more"),
        );
    }
}

fn pie(svg: &mut String, data: &Data, value: &Column, name: &Column, donut: bool, legend: bool) {
    let slices: Vec<(String, f64)> = items(data, name, value, true)
        .into_iter()
        .filter(|(_, v)| *v > 0.0)
        .collect();
    let total: f64 = slices.iter().map(|(_, v)| v).sum();
    if slices.is_empty() || total <= 0.0 {
        return empty(svg, "Nothing to divide yet");
    }
    let (cx, cy, r) = (190.0, 228.0, 140.0);
    let inner = if donut { r * 0.58 } else { 0.0 };
    let mut angle = -std::f64::consts::FRAC_PI_2;
    let count = slices.len();
    for (i, (slice_name, v)) in slices.iter().enumerate() {
        let colour = if slice_name == "Others" {
            OTHERS
        } else {
            PALETTE[i % PALETTE.len()]
        };
        let share = v / total;
        let sweep = share * std::f64::consts::TAU;
        let title = format!("{slice_name}: {}", short(value.format, *v));
        if count == 1 {
            let _ = write!(
                svg,
                r#"<circle cx="{}" cy="{}" r="{}" fill="{colour}"><title>{}</title></circle>"#,
                n(cx),
                n(cy),
                n(r),
                esc(&title)
            );
        } else {
            let end = angle + sweep;
            let large = u8::from(sweep > std::f64::consts::PI);
            let (x0, y0) = (cx + r * angle.cos(), cy + r * angle.sin());
            let (x1, y1) = (cx + r * end.cos(), cy + r * end.sin());
            let _ = write!(
                svg,
                r##"<path d="M{} {} L{} {} A{} {} 0 {large} 1 {} {} Z" fill="{colour}" stroke="#ffffff" stroke-width="1.5"><title>{}</title></path>"##,
                n(cx),
                n(cy),
                n(x0),
                n(y0),
                n(r),
                n(r),
                n(x1),
                n(y1),
                esc(&title)
            );
            angle = end;
        }
        if legend {
            let y = 86.0 + i as f64 * 24.0;
            let _ = write!(
                svg,
                r#"<rect x="372" y="{}" width="14" height="14" fill="{colour}"/>"#,
                n(y - 11.0)
            );
            let line = format!(
                "{} — {}",
                clip(slice_name, 22),
                if value.format == Format::Percent {
                    format!("{}%", n(*v))
                } else {
                    format!("{}% · {}", n(share * 100.0), short(value.format, *v))
                }
            );
            text(svg, 394.0, y, 13, INK, "start", &line);
        }
    }
    if donut {
        let _ = write!(
            svg,
            r##"<circle cx="{}" cy="{}" r="{}" fill="#ffffff"/>"##,
            n(cx),
            n(cy),
            n(inner)
        );
        if value.format == Format::Money {
            text(
                svg,
                cx,
                cy + 6.0,
                16,
                INK,
                "middle",
                &short(Format::Money, total),
            );
        }
    }
}

fn bar(svg: &mut String, data: &Data, value: &Column, name: &Column) {
    let bars = items(data, name, value, false);
    if bars.is_empty() {
        return empty(svg, "Nothing to compare yet");
    }
    let low = bars.iter().map(|(_, v)| *v).fold(0.0, f64::min);
    let high = bars.iter().map(|(_, v)| *v).fold(0.0, f64::max);
    let steps = ticks(low, high);
    let (first, last) = (steps[0], steps[steps.len() - 1]);
    let (left, right, top, bottom) = (150.0, WIDTH - 70.0, 70.0, HEIGHT - 50.0);
    let x = |v: f64| left + (v - first) / (last - first) * (right - left);
    let band = (bottom - top) / bars.len() as f64;
    for t in &steps {
        let _ = write!(
            svg,
            r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#e0e0e0" stroke-width="1"/>"##,
            n(x(*t)),
            n(top),
            n(x(*t)),
            n(bottom)
        );
        text(
            svg,
            x(*t),
            bottom + 18.0,
            11,
            MUTED,
            "middle",
            &short(value.format, *t),
        );
    }
    text(
        svg,
        (left + right) / 2.0,
        HEIGHT - 10.0,
        12,
        MUTED,
        "middle",
        &value.label,
    );
    for (i, (bar_name, v)) in bars.iter().enumerate() {
        let y = top + i as f64 * band + band * 0.15;
        let h = band * 0.7;
        let (x0, x1) = (x(v.min(0.0)), x(v.max(0.0)));
        let colour = if *v < 0.0 { NEGATIVE } else { PALETTE[0] };
        let _ = write!(
            svg,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{colour}"><title>{}: {}</title></rect>"#,
            n(x0),
            n(y),
            n((x1 - x0).max(0.5)),
            n(h),
            esc(bar_name),
            esc(&short(value.format, *v))
        );
        text(
            svg,
            left - 8.0,
            y + h / 2.0 + 4.0,
            12,
            INK,
            "end",
            &clip(bar_name, 18),
        );
        let (at, anchor) = if *v < 0.0 {
            (x0 - 4.0, "end")
        } else {
            (x1 + 4.0, "start")
        };
        text(
            svg,
            at,
            y + h / 2.0 + 4.0,
            11,
            INK,
            anchor,
            &short(value.format, *v),
        );
    }
    let _ = write!(
        svg,
        r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{INK}" stroke-width="1"/>"#,
        n(x(0.0)),
        n(top),
        n(x(0.0)),
        n(bottom)
    );
}

fn line(svg: &mut String, data: &Data, value: &Column, day: &Column) {
    let points: Vec<(String, f64)> = data
        .rows
        .iter()
        .filter_map(|row| {
            Some((
                row.get(&day.key)?.as_str()?.to_string(),
                number(row.get(&value.key)?)?,
            ))
        })
        .collect();
    if points.len() < 2 {
        return empty(svg, "Not enough history yet: it fills day by day");
    }
    let low = points.iter().map(|(_, v)| *v).fold(f64::INFINITY, f64::min);
    let high = points
        .iter()
        .map(|(_, v)| *v)
        .fold(f64::NEG_INFINITY, f64::max);
    let steps = ticks(low, high);
    let (first, last) = (steps[0], steps[steps.len() - 1]);
    let (left, right, top, bottom) = (80.0, WIDTH - 24.0, 70.0, HEIGHT - 56.0);
    let y = |v: f64| bottom - (v - first) / (last - first) * (bottom - top);
    let x = |i: usize| left + i as f64 / (points.len() - 1) as f64 * (right - left);
    for t in &steps {
        let _ = write!(
            svg,
            r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#e0e0e0" stroke-width="1"/>"##,
            n(left),
            n(y(*t)),
            n(right),
            n(y(*t))
        );
        text(
            svg,
            left - 6.0,
            y(*t) + 4.0,
            11,
            MUTED,
            "end",
            &short(value.format, *t),
        );
    }
    let mut path = String::new();
    for (i, (_, v)) in points.iter().enumerate() {
        let _ = write!(
            path,
            "{}{} {} ",
            if i == 0 { "M" } else { "L" },
            n(x(i)),
            n(y(*v))
        );
    }
    let _ = write!(
        svg,
        r#"<path d="{}" fill="none" stroke="{}" stroke-width="2.5" stroke-linejoin="round"/>"#,
        path.trim_end(),
        PALETTE[0]
    );
    let last = points.len() - 1;
    for (i, anchor) in [(0, "start"), (last / 2, "middle"), (last, "end")] {
        text(svg, x(i), bottom + 18.0, 11, MUTED, anchor, &points[i].0);
    }
    text(svg, 24.0, top - 12.0, 12, MUTED, "start", &value.label);
    text(
        svg,
        (left + right) / 2.0,
        HEIGHT - 12.0,
        12,
        MUTED,
        "middle",
        &day.label,
    );
}

/// A note's markdown as wrapped lines of plain text (emphasis marks dropped).
fn note(svg: &mut String, markdown: &str) {
    let mut y = 82.0;
    for paragraph in markdown.lines() {
        let plain: String = paragraph.replace("**", "").replace(['*', '`', '#'], "");
        let mut line = String::new();
        for word in plain.split_whitespace() {
            if line.chars().count() + word.chars().count() > 70 {
                text(svg, 24.0, y, 15, INK, "start", &line);
                y += 22.0;
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        if !line.is_empty() {
            text(svg, 24.0, y, 15, INK, "start", &line);
        }
        y += 26.0;
        if y > HEIGHT - 20.0 {
            break;
        }
    }
}

/// What a screen reader hears: the kind and the first figures.
fn describe(chart: &Chart<'_>) -> String {
    let mut out = format!("A {} widget", chart.kind.as_str());
    if let Some(data) = chart.data
        && let (Some(name), Some(value)) = (label(data), measure(chart.source, data))
    {
        let parts: Vec<String> = data
            .rows
            .iter()
            .take(6)
            .filter_map(|row| {
                Some(format!(
                    "{} {}",
                    row.get(&name.key)?.as_str()?,
                    cell(value, row.get(&value.key)?)
                ))
            })
            .collect();
        if !parts.is_empty() {
            let _ = write!(out, ": {}", parts.join(", "));
        }
    }
    out
}

/// The widget as an SVG document.
pub fn svg(chart: &Chart<'_>) -> String {
    let mut svg = String::with_capacity(8 * 1024);
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-labelledby="chart-title chart-desc" font-family="{FONT}"><title id="chart-title">{}</title><desc id="chart-desc">{}</desc><rect width="{w}" height="{h}" fill="#ffffff"/>"##,
        esc(chart.title),
        esc(&describe(chart)),
        w = n(WIDTH),
        h = n(HEIGHT),
    );
    text(
        &mut svg,
        24.0,
        40.0,
        20,
        INK,
        "start",
        &clip(chart.title, 48),
    );
    let legend = chart.options.show_legend.unwrap_or(true);
    match (chart.kind, chart.data) {
        (WidgetKind::Note, _) => note(&mut svg, chart.options.text.as_deref().unwrap_or_default()),
        (_, None) => empty(&mut svg, "No data"),
        (WidgetKind::Metric, Some(data)) => metric(&mut svg, data),
        (WidgetKind::Table, Some(data)) => table(&mut svg, data),
        (kind, Some(data)) => match (measure(chart.source, data), label(data)) {
            (Some(value), Some(name)) => match kind {
                WidgetKind::Pie => pie(&mut svg, data, value, name, false, legend),
                WidgetKind::Donut => pie(&mut svg, data, value, name, true, legend),
                WidgetKind::Line => line(&mut svg, data, value, name),
                _ => bar(&mut svg, data, value, name),
            },
            _ => empty(&mut svg, "Amounts are hidden"),
        },
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portfolio::model::AllocationBy;
    use crate::portfolio::query::{
        AllocationSource, DataKind, HistorySource, MoversSource, Range, SummarySource,
    };
    use serde_json::json;

    fn allocation() -> Data {
        let mut data = Data::new(
            DataKind::Table,
            &[
                ("name", "Sector", Format::Text),
                ("valuePaise", "Value", Format::Money),
                ("percent", "Share", Format::Percent),
            ],
        );
        for (name, value, percent) in [
            ("Information Technology", 456000000, "45.6"),
            ("Financial Services", 275000000, "27.5"),
            ("Fast Moving Consumer Goods", 120000000, "12"),
            ("Automobile & Auto Components", 89000000, "8.9"),
            ("Others <& \"quoted\">", 60000000, "6"),
        ] {
            data.push(vec![json!(name), json!(value), json!(percent)]);
        }
        data
    }

    fn movers() -> Data {
        let mut data = Data::new(
            DataKind::Table,
            &[
                ("symbol", "Symbol", Format::Text),
                ("pnlPaise", "P&L", Format::Money),
                ("pnlPercent", "P&L %", Format::Percent),
            ],
        );
        for (symbol, pnl, percent) in [
            ("TRENT", 18500000, "61.2"),
            ("BEL", 9250000, "38.4"),
            ("INFY", 1230000, "4.1"),
            ("WIPRO", -2340000, "-9.8"),
            ("ASIANPAINT", -6100000, "-21.3"),
        ] {
            data.push(vec![json!(symbol), json!(pnl), json!(percent)]);
        }
        data
    }

    fn history() -> Data {
        let mut data = Data::new(
            DataKind::Series,
            &[
                ("day", "Day", Format::Date),
                ("valuePaise", "Value", Format::Money),
                ("returnPercent", "Return", Format::Percent),
            ],
        );
        let mut value: i64 = 100000000;
        for day in 1..=30 {
            // A deterministic wobble upwards.
            value += (day * 37 % 11 - 4) * 1500000;
            data.push(vec![
                json!(format!("2026-10-{day:02}")),
                json!(value),
                json!("1.5"),
            ]);
        }
        data
    }

    fn figures() -> Data {
        Data::new(
            DataKind::Figure,
            &[
                ("valuePaise", "Value", Format::Money),
                ("unrealizedPaise", "Unrealized", Format::Money),
                ("unrealizedPercent", "Unrealized %", Format::Percent),
                ("holdings", "Holdings", Format::Number),
            ],
        )
        .row(vec![
            json!(1234567890),
            json!(-45678900),
            json!("-3.57"),
            json!(42),
        ])
    }

    /// A name, and what a chart of it draws.
    type Case<'a> = (
        &'a str,
        WidgetKind,
        Option<&'a Source>,
        Option<&'a Data>,
        &'a WidgetOptions,
    );

    /// Each kind drawn from fixed data, against the committed drawing
    /// (`UPDATE_SNAPSHOTS=1` rewrites them after a deliberate change).
    #[test]
    fn every_kind_draws_as_committed() {
        let options = WidgetOptions::default();
        let note = WidgetOptions {
            text: Some("**Plan**: add to *index funds* on every 5% fall.\nReview in March.".into()),
            show_legend: None,
        };
        let summary = Source::Summary(SummarySource { figures: vec![] });
        let by_sector = Source::Allocation(AllocationSource {
            by: AllocationBy::Sector,
            top: None,
        });
        let gainers = Source::Movers(MoversSource {
            direction: crate::portfolio::query::Direction::Gainers,
            measure: Measure::Percent,
            n: 5,
        });
        let range = Source::History(HistorySource {
            range: Range::OneMonth,
        });
        let (a, m, h, f) = (allocation(), movers(), history(), figures());
        let hidden = a.clone().without_amounts();
        let cases: [Case<'_>; 8] = [
            (
                "metric",
                WidgetKind::Metric,
                Some(&summary),
                Some(&f),
                &options,
            ),
            (
                "table",
                WidgetKind::Table,
                Some(&gainers),
                Some(&m),
                &options,
            ),
            ("pie", WidgetKind::Pie, Some(&by_sector), Some(&a), &options),
            (
                "donut",
                WidgetKind::Donut,
                Some(&by_sector),
                Some(&a),
                &options,
            ),
            ("bar", WidgetKind::Bar, Some(&gainers), Some(&m), &options),
            ("line", WidgetKind::Line, Some(&range), Some(&h), &options),
            ("note", WidgetKind::Note, None, None, &note),
            (
                "donut-hidden",
                WidgetKind::Donut,
                Some(&by_sector),
                Some(&hidden),
                &options,
            ),
        ];
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/widgets/snapshots");
        for (name, kind, source, data, options) in cases {
            let title = format!("{name} <chart> & co");
            let drawn = svg(&Chart {
                title: &title,
                kind,
                source,
                data,
                options,
            });
            assert_eq!(
                drawn,
                svg(&Chart {
                    title: &title,
                    kind,
                    source,
                    data,
                    options
                }),
                "{name}: same data, same bytes"
            );
            assert!(
                drawn.contains("<title id=\"chart-title\">")
                    && drawn.contains("&lt;chart&gt; &amp; co"),
                "{name}"
            );
            assert_eq!(
                drawn.matches("<text").count(),
                drawn.matches("</text>").count(),
                "{name}"
            );
            assert!(
                !drawn.contains("NaN") && !drawn.contains("inf"),
                "{name}: {drawn}"
            );
            let path = dir.join(format!("{name}.svg"));
            if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &drawn).unwrap();
            }
            let committed = std::fs::read_to_string(&path).unwrap_or_else(|_| {
                panic!("{} is missing: run with UPDATE_SNAPSHOTS=1", path.display())
            });
            assert_eq!(
                drawn, committed,
                "{name} changed: look at it, then UPDATE_SNAPSHOTS=1"
            );
        }
        // Hidden amounts draw no rupee figure at all.
        let hidden = std::fs::read_to_string(dir.join("donut-hidden.svg")).unwrap();
        assert!(!hidden.contains('₹'), "{hidden}");
    }

    #[test]
    fn indian_axes_and_round_ticks() {
        assert_eq!(ticks(0.0, 97.0), vec![0.0, 50.0, 100.0]);
        assert_eq!(short(Format::Money, 15_000_000.0), "₹1.5L");
        assert_eq!(short(Format::Percent, -9.8), "-9.8%");
        assert_eq!(n(-0.04), "0");
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
