//! Guidance pages, one per audience of the ITU COP Guidelines (children by
//! age group, parents and educators, industry, policy-makers), in Markdown
//! and several languages. The texts shipped in `guidance/<lang>/` are the
//! defaults; administrators edit them, and an edited page replaces the
//! shipped one for its language.

use crate::CopError;
use crate::error::invalid;
use rampart_auth::Principal;
use rampart_auth::access::Target;
use rampart_auth::service::Actor;
use rampart_core::{Clock, Permission, time};
use rampart_store::Store;
use rampart_store::hotline::GuidanceRow;
use serde::Serialize;
use serde_json::json;
use std::sync::Arc;

/// The audiences, in the order the index lists them.
pub const AUDIENCES: [&str; 6] = ["children-under-9", "children-9-12", "teens-13-18", "parents-educators", "industry", "policy-makers"];

/// Languages with shipped texts.
pub const LANGUAGES: [&str; 3] = ["en", "fr", "ar"];

macro_rules! shipped {
    ($($lang:literal),+) => {
        /// The shipped Markdown of (audience, language).
        fn shipped(audience: &str, lang: &str) -> Option<&'static str> {
            Some(match (lang, audience) {
                $(
                    ($lang, "children-under-9") => include_str!(concat!("../guidance/", $lang, "/children-under-9.md")),
                    ($lang, "children-9-12") => include_str!(concat!("../guidance/", $lang, "/children-9-12.md")),
                    ($lang, "teens-13-18") => include_str!(concat!("../guidance/", $lang, "/teens-13-18.md")),
                    ($lang, "parents-educators") => include_str!(concat!("../guidance/", $lang, "/parents-educators.md")),
                    ($lang, "industry") => include_str!(concat!("../guidance/", $lang, "/industry.md")),
                    ($lang, "policy-makers") => include_str!(concat!("../guidance/", $lang, "/policy-makers.md")),
                )+
                _ => return None,
            })
        }
    };
}

shipped!("en", "fr", "ar");

/// A page ready to render.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Page {
    pub audience: String,
    /// The language of the text, which is English when the wanted one has
    /// no text.
    pub language: String,
    pub title: String,
    pub markdown: String,
    /// Who last edited it; `None` for the shipped text.
    pub edited: Option<(String, String)>,
}

/// Splits a Markdown text into its first-level heading and the rest.
fn split_title(markdown: &str) -> (String, String) {
    let trimmed = markdown.trim_start_matches('\u{feff}');
    match trimmed.split_once('\n') {
        Some((first, rest)) if first.starts_with("# ") => (first[2..].trim().to_owned(), rest.trim_start_matches('\n').to_owned()),
        _ => (String::new(), trimmed.to_owned()),
    }
}

pub struct Guidance {
    store: Store,
    clock: Arc<dyn Clock>,
}

impl Guidance {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Guidance {
        Guidance { store, clock }
    }

    fn check_audience(audience: &str) -> Result<(), CopError> {
        if AUDIENCES.contains(&audience) { Ok(()) } else { Err(CopError::NotFound("guidance page")) }
    }

    /// The page for `audience` in `lang`: the edited text if there is one,
    /// else the shipped one, else English.
    pub async fn page(&self, audience: &str, lang: &str) -> Result<Page, CopError> {
        Self::check_audience(audience)?;
        for language in [lang, "en"] {
            if let Some(row) = self.store.guidance_get(audience, language).await? {
                return Ok(Page {
                    audience: audience.into(),
                    language: language.into(),
                    title: row.title,
                    markdown: row.body,
                    edited: Some((row.updated_by, row.updated_at)),
                });
            }
            if let Some(text) = shipped(audience, language) {
                let (title, markdown) = split_title(text);
                return Ok(Page { audience: audience.into(), language: language.into(), title, markdown, edited: None });
            }
        }
        Err(CopError::NotFound("guidance page"))
    }

    pub fn may_edit(principal: &Principal) -> bool {
        principal.allows(Permission::GuidanceEdit, Target::Platform)
    }

    /// Saves an administrator's edit of one page in one language.
    pub async fn save(&self, actor: &Actor<'_>, audience: &str, lang: &str, title: &str, markdown: &str) -> Result<(), CopError> {
        Self::check_audience(audience)?;
        if !Self::may_edit(actor.principal) {
            return Err(CopError::Forbidden);
        }
        let lang = lang.trim().to_ascii_lowercase();
        if !(2..=3).contains(&lang.len()) || !lang.chars().all(|c| c.is_ascii_lowercase()) {
            return Err(invalid("language", format!("`{lang}` is not a language code")));
        }
        let title = title.trim();
        if title.is_empty() || title.chars().count() > 200 {
            return Err(invalid("title", "must be 1 to 200 characters"));
        }
        if markdown.trim().is_empty() || markdown.len() > 100_000 {
            return Err(invalid("body", "must be 1 to 100000 bytes"));
        }
        let now = self.clock.now();
        let row = GuidanceRow {
            audience: audience.into(),
            language: lang.clone(),
            title: title.into(),
            body: markdown.replace("\r\n", "\n"),
            updated_by: actor.principal.email.clone(),
            updated_at: time::format(now),
        };
        let mut tx = self.store.begin().await?;
        tx.guidance_put(&row).await?;
        tx.audit(actor.entry("cop.guidance.edit", "guidance_page", Some(&format!("{audience}/{lang}")), json!({"title": title})), now)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_audience_ships_in_every_language_with_a_title() {
        for lang in LANGUAGES {
            for audience in AUDIENCES {
                let text = shipped(audience, lang).unwrap_or_default();
                let (title, body) = split_title(text);
                assert!(!title.is_empty(), "{lang}/{audience} has no first-level heading");
                assert!(body.len() > 200, "{lang}/{audience} is too short");
                assert!(body.contains("/hotline/report"), "{lang}/{audience} does not say where to report");
                assert!(!body.contains('<'), "{lang}/{audience} holds raw HTML");
            }
        }
        assert_eq!(shipped("industry", "xx"), None);
    }
}
