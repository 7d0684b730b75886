//! A small line chart as inline SVG (no script, so the CSP allows it): one person's readings
//! over time, with reference lines (the fever line, band edges) and the readings past a line
//! marked with a larger dot. The table beside it holds the same numbers for screen readers; the
//! chart is one image with a name.

use maud::{html, Markup};

const W: f64 = 600.0;
const H: f64 = 180.0;
const PAD: f64 = 36.0;

/// An axis value: whole numbers without decimals.
fn axis(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// `points`: (when, value), any order. `lines`: (value, label). `marked`: which values get the
/// larger dot.
pub(super) fn line(
    label: &str,
    points: &[(chrono::DateTime<chrono::Utc>, f64)],
    range: (f64, f64),
    lines: &[(f64, String)],
    marked: impl Fn(f64) -> bool,
) -> Markup {
    let mut pts: Vec<(chrono::DateTime<chrono::Utc>, f64)> = points.to_vec();
    pts.sort_by_key(|p| p.0);
    let (lo, hi) = range;
    let (first, last) = match (pts.first(), pts.last()) {
        (Some(a), Some(b)) => (a.0, b.0),
        _ => return html! {},
    };
    let span = (last - first).num_seconds().max(1) as f64;
    let x = |t: chrono::DateTime<chrono::Utc>| {
        if pts.len() == 1 {
            W / 2.0
        } else {
            PAD + (t - first).num_seconds() as f64 / span * (W - 2.0 * PAD)
        }
    };
    let y = |v: f64| H - PAD - (v.clamp(lo, hi) - lo) / (hi - lo) * (H - 2.0 * PAD);
    let path: Vec<String> = pts.iter().map(|(t, v)| format!("{:.1},{:.1}", x(*t), y(*v))).collect();
    html! {
        svg.chart viewBox={ "0 0 " (W) " " (H) } role="img" aria-label=(label) focusable="false" {
            rect.frame x=(PAD) y=(PAD) width=(W - 2.0 * PAD) height=(H - 2.0 * PAD) {}
            text.axis x=(PAD - 4.0) y=(format!("{:.1}", y(hi) + 4.0)) text-anchor="end" { (axis(hi)) }
            text.axis x=(PAD - 4.0) y=(format!("{:.1}", y(lo) + 4.0)) text-anchor="end" { (axis(lo)) }
            @for (v, name) in lines {
                line.reference x1=(PAD) x2=(W - PAD) y1=(format!("{:.1}", y(*v))) y2=(format!("{:.1}", y(*v))) {}
                text.reference x=(W - PAD) y=(format!("{:.1}", y(*v) - 4.0)) text-anchor="end" { (name) }
            }
            polyline.series points=(path.join(" ")) fill="none" {}
            @for (t, v) in &pts {
                @if marked(*v) {
                    circle.marked cx=(format!("{:.1}", x(*t))) cy=(format!("{:.1}", y(*v))) r="6" {}
                } @else {
                    circle.point cx=(format!("{:.1}", x(*t))) cy=(format!("{:.1}", y(*v))) r="3" {}
                }
            }
        }
    }
}
