//! Charts as SVG drawn on the server: no script, readable by screen readers
//! (a title and a description listing every value), printable.

/// Escapes text for SVG and HTML.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The `<svg>` opening with its accessible name and description: the
/// `<title>` and `<desc>` get ids derived from the title (FNV-1a), so two
/// charts on one page never share ids and `aria-labelledby` finds both.
pub(crate) fn open_svg(class: &str, view_box: &str, title: &str, description: &str) -> String {
    let id = title.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3));
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"{class}\" viewBox=\"{view_box}\" role=\"img\" \
         aria-labelledby=\"c{id:x}-t c{id:x}-d\"><title id=\"c{id:x}-t\">{}</title><desc id=\"c{id:x}-d\">{}</desc>",
        escape(title),
        escape(description)
    )
}

/// A horizontal bar chart: one bar per (label, value).
pub fn bar_chart(title: &str, bars: &[(String, usize)]) -> String {
    let row = 26;
    let label_width = 230;
    let bar_area = 300;
    let height = 30 + row * bars.len().max(1);
    let max = bars.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let description: Vec<String> = bars.iter().map(|(l, v)| format!("{l}: {v}")).collect();
    let mut svg = open_svg("chart", &format!("0 0 {} {height}", label_width + bar_area + 60), title, &description.join("; "));
    if bars.is_empty() {
        svg.push_str("<text x=\"0\" y=\"20\" class=\"chart-empty\">—</text>");
    }
    for (index, (label, value)) in bars.iter().enumerate() {
        let y = 10 + row * index;
        let width = (bar_area * value) / max;
        svg.push_str(&format!(
            "<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\" class=\"chart-label\">{label}</text>\
             <rect x=\"{bx}\" y=\"{y}\" width=\"{width}\" height=\"18\" class=\"chart-bar\"/>\
             <text x=\"{vx}\" y=\"{ty}\" class=\"chart-value\">{value}</text>",
            lx = label_width - 8,
            ty = y + 14,
            bx = label_width,
            vx = label_width + width + 6,
            label = escape(label),
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars for scores on a fixed scale: (label, value, maximum),
/// the value printed with `places` decimals; an optional marker per bar
/// (a comparison such as the regional average) is drawn as a tick.
pub fn score_bars(title: &str, bars: &[(String, f64, f64, Option<f64>)], places: usize) -> String {
    let row = 26;
    let label_width = 230;
    let bar_area = 300.0;
    let height = 30 + row * bars.len().max(1);
    let description: Vec<String> = bars
        .iter()
        .map(|(l, v, max, mark)| match mark {
            Some(m) => format!("{l}: {v:.places$} of {max} (comparison {m:.places$})"),
            None => format!("{l}: {v:.places$} of {max}"),
        })
        .collect();
    let mut svg = open_svg("chart", &format!("0 0 {} {height}", label_width + 300 + 70), title, &description.join("; "));
    for (index, (label, value, max, mark)) in bars.iter().enumerate() {
        let y = 10 + row * index;
        let scale = if *max > 0.0 { bar_area / max } else { 0.0 };
        let width = (value.clamp(0.0, *max) * scale).round();
        svg.push_str(&format!(
            "<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\" class=\"chart-label\">{label}</text>\
             <rect x=\"{label_width}\" y=\"{y}\" width=\"300\" height=\"18\" class=\"chart-track\"/>\
             <rect x=\"{label_width}\" y=\"{y}\" width=\"{width}\" height=\"18\" class=\"chart-bar\"/>\
             <text x=\"{vx}\" y=\"{ty}\" class=\"chart-value\">{value:.places$}</text>",
            lx = label_width - 8,
            ty = y + 14,
            vx = label_width + 306,
            label = escape(label),
        ));
        if let Some(mark) = mark {
            let x = label_width as f64 + (mark.clamp(0.0, *max) * scale).round();
            svg.push_str(&format!("<line x1=\"{x}\" x2=\"{x}\" y1=\"{}\" y2=\"{}\" class=\"chart-mark\"/>", y - 3, y + 21));
        }
    }
    svg.push_str("</svg>");
    svg
}

/// A radar chart of shares in [0, 1] on each axis: one filled polygon for
/// the subject and, when given, an outline for a comparison.
pub fn radar_chart(title: &str, axes: &[(String, f64)], comparison: Option<(&str, &[f64])>, subject: &str) -> String {
    let (cx, cy, radius) = (200.0_f64, 190.0_f64, 130.0_f64);
    let n = axes.len().max(3);
    let point = |index: usize, share: f64| {
        let angle = -std::f64::consts::FRAC_PI_2 + std::f64::consts::TAU * index as f64 / n as f64;
        (cx + radius * share.clamp(0.0, 1.0) * angle.cos(), cy + radius * share.clamp(0.0, 1.0) * angle.sin())
    };
    let polygon = |shares: &mut dyn Iterator<Item = f64>| {
        shares.enumerate().map(|(i, s)| point(i, s)).map(|(x, y)| format!("{x:.1},{y:.1}")).collect::<Vec<_>>().join(" ")
    };
    let mut description: Vec<String> = axes.iter().map(|(l, v)| format!("{l}: {:.0}%", v * 100.0)).collect();
    if let Some((label, values)) = comparison {
        description.push(format!(
            "{label}: {}",
            axes.iter().zip(values).map(|((l, _), v)| format!("{l} {:.0}%", v * 100.0)).collect::<Vec<_>>().join(", ")
        ));
    }
    let mut svg = open_svg("chart radar", "0 0 400 400", title, &description.join("; "));
    for ring in [0.25, 0.5, 0.75, 1.0] {
        svg.push_str(&format!("<polygon class=\"radar-ring\" points=\"{}\"/>", polygon(&mut (0..n).map(|_| ring))));
    }
    for (index, (label, _)) in axes.iter().enumerate() {
        let (x, y) = point(index, 1.0);
        let (lx, ly) = point(index, 1.18);
        let anchor = if (lx - cx).abs() < 5.0 {
            "middle"
        } else if lx > cx {
            "start"
        } else {
            "end"
        };
        svg.push_str(&format!(
            "<line class=\"radar-axis\" x1=\"{cx}\" y1=\"{cy}\" x2=\"{x:.1}\" y2=\"{y:.1}\"/>\
             <text class=\"chart-label\" x=\"{lx:.1}\" y=\"{ly:.1}\" text-anchor=\"{anchor}\">{}</text>",
            escape(label)
        ));
    }
    if let Some((_, values)) = comparison {
        svg.push_str(&format!("<polygon class=\"radar-compare\" points=\"{}\"/>", polygon(&mut values.iter().copied())));
    }
    svg.push_str(&format!("<polygon class=\"radar-subject\" points=\"{}\"/>", polygon(&mut axes.iter().map(|(_, v)| *v))));
    svg.push_str(&format!(
        "<rect x=\"10\" y=\"375\" width=\"12\" height=\"12\" class=\"radar-subject\"/><text x=\"26\" y=\"386\" class=\"chart-label\">{}</text>",
        escape(subject)
    ));
    if let Some((label, _)) = comparison {
        svg.push_str(&format!(
            "<rect x=\"200\" y=\"375\" width=\"12\" height=\"12\" class=\"radar-compare\"/><text x=\"216\" y=\"386\" class=\"chart-label\">{}</text>",
            escape(label)
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// One bar of a timeline: a label, its dates, and a CSS class for its state.
pub struct Span {
    pub label: String,
    pub start: chrono::NaiveDate,
    pub end: chrono::NaiveDate,
    /// `bar-planned`, `bar-overdue`, … (styled in app.css).
    pub class: &'static str,
    pub note: String,
}

/// A timeline (Gantt) chart: one row per span on a shared date axis with a
/// tick at each quarter (or year, for long plans) and a line for today.
pub fn timeline_chart(title: &str, spans: &[Span], today: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    let (label_w, chart_w, row_h, top) = (240.0_f64, 520.0_f64, 26.0_f64, 28.0_f64);
    let height = top + row_h * spans.len().max(1) as f64 + 10.0;
    let description: Vec<String> = spans.iter().map(|s| format!("{}: {} to {} {}", s.label, s.start, s.end, s.note)).collect();
    let mut svg = open_svg("chart timeline-chart", &format!("0 0 {} {height}", label_w + chart_w + 10.0), title, &description.join("; "));
    let Some(first) = spans.iter().map(|s| s.start).min() else {
        svg.push_str("</svg>");
        return svg;
    };
    let last = spans.iter().map(|s| s.end).max().unwrap_or(first).max(first + chrono::Duration::days(30));
    let days = (last - first).num_days().max(1) as f64;
    let x = |date: chrono::NaiveDate| label_w + chart_w * ((date - first).num_days() as f64 / days).clamp(0.0, 1.0);
    // Ticks: quarters for plans up to three years, years beyond.
    let step = if days > 3.0 * 365.0 { 12 } else { 3 };
    let mut tick = chrono::NaiveDate::from_ymd_opt(first.year(), 1, 1).unwrap_or(first);
    while tick <= last {
        if tick >= first {
            let tx = x(tick);
            let label = if step == 12 { tick.year().to_string() } else { format!("{}-{:02}", tick.year(), tick.month()) };
            svg.push_str(&format!(
                "<line class=\"timeline-grid\" x1=\"{tx:.1}\" y1=\"{top}\" x2=\"{tx:.1}\" y2=\"{height}\"/>\
                 <text class=\"chart-label\" x=\"{tx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{label}</text>",
                top - 10.0
            ));
        }
        tick = tick.checked_add_months(chrono::Months::new(step)).unwrap_or(last + chrono::Duration::days(1));
    }
    for (i, span) in spans.iter().enumerate() {
        let y = top + row_h * i as f64;
        let (x0, x1) = (x(span.start), x(span.end.max(span.start)));
        let label: String = span.label.chars().take(36).collect();
        let ellipsis = if span.label.chars().count() > 36 { "…" } else { "" };
        svg.push_str(&format!(
            "<text class=\"chart-label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}{ellipsis}</text>\
             <rect class=\"{}\" x=\"{x0:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"3\"><title>{}</title></rect>",
            label_w - 8.0,
            y + row_h * 0.65,
            escape(&label),
            span.class,
            y + 4.0,
            (x1 - x0).max(3.0),
            row_h - 8.0,
            escape(&format!("{}: {} – {} {}", span.label, span.start, span.end, span.note))
        ));
    }
    if today >= first && today <= last {
        let tx = x(today);
        svg.push_str(&format!("<line class=\"chart-today\" x1=\"{tx:.1}\" y1=\"{:.1}\" x2=\"{tx:.1}\" y2=\"{height}\"/>", top - 4.0));
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_text_is_escaped() {
        let svg = bar_chart("By <class>", &[("fraud".into(), 4), ("a & b".into(), 2)]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(">By &lt;class&gt;</title>"));
        let id = svg.split("aria-labelledby=\"").nth(1).and_then(|rest| rest.split(' ').next()).unwrap_or("");
        assert!(svg.contains(&format!("<title id=\"{id}\">")), "the label points at the title");
        assert!(!bar_chart("Other", &[]).contains(id), "another chart has other ids");
        assert!(svg.contains("width=\"300\""), "largest bar fills the area");
        assert!(svg.contains("width=\"150\""), "half the largest is half as long");
        assert!(svg.contains("a &amp; b"));
        assert!(svg.contains(">fraud: 4; a &amp; b: 2</desc>"));
        assert!(bar_chart("Empty", &[]).contains("chart-empty"));
    }

    #[test]
    fn score_bars_and_radar_describe_every_value() {
        let svg = score_bars("Pillars", &[("Legal".into(), 20.0, 20.0, Some(10.0)), ("Technical".into(), 5.0, 20.0, None)], 2);
        assert!(svg.contains("width=\"300\" height=\"18\" class=\"chart-bar\""), "a full score fills the track");
        assert!(svg.contains("width=\"75\" height=\"18\" class=\"chart-bar\""), "a quarter fills a quarter");
        assert!(svg.contains(">Legal: 20.00 of 20 (comparison 10.00); Technical: 5.00 of 20</desc>"));
        assert!(svg.contains("x1=\"380\""), "the comparison tick sits at half the track");
        let radar = radar_chart(
            "Profile",
            &[("A".into(), 1.0), ("B".into(), 0.5), ("C<".into(), 0.0)],
            Some(("Region", &[0.5, 0.5, 0.5])),
            "Kenya",
        );
        assert!(radar.contains("class=\"radar-subject\" points=\"200.0,60.0 "), "a full share reaches the rim at the top");
        assert!(radar.contains(">A: 100%; B: 50%; C&lt;: 0%; Region: A 50%, B 50%, C&lt; 50%</desc>"));
        assert_eq!(radar.matches("radar-axis").count(), 3);
    }

    #[test]
    fn a_timeline_places_bars_by_date_and_marks_today() {
        let day = |m: u32, d: u32| chrono::NaiveDate::from_ymd_opt(2026, m, d).expect("date");
        let spans = [
            Span { label: "First <half>".into(), start: day(1, 1), end: day(7, 1), class: "bar-done", note: String::new() },
            Span { label: "Second".into(), start: day(7, 1), end: day(12, 31), class: "bar-overdue", note: "late".into() },
        ];
        let svg = timeline_chart("Plan", &spans, day(10, 1));
        assert!(svg.contains("First &lt;half&gt;"), "labels are escaped");
        assert!(svg.contains("class=\"bar-overdue\" x=\"498.6\""), "the second bar starts at 1 July (day 181 of 364): {svg}");
        assert!(svg.contains("chart-today"));
        assert!(svg.contains(">2026-04<"), "quarter ticks");
        assert!(timeline_chart("Empty", &[], day(1, 1)).ends_with("</svg>"));
    }
}
