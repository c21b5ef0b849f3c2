//! The message catalogues: every language has every key with the same
//! placeholders, every key the templates and handlers use exists, and pages
//! come out in the visitor's language and writing direction.

use crate::support::{World, body_text};
use rampart_core::{ItuRegion, OrgKind, Role};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

const LANGS: [&str; 3] = ["en", "fr", "ar"];

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn catalogue(lang: &str) -> HashMap<String, String> {
    let path = crate_dir().join("i18n").join(format!("{lang}.toml"));
    let source = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    rampart_web::i18n::parse(&source).unwrap_or_else(|err| panic!("{lang}.toml does not parse: {err}"))
}

/// The `{name}` placeholders of a message.
fn placeholders(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                found.insert(after[..close].to_owned());
                rest = &after[close + 1..];
            }
            None => break,
        }
    }
    found
}

/// Every string literal in `text` that follows one of `openers` (which end
/// with the opening quote), up to the closing quote.
fn literals_after(text: &str, openers: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for opener in openers {
        let mut rest = text;
        while let Some(at) = rest.find(opener) {
            let after = &rest[at + opener.len()..];
            let end = after.find('"').unwrap_or(after.len());
            found.push(after[..end].to_owned());
            rest = &after[(end + 1).min(after.len())..];
        }
    }
    found
}

/// Catalogue keys written as complete string literals in `text`:
/// `"platform.…"` made only of key characters, and flash keys passed in a
/// `done=platform.…` query.
fn literal_keys(text: &str) -> Vec<String> {
    let is_key_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.';
    let mut keys = Vec::new();
    for section in ["platform.", "strategy."] {
        for candidate in literals_after(text, &[&format!("\"{section}")]) {
            // A literal ending in a dot is a prefix (`PARTIAL_PREFIXES`), not a key.
            if candidate.chars().all(is_key_char) && !candidate.ends_with('.') {
                keys.push(format!("{section}{candidate}"));
            }
        }
        let mut rest = text;
        let marker = format!("done={section}");
        while let Some(at) = rest.find(&marker) {
            let after = &rest[at + "done=".len()..];
            let end = after.find(|c: char| !is_key_char(c)).unwrap_or(after.len());
            keys.push(after[..end].trim_end_matches('.').to_owned());
            rest = &after[end..];
        }
    }
    keys
}

fn files_with_extension(dir: &Path, extension: &str, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            files_with_extension(&path, extension, out);
        } else if path.extension().is_some_and(|e| e == extension) {
            out.push(path);
        }
    }
    out.sort();
}

#[test]
fn every_language_has_the_same_keys_and_placeholders() {
    let english = catalogue("en");
    assert!(english.len() > 150, "the English catalogue is complete: {} keys", english.len());
    let english_keys: BTreeSet<&String> = english.keys().collect();
    for lang in LANGS {
        let other = catalogue(lang);
        let keys: BTreeSet<&String> = other.keys().collect();
        let missing: Vec<_> = english_keys.difference(&keys).collect();
        let extra: Vec<_> = keys.difference(&english_keys).collect();
        assert!(missing.is_empty() && extra.is_empty(), "{lang}: missing {missing:?}, not in English {extra:?}");
        for (key, text) in &other {
            assert!(!text.trim().is_empty(), "{lang}: {key} is empty");
            assert_eq!(placeholders(text), placeholders(&english[key]), "{lang}: placeholders of {key}");
        }
    }
    // The placeholder scan itself finds what it should.
    assert_eq!(placeholders(&english["platform.home.welcome"]), BTreeSet::from(["name".to_owned()]));
}

#[test]
fn partial_catalogues_cover_the_public_hotline_pages() {
    let english = catalogue("en");
    for lang in ["es", "ru", "zh"] {
        let other = catalogue(lang);
        for (key, text) in &other {
            assert!(english.contains_key(key), "{lang}: {key} is not in English");
            assert!(!text.trim().is_empty(), "{lang}: {key} is empty");
            assert_eq!(placeholders(text), placeholders(&english[key]), "{lang}: placeholders of {key}");
        }
        let covered: Vec<&String> =
            english.keys().filter(|k| rampart_web::i18n::PARTIAL_PREFIXES.iter().any(|p| k.starts_with(p))).collect();
        let mut same = 0;
        for key in &covered {
            assert!(other.contains_key(*key), "{lang}: {key} is missing");
            same += usize::from(other[*key] == english[*key]);
        }
        assert!(covered.len() > 60 && same * 5 < covered.len(), "{lang}: {same} of {} identical to English", covered.len());
    }
}

#[tokio::test]
async fn the_public_report_form_comes_in_the_six_un_languages() {
    let w = World::new().await;
    w.add_org("Child Safety Hotline Kenya", "hotline", "KE", None).await;
    for (lang, _) in rampart_web::i18n::LANGUAGES {
        let (status, response) = w.get_with_cookie("/hotline/report", &format!("rampart_lang={lang}")).await;
        assert_eq!(status, axum::http::StatusCode::OK);
        let page = body_text(response).await;
        assert!(page.contains(&format!("<html lang=\"{lang}\"")), "{lang}");
        assert!(page.contains(&catalogue(lang)["cop.public.submit"]), "{lang}: the submit button is translated");
        assert!(!page.contains("cop.public."), "{lang}: no key shown");
    }
}

#[test]
fn translations_are_translated() {
    let english = catalogue("en");
    for lang in ["fr", "ar"] {
        let other = catalogue(lang);
        let same = english.iter().filter(|(key, text)| other[*key] == **text && text.chars().any(char::is_alphabetic)).count();
        assert!(same * 5 < english.len(), "{lang}: {same} of {} messages are identical to English", english.len());
    }
    let arabic = catalogue("ar");
    assert!(arabic["platform.login.title"].chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)), "Arabic is in Arabic script");
}

#[test]
fn every_key_the_templates_use_exists() {
    let english = catalogue("en");
    let mut templates = Vec::new();
    files_with_extension(&crate_dir().join("templates"), "html", &mut templates);
    assert!(templates.len() >= 10, "{templates:?}");
    let mut used = 0;
    for path in &templates {
        let text = std::fs::read_to_string(path).expect("template");
        for key in literals_after(&text, &["t.get(\"", "t.fill(\""]) {
            used += 1;
            assert!(english.contains_key(&key), "{}: key {key} is not in en.toml", path.display());
        }
    }
    assert!(used > 100, "the templates use catalogue keys: {used}");
}

/// The strategy pages' labels, built at run time from the module's lists.
fn strategy_keys() -> Vec<String> {
    use rampart_strategy::service::{DOCUMENT_KINDS, PHASES, SECTORS, SERVICE_LEVELS};
    let mut keys = Vec::new();
    let mut section = |name: &str, values: &[&str]| keys.extend(values.iter().map(|v| format!("strategy.{name}.{v}")));
    section("phases", &PHASES);
    section("sectors", &SECTORS);
    section("document_kinds", &DOCUMENT_KINDS);
    section("service_levels", &SERVICE_LEVELS);
    section("action_status", &rampart_strategy::plan::ACTION_STATUSES);
    section("status", &rampart_strategy::gaps::Status::ALL.map(|s| s.as_str()));
    section("status", &["none"]);
    section("priority", &rampart_strategy::data::Priority::ALL.map(|p| p.as_str()));
    section("sim3_categories", &rampart_strategy::data::SIM3_CATEGORIES.map(|c| c.0));
    section("sim3_levels", &["0", "1", "2", "3", "4"]);
    keys
}

#[test]
fn every_key_the_handlers_use_exists() {
    let english = catalogue("en");
    let mut sources = Vec::new();
    files_with_extension(&crate_dir().join("src"), "rs", &mut sources);
    let mut used = BTreeSet::new();
    for path in &sources {
        let text = std::fs::read_to_string(path).expect("source");
        for key in literal_keys(&text) {
            assert!(english.contains_key(&key), "{}: key {key} is not in en.toml", path.display());
            used.insert(key);
        }
    }
    assert!(used.contains("strategy.gaps.baseline_campaign"), "the scan finds strategy keys");
    for expected in ["platform.login.locked", "platform.users.created", "platform.profile.token_revoked", "platform.nav.home"] {
        assert!(used.contains(expected), "the scan finds {expected}");
    }

    // Keys built at run time from the domain's lists.
    let dynamic = Role::ALL
        .iter()
        .map(|r| format!("platform.roles.{}", r.as_str()))
        .chain(OrgKind::ALL.iter().map(|k| format!("platform.org_kinds.{}", k.as_str())))
        .chain(ItuRegion::ALL.iter().map(|r| format!("platform.regions.{}", r.as_str())))
        .chain(strategy_keys());
    for key in dynamic {
        assert!(english.contains_key(&key), "{key} is not in en.toml");
    }
}

#[test]
fn the_scanners_find_what_they_should() {
    let source =
        r#"t.get("platform.a.b"); format!("platform.roles.{role}"); Redirect::to("/x?done=platform.c.d").into_response(); "platform.e.f""#;
    assert_eq!(literal_keys(source), ["platform.a.b", "platform.e.f", "platform.c.d"]);
    assert_eq!(
        literals_after(r#"{{ c.t.get("platform.x.y") }} {{ t.fill("platform.z") }}"#, &["t.get(\"", "t.fill(\""]),
        ["platform.x.y", "platform.z"]
    );
    assert_eq!(placeholders("{a} and {b}, {a}"), BTreeSet::from(["a".to_owned(), "b".to_owned()]));
}

/// The opening `<html …>` tag of a page.
fn html_tag_of(page: &str) -> String {
    let start = page.find("<html").expect("an html element");
    let end = page[start..].find('>').expect("end of tag") + start;
    page[start..=end].to_owned()
}

async fn html_tag(w: &World, path: &str, cookie: &str) -> String {
    let (status, response) = w.get_with_cookie(path, cookie).await;
    assert_eq!(status, axum::http::StatusCode::OK, "{path} with {cookie}");
    html_tag_of(&body_text(response).await)
}

/// True when the page shows a catalogue key instead of its text.
fn shows_a_key(page: &str) -> bool {
    page.match_indices("platform.").any(|(at, _)| page[at + "platform.".len()..].starts_with(|c: char| c.is_ascii_lowercase()))
}

#[tokio::test]
async fn pages_come_in_the_visitors_language_and_direction() {
    let w = World::new().await;
    assert_eq!(html_tag(&w, "/login", "").await, "<html lang=\"en\" dir=\"ltr\">");
    assert_eq!(html_tag(&w, "/login", "rampart_lang=ar").await, "<html lang=\"ar\" dir=\"rtl\">");
    assert_eq!(html_tag(&w, "/login", "rampart_lang=fr").await, "<html lang=\"fr\" dir=\"ltr\">");
    assert_eq!(html_tag(&w, "/login", "rampart_lang=xx").await, "<html lang=\"en\" dir=\"ltr\">");

    let (_, response) = w.get_with_cookie("/login", "rampart_lang=ar").await;
    let arabic = catalogue("ar");
    let page = body_text(response).await;
    assert!(page.contains(&arabic["platform.login.submit"]), "the login button is in Arabic");
    assert!(!shows_a_key(&page), "no key is shown untranslated");
    assert!(shows_a_key("<p>platform.login.title</p>"));
    let (_, response) = w.get_with_cookie("/login", "rampart_lang=fr").await;
    assert!(body_text(response).await.contains(&catalogue("fr")["platform.login.submit"]));

    // Accept-Language is honoured when there is no cookie.
    let request = axum::http::Request::get("/login").header("accept-language", "fr-CH, fr;q=0.9, en;q=0.8").body(axum::body::Body::empty());
    let (_, response) = w.call(request.expect("request")).await;
    assert_eq!(html_tag_of(&body_text(response).await), "<html lang=\"fr\" dir=\"ltr\">");

    // A signed-in user's own language wins over the cookie.
    let admin = w.token_for("admin@example.org").await;
    let (status, _) = w
        .send_json(
            "POST",
            "/api/v1/users",
            Some(&admin),
            serde_json::json!({"org_id": w.kenya_cirt, "email": "arabic@ke.example", "display_name": "Arabic Reader",
                "password": crate::support::PASSWORD, "language": "ar", "must_change_password": false}),
        )
        .await;
    assert_eq!(status, axum::http::StatusCode::CREATED);
    let reader = w.sign_in("arabic@ke.example").await;
    assert_eq!(html_tag(&w, "/", &format!("{}; rampart_lang=fr", reader.cookie())).await, "<html lang=\"ar\" dir=\"rtl\">");
    let english_reader = w.sign_in("analyst@ke.example").await;
    assert_eq!(html_tag(&w, "/", &format!("{}; rampart_lang=ar", english_reader.cookie())).await, "<html lang=\"en\" dir=\"ltr\">");
}
