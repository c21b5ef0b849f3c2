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
}
