//! Charts as SVG drawn on the server: no script, readable by screen readers
//! (a title and a description listing every value), printable.

/// Escapes text for SVG and HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A horizontal bar chart: one bar per (label, value).
pub fn bar_chart(title: &str, bars: &[(String, usize)]) -> String {
    let row = 26;
    let label_width = 230;
    let bar_area = 300;
    let height = 30 + row * bars.len().max(1);
    let max = bars.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let description: Vec<String> = bars.iter().map(|(l, v)| format!("{l}: {v}")).collect();
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {w} {height}\" role=\"img\" aria-labelledby=\"t d\">\
         <title>{t}</title><desc>{d}</desc>",
        w = label_width + bar_area + 60,
        t = escape(title),
        d = escape(&description.join("; "))
    );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_text_is_escaped() {
        let svg = bar_chart("By <class>", &[("fraud".into(), 4), ("a & b".into(), 2)]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("<title>By &lt;class&gt;</title>"));
        assert!(svg.contains("width=\"300\""), "largest bar fills the area");
        assert!(svg.contains("width=\"150\""), "half the largest is half as long");
        assert!(svg.contains("a &amp; b"));
        assert!(svg.contains("<desc>fraud: 4; a &amp; b: 2</desc>"));
        assert!(bar_chart("Empty", &[]).contains("chart-empty"));
    }
}
