//! Learning curves of a [`TrainReport`]: a CSV table and an SVG plot of `E_in` and `E_val`
//! per epoch, written without any plotting dependency.

use std::fmt::Write as _;
use std::path::Path;

use crate::engine::TrainReport;
use crate::error::Result;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 440.0;
const LEFT: f64 = 84.0;
const RIGHT: f64 = WIDTH - 24.0;
const TOP: f64 = 48.0;
const BOTTOM: f64 = HEIGHT - 56.0;
const TRAIN_COLOR: &str = "#1f77b4";
const VAL_COLOR: &str = "#d62728";

/// Replaces the file atomically (see [`crate::atomic_file`]).
fn write_file(path: &Path, text: &str) -> Result<()> {
    crate::atomic_file::write_bytes_atomic(path, text.as_bytes())
}

/// `&`, `<`, `>` and `"` escaped for SVG text.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A short label for a tick value.
fn tick_label(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) {
        let s = format!("{v:.0e}");
        s.replace("e-0", "e-").replace("e0", "e")
    } else {
        let s = format!("{v:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    }
}

/// A "nice" step (1, 2 or 5 times a power of ten) for about `target` intervals over `span`.
fn nice_step(span: f64, target: f64) -> f64 {
    let raw = span / target;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let m = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

/// The y axis: a map from values to pixels, and the ticks to draw.
struct Axis {
    log: bool,
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Axis {
    fn new(values: &[f64]) -> Axis {
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if values.is_empty() {
            return Axis {
                log: false,
                lo: 0.0,
                hi: 1.0,
                ticks: vec![0.0, 0.5, 1.0],
            };
        }
        if min > 0.0 && max / min >= 10.0 {
            let lo = min.log10().floor();
            let hi = max.log10().ceil();
            let decades = (hi - lo) as i32;
            let every = (decades / 8 + 1).max(1);
            let mut ticks = Vec::new();
            for k in (lo as i32..=hi as i32).step_by(every as usize) {
                let base = 10f64.powi(k);
                ticks.push(base);
                if decades <= 3 && k < hi as i32 {
                    ticks.push(2.0 * base);
                    ticks.push(5.0 * base);
                }
            }
            return Axis {
                log: true,
                lo,
                hi,
                ticks,
            };
        }
        let (mut a, mut b) = (min, max);
        if min >= 0.0 && min < 0.25 * max {
            a = 0.0; // start at zero when the data nearly reach it
        }
        if (b - a).abs() < f64::EPSILON * b.abs().max(1.0) {
            let pad = if b == 0.0 { 1.0 } else { 0.1 * b.abs() };
            a -= pad;
            b += pad;
        }
        let step = nice_step(b - a, 5.0);
        let lo = (a / step).floor() * step;
        let hi = (b / step).ceil() * step;
        let ticks = (0..)
            .map(|i| lo + i as f64 * step)
            .take_while(|&t| t <= hi + step * 1e-9)
            .collect();
        Axis {
            log: false,
            lo,
            hi,
            ticks,
        }
    }

    /// The pixel row of value `v`.
    fn y(&self, v: f64) -> f64 {
        let t = if self.log { v.log10() } else { v };
        BOTTOM - (t - self.lo) / (self.hi - self.lo) * (BOTTOM - TOP)
    }
}

impl TrainReport {
    /// The learning curve as CSV: a header `epoch,train_error,validation_error`, then one line
    /// per epoch (`NaN` for a missing validation error).
    ///
    /// ```
    /// use nnet::{Network, Output, TrainConfig};
    /// let mut net = Network::new(&[1, 2, 1], Output::Linear, 1, 0.5).unwrap();
    /// let cfg = TrainConfig { epochs: 3, ..TrainConfig::default() };
    /// let r = net.train(&cfg, &[0.0, 1.0], &[0.0, 1.0], None).unwrap();
    /// let csv = r.to_csv();
    /// assert!(csv.starts_with("epoch,train_error,validation_error\n1,"));
    /// assert_eq!(csv.lines().count(), 4);
    /// ```
    pub fn to_csv(&self) -> String {
        let mut s = String::from("epoch,train_error,validation_error\n");
        for h in &self.history {
            let _ = writeln!(s, "{},{},{}", h.epoch, h.train_error, h.validation_error);
        }
        s
    }

    /// Writes [`TrainReport::to_csv`] to `path`; errors with [`Error::Io`](crate::Error::Io) naming the path.
    pub fn write_csv(&self, path: impl AsRef<Path>) -> Result<()> {
        write_file(path.as_ref(), &self.to_csv())
    }

    /// The learning curve as an SVG image titled "Learning curve"; see
    /// [`TrainReport::to_svg_titled`].
    pub fn to_svg(&self) -> String {
        self.to_svg_titled("Learning curve")
    }

    /// The learning curve as a standalone SVG image: `E_in` and (when there is a validation
    /// set) `E_val` against the epoch, on a logarithmic error axis when the errors span a
    /// factor of 10 or more, with a dashed line at the epoch whose weights the network kept.
    pub fn to_svg_titled(&self, title: &str) -> String {
        let h = &self.history;
        let train: Vec<(u32, f64)> = h
            .iter()
            .map(|e| (e.epoch, e.train_error))
            .filter(|p| p.1.is_finite())
            .collect();
        let val: Vec<(u32, f64)> = h
            .iter()
            .map(|e| (e.epoch, e.validation_error))
            .filter(|p| p.1.is_finite())
            .collect();
        let all: Vec<f64> = train.iter().chain(&val).map(|p| p.1).collect();
        let axis = Axis::new(&all);
        let last = h.iter().map(|e| e.epoch).max().unwrap_or(1).max(2) as f64;
        let first = 1.0;
        let x = |e: f64| LEFT + (e - first) / (last - first) * (RIGHT - LEFT);

        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
        );
        let _ = writeln!(
            s,
            r#"<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>"#
        );
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="28" text-anchor="middle" font-size="16">{}</text>"#,
            (LEFT + RIGHT) / 2.0,
            escape(title)
        );
        // grid and y ticks
        for &t in &axis.ticks {
            let y = axis.y(t);
            if !(TOP - 0.5..=BOTTOM + 0.5).contains(&y) {
                continue;
            }
            let _ = writeln!(
                s,
                r##"<line x1="{LEFT}" y1="{y:.1}" x2="{RIGHT}" y2="{y:.1}" stroke="#e0e0e0"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
                LEFT - 6.0,
                y + 4.0,
                tick_label(t)
            );
        }
        // x ticks
        let step = nice_step(last - first, 8.0).max(1.0).round();
        let mut e = if step > 1.0 { step } else { 1.0 };
        let mut xticks = vec![1.0];
        while e <= last + 1e-9 {
            if e > 1.0 {
                xticks.push(e);
            }
            e += step;
        }
        for &t in &xticks {
            let xx = x(t);
            let _ = writeln!(
                s,
                r##"<line x1="{xx:.1}" y1="{BOTTOM}" x2="{xx:.1}" y2="{:.1}" stroke="#333"/><text x="{xx:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
                BOTTOM + 5.0,
                BOTTOM + 19.0,
                t as u64
            );
        }
        let _ = writeln!(
            s,
            r##"<rect x="{LEFT}" y="{TOP}" width="{:.1}" height="{:.1}" fill="none" stroke="#333"/>"##,
            RIGHT - LEFT,
            BOTTOM - TOP
        );
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">epoch</text>"#,
            (LEFT + RIGHT) / 2.0,
            HEIGHT - 14.0
        );
        let ylabel = if axis.log {
            "mean squared error per sample (log scale)"
        } else {
            "mean squared error per sample"
        };
        let _ = writeln!(
            s,
            r#"<text transform="translate(18 {:.1}) rotate(-90)" text-anchor="middle">{ylabel}</text>"#,
            (TOP + BOTTOM) / 2.0
        );
        // the kept epoch
        if !val.is_empty() && self.best_epoch >= 1 && (self.best_epoch as f64) <= last {
            let xx = x(self.best_epoch as f64);
            // the label goes left of the line near the right edge
            let (tx, anchor) = if xx > RIGHT - 110.0 {
                (xx - 4.0, "end")
            } else {
                (xx + 4.0, "start")
            };
            let _ = writeln!(
                s,
                r##"<line x1="{xx:.1}" y1="{TOP}" x2="{xx:.1}" y2="{BOTTOM}" stroke="#888" stroke-dasharray="5 4"/><text x="{tx:.1}" y="{:.1}" text-anchor="{anchor}" fill="#555">kept: epoch {}</text>"##,
                TOP + 14.0,
                self.best_epoch
            );
        }
        let mut curve = |points: &[(u32, f64)], color: &str| {
            if points.is_empty() {
                return;
            }
            let pts: Vec<String> = points
                .iter()
                .map(|&(e, v)| format!("{:.1},{:.1}", x(e as f64), axis.y(v)))
                .collect();
            let _ = writeln!(
                s,
                r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
                pts.join(" ")
            );
            if points.len() <= 40 {
                for p in &pts {
                    let (cx, cy) = p.split_once(',').unwrap_or(("0", "0"));
                    let _ = writeln!(s, r#"<circle cx="{cx}" cy="{cy}" r="2.5" fill="{color}"/>"#);
                }
            }
        };
        curve(&train, TRAIN_COLOR);
        curve(&val, VAL_COLOR);
        // legend
        let mut items = vec![("E_in (training)", TRAIN_COLOR)];
        if !val.is_empty() {
            items.push(("E_val (validation)", VAL_COLOR));
        }
        let lx = RIGHT - 150.0;
        let _ = writeln!(
            s,
            r##"<rect x="{:.1}" y="{:.1}" width="142" height="{:.1}" fill="white" stroke="#ccc"/>"##,
            lx - 8.0,
            TOP + 24.0,
            8.0 + 18.0 * items.len() as f64
        );
        for (i, (label, color)) in items.iter().enumerate() {
            let y = TOP + 40.0 + 18.0 * i as f64;
            let _ = writeln!(
                s,
                r#"<line x1="{lx:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{color}" stroke-width="2"/><text x="{:.1}" y="{y:.1}">{label}</text>"#,
                y - 4.0,
                lx + 22.0,
                y - 4.0,
                lx + 28.0
            );
        }
        if train.is_empty() && val.is_empty() {
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">no epochs</text>"#,
                (LEFT + RIGHT) / 2.0,
                (TOP + BOTTOM) / 2.0
            );
        }
        s.push_str("</svg>\n");
        s
    }

    /// Writes [`TrainReport::to_svg`] to `path`; errors with [`Error::Io`](crate::Error::Io) naming the path.
    pub fn write_svg(&self, path: impl AsRef<Path>) -> Result<()> {
        write_file(path.as_ref(), &self.to_svg())
    }
}
