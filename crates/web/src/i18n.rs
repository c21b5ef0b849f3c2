//! Message catalogues. Every piece of UI text is looked up by a key of the
//! form `module.page.element` in `i18n/<lang>.toml`; a missing translation
//! falls back to English, and a missing English text shows the key, which
//! the catalogue test catches.

use std::collections::HashMap;
use std::sync::Arc;

/// Languages with a catalogue, in the order the picker shows them: the six
/// UN languages. English, French and Arabic are complete; Spanish, Russian
/// and Chinese cover the page shell and the public hotline pages, and fall
/// back to English elsewhere.
pub const LANGUAGES: [(&str, &str); 6] =
    [("en", "English"), ("fr", "Français"), ("ar", "العربية"), ("es", "Español"), ("ru", "Русский"), ("zh", "中文")];

/// The key prefixes a partial catalogue must cover (the catalogue test
/// holds them to it).
pub const PARTIAL_PREFIXES: [&str; 7] =
    ["platform.shell.", "platform.nav.", "cop.nav.", "cop.public.", "cop.categories.", "cop.status.", "cop.guidance."];

const SOURCES: [(&str, &str); 6] = [
    ("en", include_str!("../i18n/en.toml")),
    ("fr", include_str!("../i18n/fr.toml")),
    ("ar", include_str!("../i18n/ar.toml")),
    ("es", include_str!("../i18n/es.toml")),
    ("ru", include_str!("../i18n/ru.toml")),
    ("zh", include_str!("../i18n/zh.toml")),
];

type Catalogue = HashMap<String, String>;

#[derive(Clone)]
pub struct Catalogues {
    by_lang: Arc<HashMap<&'static str, Catalogue>>,
}

fn flatten(prefix: &str, value: &toml::Value, out: &mut Catalogue) {
    match value {
        toml::Value::Table(table) => {
            for (key, inner) in table {
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                flatten(&path, inner, out);
            }
        }
        toml::Value::String(text) => {
            out.insert(prefix.to_owned(), text.clone());
        }
        _ => {}
    }
}

/// Parses one catalogue; public for the catalogue tests.
pub fn parse(source: &str) -> Result<HashMap<String, String>, String> {
    let value: toml::Value = toml::from_str(source).map_err(|err| err.to_string())?;
    let mut out = HashMap::new();
    flatten("", &value, &mut out);
    Ok(out)
}

impl Catalogues {
    pub fn load() -> Self {
        let mut by_lang = HashMap::new();
        for (lang, source) in SOURCES {
            // The catalogues are compiled in and checked by tests; a broken
            // one degrades to English rather than stopping the server.
            let catalogue = parse(source).unwrap_or_else(|err| {
                tracing::error!(lang, error = %err, "message catalogue does not parse");
                HashMap::new()
            });
            by_lang.insert(lang, catalogue);
        }
        Catalogues { by_lang: Arc::new(by_lang) }
    }

    pub fn for_lang(&self, lang: &str) -> Tr {
        let lang = supported(lang).unwrap_or("en");
        Tr { lang, catalogues: self.clone() }
    }
}

/// Returns the supported language code matching `code`, if any.
pub fn supported(code: &str) -> Option<&'static str> {
    let primary = code.trim().split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
    LANGUAGES.iter().map(|(c, _)| *c).find(|c| *c == primary)
}

/// Picks the best supported language from an `Accept-Language` header.
pub fn negotiate(accept_language: &str) -> Option<&'static str> {
    let mut choices: Vec<(f32, &str)> = accept_language
        .split(',')
        .filter_map(|part| {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next()?.trim();
            let quality = pieces.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
            Some((quality, tag))
        })
        .collect();
    choices.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
    choices.into_iter().find_map(|(_, tag)| supported(tag))
}

/// A translator for one language, handed to templates as `t`.
#[derive(Clone)]
pub struct Tr {
    pub lang: &'static str,
    catalogues: Catalogues,
}

impl Tr {
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.catalogues
            .by_lang
            .get(self.lang)
            .and_then(|c| c.get(key))
            .or_else(|| self.catalogues.by_lang.get("en").and_then(|c| c.get(key)))
            .map(String::as_str)
            .unwrap_or(key)
    }

    /// Text with `{name}` placeholders filled in.
    pub fn fill(&self, key: &str, values: &[(&str, &str)]) -> String {
        let mut text = self.get(key).to_owned();
        for (name, value) in values {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    pub fn dir(&self) -> &'static str {
        if self.lang == "ar" { "rtl" } else { "ltr" }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_accept_language() {
        assert_eq!(negotiate("fr-CH, fr;q=0.9, en;q=0.8"), Some("fr"));
        assert_eq!(negotiate("de-DE, ar;q=0.5"), Some("ar"));
        assert_eq!(negotiate("de, ja"), None);
        assert_eq!(supported("AR-eg"), Some("ar"));
        assert_eq!(negotiate("zh-CN, en;q=0.5"), Some("zh"));
        assert_eq!(supported("ru"), Some("ru"));
    }
}
