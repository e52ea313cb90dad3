//! How long a widget takes to draw: the SVG of a 50-slice allocation and
//! its 1200×630 PNG card, the median and slowest of many draws.
//!
//! `cargo run --release -p kitemate --example render_bench`

use std::time::{Duration, Instant};

use kitemate::portfolio::model::AllocationBy;
use kitemate::portfolio::query::{AllocationSource, Data, DataKind, Format, Source};
use kitemate::widgets::chart::{Chart, svg};
use kitemate::widgets::model::{WidgetKind, WidgetOptions};
use serde_json::json;

fn allocation(slices: usize) -> Data {
    let mut data = Data::new(
        DataKind::Table,
        &[
            ("name", "Stock", Format::Text),
            ("valuePaise", "Value", Format::Money),
            ("percent", "Share", Format::Percent),
        ],
    );
    // Shares falling off like a real portfolio's: 1/k of the whole, normalised.
    let weights: Vec<f64> = (1..=slices).map(|k| 1.0 / k as f64).collect();
    let total: f64 = weights.iter().sum();
    for (i, w) in weights.iter().enumerate() {
        let share = w / total;
        data.push(vec![
            json!(format!("SYMBOL{i}")),
            json!((share * 5e9) as i64),
            json!(format!("{:.2}", share * 100.0)),
        ]);
    }
    data
}

fn time(runs: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    let mut took: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    took.sort();
    (took[runs / 2], took[runs - 1])
}

#[expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]
fn main() {
    let data = allocation(50);
    let source = Source::Allocation(AllocationSource {
        by: AllocationBy::Stock,
        top: None,
    });
    let options = WidgetOptions::default();
    for kind in [WidgetKind::Donut, WidgetKind::Bar, WidgetKind::Table] {
        let chart = Chart {
            title: "Allocation by stock",
            kind,
            source: Some(&source),
            data: Some(&data),
            options: &options,
        };
        let mut bytes = 0;
        let (median, slowest) = time(5_000, || bytes = svg(&chart).len());
        println!(
            "SVG {:>5} of 50 slices: median {:>6.1} µs, slowest {:>6.1} µs ({bytes} bytes)",
            kind.as_str(),
            median.as_secs_f64() * 1e6,
            slowest.as_secs_f64() * 1e6
        );
        let drawing = svg(&chart);
        let mut png = 0;
        let (median, slowest) = time(50, || {
            png = kitemate::widgets::card::png(&drawing).map_or(0, |p| p.len());
        });
        println!(
            "PNG {:>5} card 1200x630:  median {:>6.1} ms, slowest {:>6.1} ms ({png} bytes)",
            kind.as_str(),
            median.as_secs_f64() * 1e3,
            slowest.as_secs_f64() * 1e3
        );
    }
}
