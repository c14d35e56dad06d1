//! `tidewater bench --report DIR`: the runs' JSON lines and an `index.html` with the
//! charts a person opens (throughput per query and parallelism beside the source alone,
//! latency percentiles, throughput over time), drawn as inline SVG by plotters: the page
//! needs nothing from the network.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::BenchLine;

/// One run's throughput sampled while it ran: (seconds since start, events per second
/// over the last sample).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ThroughputSeries {
    /// `q5 p2 #0`.
    pub label: String,
    /// The samples.
    pub points: Vec<(f64, f64)>,
}

/// A run's name in the charts: `q5 p2 #0`, with the rate when paced.
pub fn run_label(line: &BenchLine) -> String {
    let rate = line
        .rate
        .map_or(String::new(), |r| format!(" @{:.0}k/s", r / 1e3));
    format!("{} p{}{} #{}", line.query, line.parallelism, rate, line.run)
}

const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

type DrawResult<T> = Result<T, Box<dyn std::error::Error>>;

/// Grouped bars: one group per run, one bar per value series.
fn bars(
    title: &str,
    unit: &str,
    groups: &[String],
    series: &[(&str, Vec<f64>)],
) -> DrawResult<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 380)).into_drawing_area();
        root.fill(&WHITE)?;
        let top = series
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .fold(0.0f64, f64::max)
            .max(1e-9)
            * 1.15;
        let n = groups.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(60)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..n as f64, 0.0..top)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_desc(unit)
            .draw()?;
        // Each group's name under its bars (the axis itself is a plain 0..n scale).
        let style =
            TextStyle::from(("sans-serif", 13).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
        chart.draw_series(groups.iter().enumerate().map(|(i, name)| {
            EmptyElement::at((i as f64 + 0.5, 0.0)) + Text::new(name.clone(), (0, 8), style.clone())
        }))?;
        let width = 0.8 / series.len().max(1) as f64;
        for (s, (name, values)) in series.iter().enumerate() {
            let color = COLORS[s % COLORS.len()];
            chart
                .draw_series(values.iter().enumerate().map(|(g, &v)| {
                    let x0 = g as f64 + 0.1 + s as f64 * width;
                    Rectangle::new([(x0, 0.0), (x0 + width * 0.9, v)], color.filled())
                }))?
                .label(*name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled())
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
        root.present()?;
    }
    Ok(svg)
}

/// Lines: throughput over time, one per run.
fn lines(title: &str, series: &[ThroughputSeries]) -> DrawResult<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 380)).into_drawing_area();
        root.fill(&WHITE)?;
        let points = series.iter().flat_map(|s| s.points.iter());
        let (x_max, y_max) = points.fold((0.0f64, 0.0f64), |(x, y), &(a, b)| (x.max(a), y.max(b)));
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..x_max.max(1e-3), 0.0..(y_max / 1e6).max(1e-6) * 1.15)?;
        chart
            .configure_mesh()
            .x_desc("seconds")
            .y_desc("M events/s")
            .draw()?;
        for (i, s) in series.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            chart
                .draw_series(LineSeries::new(
                    s.points.iter().map(|&(t, eps)| (t, eps / 1e6)),
                    color.stroke_width(2),
                ))?
                .label(s.label.clone())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 14, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
        root.present()?;
    }
    Ok(svg)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Writes `DIR/index.html` (the charts and a table of the runs) and `DIR/runs.jsonl`;
/// returns the page's path.
pub fn write_report(
    dir: &Path,
    runs: &[BenchLine],
    series: &[ThroughputSeries],
) -> DrawResult<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let groups: Vec<String> = runs.iter().map(run_label).collect();
    let throughput = bars(
        "Throughput per query and parallelism",
        "M events/s",
        &groups,
        &[
            (
                "pipeline",
                runs.iter().map(|r| r.events_per_sec / 1e6).collect(),
            ),
            (
                "source alone",
                runs.iter().map(|r| r.source_events_per_sec / 1e6).collect(),
            ),
        ],
    )?;
    let latency = bars(
        "End-to-end latency",
        "ms",
        &groups,
        &[
            ("p50", runs.iter().map(|r| r.p50_ms).collect()),
            ("p99", runs.iter().map(|r| r.p99_ms).collect()),
            ("p99.9", runs.iter().map(|r| r.p999_ms).collect()),
        ],
    )?;
    let over_time = lines("Throughput over time", series)?;
    let mut table = String::from(
        "<table><tr><th>run</th><th>events</th><th>M events/s</th><th>source M events/s</th>\
         <th>ratio</th><th>p50 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>rows</th><th>check</th>\
         <th>peak RSS MB</th></tr>",
    );
    for (run, name) in runs.iter().zip(&groups) {
        let _ = write!(
            table,
            "<tr><td>{}</td><td>{}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td>\
             <td>{:.2}</td><td>{:.2}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(name),
            run.events,
            run.events_per_sec / 1e6,
            run.source_events_per_sec / 1e6,
            run.source_ratio,
            run.p50_ms,
            run.p99_ms,
            run.p999_ms,
            run.rows,
            escape(&run.check),
            run.peak_rss_bytes
                .map_or("-".into(), |b| format!("{:.0}", b as f64 / 1e6)),
        );
    }
    table.push_str("</table>");
    let page = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Tidewater bench</title>\
         <style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}</style></head><body>\
         <h1>Tidewater bench</h1>{table}<div id=\"throughput\">{throughput}</div>\
         <div id=\"latency\">{latency}</div><div id=\"over-time\">{over_time}</div>\
         </body></html>\n"
    );
    let path = dir.join("index.html");
    std::fs::write(&path, page)?;
    let mut jsonl = String::new();
    for run in runs {
        jsonl.push_str(&serde_json::to_string(run)?);
        jsonl.push('\n');
    }
    std::fs::write(dir.join("runs.jsonl"), jsonl)?;
    Ok(path)
}
