//! Markdown to HTML for text administrators write (guidance pages). Raw
//! HTML in the source is shown as text, never passed through; links keep
//! only safe destinations; images become their description, so a page
//! never loads anything from elsewhere.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};

fn safe_destination(dest: &str) -> bool {
    let lower = dest.trim().to_ascii_lowercase();
    lower.starts_with('/') && !lower.starts_with("//")
        || lower.starts_with('#')
        || lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:")
}

pub fn to_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    // An image's description arrives as text between its start and end,
    // so dropping those two leaves the description in its place.
    let events = Parser::new_ext(markdown, options).filter_map(|event| match event {
        Event::Html(text) | Event::InlineHtml(text) => Some(Event::Text(text)),
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
        Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
            let dest_url = if safe_destination(&dest_url) { dest_url } else { CowStr::Borrowed("#") };
            Some(Event::Start(Tag::Link { link_type, dest_url, title, id }))
        }
        other => Some(other),
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_markdown_and_neutralises_html_scripts_and_images() {
        let html = to_html("# Title\n\nSome *text* and a [report](/hotline/report).\n\n- one\n- two\n");
        assert!(
            html.contains("<h1>Title</h1>") && html.contains("<em>text</em>") && html.contains("<a href=\"/hotline/report\">"),
            "{html}"
        );
        assert!(html.contains("<li>one</li>"));
        let hostile = to_html(
            "<script>alert(1)</script>\n\nhi <img src=x onerror=alert(1)> [x](javascript:alert(1)) ![cat](http://evil.example/c.png)",
        );
        assert!(!hostile.contains("<script") && !hostile.contains("<img"), "{hostile}");
        assert!(hostile.contains("&lt;script&gt;"), "{hostile}");
        assert!(!hostile.contains("javascript:"), "{hostile}");
        assert!(!hostile.contains("evil.example") && hostile.contains("cat"), "{hostile}");
        assert!(to_html("[a](//evil.example)").contains("href=\"#\""));
    }
}
