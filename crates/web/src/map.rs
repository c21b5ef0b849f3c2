//! A world map drawn on the server: each country an SVG path from
//! `data/world-110m.tsv` (see `scripts/gen-worldmap`), shaded by a count.
//! Like the charts, it needs no script and lists every value for screen
//! readers.

use std::collections::HashMap;
use std::sync::OnceLock;

const OUTLINES: &str = include_str!("../data/world-110m.tsv");

/// Light to dark; index 0 is for countries with nothing to show.
const PALETTE: [&str; 6] = ["#e5e7eb", "#dbe9f6", "#9ecae1", "#6baed6", "#3182bd", "#08519c"];

fn outlines() -> &'static [(String, String)] {
    static PARSED: OnceLock<Vec<(String, String)>> = OnceLock::new();
    PARSED.get_or_init(|| {
        OUTLINES
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .filter_map(|line| line.split_once('\t'))
            .map(|(code, path)| (code.to_owned(), path.to_owned()))
            .collect()
    })
}

use crate::svg::escape;

/// The palette step of `value` on a scale up to `max` (1..=5, 0 for none).
fn step(value: usize, max: usize) -> usize {
    if value == 0 || max == 0 {
        return 0;
    }
    (value * 5).div_ceil(max).clamp(1, 5)
}

/// A choropleth of classes: each country (ISO alpha-2) gets a palette step
/// (1..=5; 0 for none) and the text its title shows; the legend names each
/// step used. The description lists every country in the order given.
pub fn classed_map(
    title: &str,
    countries: &[(String, usize, String)],
    legend: &[(usize, String)],
    name: &dyn Fn(&str) -> String,
) -> String {
    let by_code: HashMap<String, (usize, &str)> =
        countries.iter().map(|(code, step, text)| (code.to_ascii_uppercase(), ((*step).min(5), text.as_str()))).collect();
    let description: Vec<String> = countries.iter().map(|(code, _, text)| format!("{}: {text}", name(code))).collect();
    let mut svg = crate::svg::open_svg("chart world-map", "0 0 1000 520", title, &description.join("; "));
    svg.push_str("<g stroke=\"#fff\" stroke-width=\"0.4\">");
    for (code, path) in outlines() {
        let (step, text) = by_code.get(code).copied().unwrap_or((0, "—"));
        svg.push_str(&format!(
            "<path class=\"country\" data-country=\"{code}\" fill=\"{}\" d=\"{path}\"><title>{}: {}</title></path>",
            PALETTE[step],
            escape(&name(code)),
            escape(text)
        ));
    }
    svg.push_str("</g>");
    for (index, (step, label)) in legend.iter().enumerate() {
        let x = 20 + index * 160;
        svg.push_str(&format!(
            "<rect x=\"{x}\" y=\"500\" width=\"14\" height=\"14\" fill=\"{}\"/><text x=\"{}\" y=\"512\" font-size=\"12\">{}</text>",
            PALETTE[(*step).min(5)],
            x + 18,
            escape(label)
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// A choropleth of `values` (ISO alpha-2, count); `name` gives a country's
/// name for titles and the description.
pub fn world_map(title: &str, values: &[(String, usize)], name: &dyn Fn(&str) -> String) -> String {
    let by_code: HashMap<String, usize> = values.iter().map(|(code, n)| (code.to_ascii_uppercase(), *n)).collect();
    let max = values.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let mut listed: Vec<&(String, usize)> = values.iter().filter(|(_, n)| *n > 0).collect();
    listed.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let description: Vec<String> = listed.iter().map(|(code, n)| format!("{}: {n}", name(code))).collect();
    let mut svg = crate::svg::open_svg("chart world-map", "0 0 1000 520", title, &description.join("; "));
    svg.push_str("<g stroke=\"#fff\" stroke-width=\"0.4\">");
    for (code, path) in outlines() {
        let value = by_code.get(code).copied().unwrap_or(0);
        svg.push_str(&format!(
            "<path class=\"country\" data-country=\"{code}\" fill=\"{}\" d=\"{path}\"><title>{}: {value}</title></path>",
            PALETTE[step(value, max)],
            escape(&name(code))
        ));
    }
    svg.push_str("</g>");
    if max > 0 {
        // The legend: five swatches with the range each stands for.
        for (index, colour) in PALETTE.iter().enumerate().skip(1) {
            let low = (max * (index - 1)) / 5 + 1;
            let high = (max * index) / 5;
            if high < low {
                continue;
            }
            let x = 20 + (index - 1) * 90;
            let label = if low == high { low.to_string() } else { format!("{low}–{high}") };
            svg.push_str(&format!(
                "<rect x=\"{x}\" y=\"500\" width=\"14\" height=\"14\" fill=\"{colour}\"/><text x=\"{}\" y=\"512\" font-size=\"12\">{label}</text>",
                x + 18
            ));
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(code: &str) -> String {
        match code {
            "FR" => "France".into(),
            "SE" => "Sweden".into(),
            "TV" => "Tuvalu <&>".into(),
            other => other.into(),
        }
    }

    fn fill_of(svg: &str, code: &str) -> String {
        let at = svg.find(&format!("data-country=\"{code}\"")).unwrap_or_else(|| panic!("{code} is drawn"));
        let rest = &svg[at..];
        let start = rest.find("fill=\"").map(|i| i + 6).unwrap_or(0);
        rest[start..start + 7].to_owned()
    }

    #[test]
    fn the_outlines_cover_the_world() {
        let outlines = outlines();
        assert!(outlines.len() > 160, "{}", outlines.len());
        assert!(outlines.iter().all(|(code, path)| code.len() == 2 && path.starts_with('M') && path.ends_with('z')));
        assert!(outlines.iter().any(|(code, _)| code == "KE") && !outlines.iter().any(|(code, _)| code == "AQ"));
    }

    #[test]
    fn larger_values_are_darker_and_every_value_is_described() {
        let values = vec![("FR".to_owned(), 2), ("SE".to_owned(), 10), ("TV".to_owned(), 1), ("ZZ".to_owned(), 0)];
        let svg = world_map("Hosting <countries>", &values, &name);
        assert_eq!(fill_of(&svg, "SE"), PALETTE[5]);
        assert_eq!(fill_of(&svg, "FR"), PALETTE[1]);
        assert_eq!(fill_of(&svg, "KE"), PALETTE[0]);
        assert!(svg.contains(">Sweden: 10; France: 2; Tuvalu &lt;&amp;&gt;: 1</desc>"), "a country too small to draw is still listed");
        assert!(svg.contains(">Hosting &lt;countries&gt;</title>"));
        assert!(svg.contains("<title>Sweden: 10</title>"));
        let empty = world_map("Nothing", &[], &name);
        assert!(empty.contains("\"></desc>") && !empty.contains("<rect"));
    }

    #[test]
    fn classed_maps_colour_by_class_and_name_the_legend() {
        let countries = vec![("SE".to_owned(), 5, "Tier 1 (97.5)".to_owned()), ("FR".to_owned(), 1, "Tier 5 <x>".to_owned())];
        let svg = classed_map("By tier", &countries, &[(5, "Tier 1".into()), (1, "Tier 5".into())], &name);
        assert_eq!(fill_of(&svg, "SE"), PALETTE[5]);
        assert_eq!(fill_of(&svg, "FR"), PALETTE[1]);
        assert_eq!(fill_of(&svg, "KE"), PALETTE[0]);
        assert!(svg.contains("<title>Sweden: Tier 1 (97.5)</title>"));
        assert!(svg.contains(">Sweden: Tier 1 (97.5); France: Tier 5 &lt;x&gt;</desc>"));
        assert!(svg.contains(">Tier 5</text>"));
    }

    #[test]
    fn steps_scale_with_the_largest_value() {
        assert_eq!((step(0, 10), step(1, 10), step(2, 10), step(10, 10), step(3, 0)), (0, 1, 1, 5, 0));
        assert_eq!(step(1, 1), 5);
    }
}
