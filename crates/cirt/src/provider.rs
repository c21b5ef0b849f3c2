//! The CSAF 2.0 provider layout (section 7.1) built from a CIRT's current
//! releases: `provider-metadata.json`, per-TLP directories with
//! `index.txt`, `changes.csv`, the documents by year with `.sha256` and
//! `.sha512` files, and a ROLIE feed per TLP; plus an Atom feed for people.
//!
//! What is listed is always what the reader may read: the caller passes
//! only releases the access layer let through, so a TLP:WHITE reader's
//! metadata names no AMBER feed.

use crate::advisory::tlp_folder;
use crate::csaf;
use jsonschema::Validator;
use rampart_core::Tlp;
use rampart_store::advisories::ReleaseRow;
use serde_json::{Value, json};
use std::sync::OnceLock;

/// A release as the layout lists it.
#[derive(Debug, Clone)]
pub struct Listed {
    pub release: ReleaseRow,
    pub tlp: Tlp,
    pub tracking_id: String,
    pub title: String,
    pub initial_release_date: String,
    pub summary: String,
    /// The publisher's name as the document gives it.
    pub publisher: String,
}

impl Listed {
    /// The path of the document under the provider base: `white/2026/x.json`.
    pub fn path(&self) -> String {
        format!("{}/{}/{}", tlp_folder(self.tlp), self.release.year, self.release.file_name)
    }
}

/// Where a provider's files live: `base` is the absolute URL of the folder
/// holding the TLP folders; `metadata_url` the canonical address of its
/// `provider-metadata.json`.
#[derive(Debug, Clone)]
pub struct Place {
    pub base: String,
    pub metadata_url: String,
}

fn folders(listed: &[Listed]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for tlp in [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::Red] {
        let folder = tlp_folder(tlp);
        if listed.iter().any(|l| tlp_folder(l.tlp) == folder) && !out.contains(&folder) {
            out.push(folder);
        }
    }
    out
}

fn label_of(folder: &str) -> &'static str {
    match folder {
        "white" => "WHITE",
        "green" => "GREEN",
        "amber" => "AMBER",
        _ => "RED",
    }
}

/// The OpenPGP key documents are signed with: its fingerprint and where it
/// is published.
#[derive(Debug, Clone)]
pub struct PublicKey {
    pub fingerprint: String,
    pub url: String,
}

/// `provider-metadata.json` (section 7.1.7). `last_updated` is the newest
/// release listed, or `now` when there is none. The role is
/// `csaf_trusted_provider` only when a key is given and every listed
/// document carries a signature.
pub fn metadata(place: &Place, publisher: &Value, listed: &[Listed], key: Option<&PublicKey>, now: &str) -> Value {
    let last_updated = listed.iter().map(|l| l.release.released_at.as_str()).max().unwrap_or(now);
    let feeds: Vec<Value> = folders(listed)
        .into_iter()
        .map(|folder| {
            let label = label_of(folder);
            json!({
                "summary": format!("TLP:{label} advisories"),
                "tlp_label": label,
                "url": format!("{}/{folder}/csaf-feed-tlp-{folder}.json", place.base),
            })
        })
        .collect();
    let mut distribution = json!({"directory_url": place.base});
    if !feeds.is_empty() {
        distribution["rolie"] = json!({"feeds": feeds});
    }
    let all_signed = listed.iter().all(|l| l.release.signature.is_some());
    let mut metadata = json!({
        "canonical_url": place.metadata_url,
        "distributions": [distribution],
        "last_updated": last_updated,
        "list_on_CSAF_aggregators": true,
        "metadata_version": "2.0",
        "mirror_on_CSAF_aggregators": true,
        "publisher": publisher,
        // Claim only what is fulfilled: a trusted provider signs every document.
        "role": if key.is_some() && all_signed { "csaf_trusted_provider" } else { "csaf_provider" },
    });
    if let Some(key) = key {
        metadata["public_openpgp_keys"] = json!([{"fingerprint": key.fingerprint, "url": key.url}]);
    }
    metadata
}

/// `index.txt` of a TLP folder (section 7.1.13): one path per line,
/// relative to the folder.
pub fn index_txt(listed: &[Listed], folder: &str) -> String {
    let mut lines: Vec<String> =
        listed.iter().filter(|l| tlp_folder(l.tlp) == folder).map(|l| format!("{}/{}", l.release.year, l.release.file_name)).collect();
    lines.sort();
    lines.iter().map(|line| format!("{line}\n")).collect()
}

/// `changes.csv` of a TLP folder (section 7.1.14): path and time of the
/// last change, newest first.
pub fn changes_csv(listed: &[Listed], folder: &str) -> String {
    let mut rows: Vec<(&str, String)> = listed
        .iter()
        .filter(|l| tlp_folder(l.tlp) == folder)
        .map(|l| (l.release.released_at.as_str(), format!("{}/{}", l.release.year, l.release.file_name)))
        .collect();
    rows.sort_by(|a, b| b.0.cmp(a.0).then(a.1.cmp(&b.1)));
    rows.iter().map(|(at, path)| format!("\"{path}\",\"{at}\"\n")).collect()
}

/// The hash file of a document (section 7.1.18): `<hex>  <file name>`.
pub fn hash_file(hex: &str, file_name: &str) -> String {
    format!("{hex}  {file_name}\n")
}

/// The ROLIE feed of a TLP folder (section 7.1.15, RFC 8322 in JSON).
pub fn rolie_feed(place: &Place, listed: &[Listed], folder: &str, now: &str) -> Value {
    let label = label_of(folder);
    let mut entries: Vec<&Listed> = listed.iter().filter(|l| tlp_folder(l.tlp) == folder).collect();
    entries.sort_by(|a, b| b.release.released_at.cmp(&a.release.released_at));
    let updated = entries.first().map(|l| l.release.released_at.clone()).unwrap_or_else(|| now.to_owned());
    let entry: Vec<Value> = entries
        .iter()
        .map(|l| {
            let url = format!("{}/{}", place.base, l.path());
            let mut links = vec![
                json!({"rel": "self", "href": url}),
                json!({"rel": "hash", "href": format!("{url}.sha256")}),
                json!({"rel": "hash", "href": format!("{url}.sha512")}),
            ];
            if l.release.signature.is_some() {
                links.push(json!({"rel": "signature", "href": format!("{url}.asc")}));
            }
            json!({
                "id": l.tracking_id,
                "title": l.title,
                "link": links,
                "published": l.initial_release_date,
                "updated": l.release.released_at,
                "summary": {"content": l.summary},
                "content": {"type": "application/json", "src": url},
                "format": {"schema": "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json", "version": "2.0"},
            })
        })
        .collect();
    json!({"feed": {
        "id": format!("csaf-feed-tlp-{folder}"),
        "title": format!("TLP:{label} advisories"),
        "link": [{"rel": "self", "href": format!("{}/{folder}/csaf-feed-tlp-{folder}.json", place.base)}],
        "category": [{"scheme": "urn:ietf:params:rolie:category:information-type", "term": "csaf"}],
        "updated": updated,
        "entry": entry,
    }})
}

/// Checks a `provider-metadata.json` against the OASIS provider schema.
pub fn check_metadata(metadata: &Value) -> Vec<String> {
    static VALIDATOR: OnceLock<Option<Validator>> = OnceLock::new();
    let validator = VALIDATOR.get_or_init(|| {
        let schema: Value = serde_json::from_str(include_str!("../data/csaf/provider_json_schema.json")).ok()?;
        jsonschema::options().with_retriever(csaf::LocalSchemas).should_validate_formats(true).build(&schema).ok()
    });
    match validator {
        Some(validator) => validator.iter_errors(metadata).map(|e| format!("{}: {e}", e.instance_path())).collect(),
        None => vec!["the provider schema could not be loaded".into()],
    }
}

/// XML text with the five special characters escaped.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// An Atom feed (RFC 4287) of advisories for people's feed readers; each
/// entry links to the advisory's HTML page. `feed_url` is its own address.
pub fn atom(feed_url: &str, title: &str, entries: &[(Listed, String)], now: &str) -> String {
    let updated = entries.iter().map(|(l, _)| l.release.released_at.as_str()).max().unwrap_or(now);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    out.push_str(&format!(
        "  <id>{}</id>\n  <title>{}</title>\n  <updated>{}</updated>\n",
        xml_escape(feed_url),
        xml_escape(title),
        xml_escape(updated)
    ));
    out.push_str(&format!("  <link rel=\"self\" href=\"{}\"/>\n", xml_escape(feed_url)));
    for (listed, page_url) in entries {
        out.push_str("  <entry>\n");
        out.push_str(&format!("    <id>{}</id>\n", xml_escape(&format!("{page_url}#v{}", listed.release.version))));
        out.push_str(&format!("    <title>{}: {}</title>\n", xml_escape(&listed.tracking_id), xml_escape(&listed.title)));
        out.push_str(&format!("    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n", xml_escape(page_url)));
        out.push_str(&format!("    <published>{}</published>\n", xml_escape(&listed.initial_release_date)));
        out.push_str(&format!("    <updated>{}</updated>\n", xml_escape(&listed.release.released_at)));
        out.push_str(&format!("    <author><name>{}</name></author>\n", xml_escape(&listed.publisher)));
        out.push_str(&format!("    <summary>{}</summary>\n", xml_escape(&listed.summary)));
        out.push_str("  </entry>\n");
    }
    out.push_str("</feed>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(tlp: Tlp, version: &str, at: &str, file: &str) -> Listed {
        Listed {
            release: ReleaseRow {
                advisory_id: file.into(),
                version: version.into(),
                released_at: at.into(),
                released_by: "manager@cirt.example".into(),
                tlp: tlp.as_str().into(),
                year: 2026,
                file_name: file.into(),
                sha256: "ab".into(),
                sha512: "cd".into(),
                signature: None,
            },
            tlp,
            tracking_id: file.trim_end_matches(".json").to_uppercase(),
            title: "Router <flaw> & \"more\"".into(),
            initial_release_date: "2026-01-01T00:00:00.000Z".into(),
            summary: "Patch now.".into(),
            publisher: "KE-CIRT".into(),
        }
    }

    fn place() -> Place {
        Place {
            base: "https://cirt.example/csaf/ke".into(),
            metadata_url: "https://cirt.example/.well-known/csaf/provider-metadata.json".into(),
        }
    }

    #[test]
    fn metadata_passes_the_provider_schema_and_lists_only_given_labels() {
        let publisher = json!({"category": "coordinator", "name": "KE-CIRT", "namespace": "https://cirt.example"});
        let items = vec![
            listed(Tlp::Clear, "1", "2026-02-01T00:00:00.000Z", "a.json"),
            listed(Tlp::AmberStrict, "2", "2026-03-01T00:00:00.000Z", "b.json"),
        ];
        let document = metadata(&place(), &publisher, &items, None, "2026-04-01T00:00:00.000Z");
        assert_eq!(check_metadata(&document), Vec::<String>::new());
        assert_eq!(document["role"], "csaf_provider", "nothing is signed");
        let feeds = document["distributions"][0]["rolie"]["feeds"].as_array().cloned().unwrap_or_default();
        let labels: Vec<&str> = feeds.iter().filter_map(|f| f["tlp_label"].as_str()).collect();
        assert_eq!(labels, vec!["WHITE", "AMBER"]);
        assert_eq!(document["last_updated"], "2026-03-01T00:00:00.000Z");
        let public_only = metadata(&place(), &publisher, &items[..1], None, "2026-04-01T00:00:00.000Z");
        assert_eq!(public_only["distributions"][0]["rolie"]["feeds"].as_array().map(Vec::len), Some(1));
        // With a key and every document signed, the provider is a trusted one.
        let key = PublicKey { fingerprint: "A".repeat(40), url: "https://cirt.example/csaf/ke/openpgp/key.asc".into() };
        let mut signed = items.clone();
        assert_eq!(metadata(&place(), &publisher, &signed, Some(&key), "x")["role"], "csaf_provider", "unsigned documents listed");
        for item in &mut signed {
            item.release.signature = Some("-----BEGIN PGP SIGNATURE-----".into());
        }
        let trusted = metadata(&place(), &publisher, &signed, Some(&key), "x");
        assert_eq!(trusted["role"], "csaf_trusted_provider");
        assert_eq!(trusted["public_openpgp_keys"][0]["fingerprint"], "A".repeat(40));
        assert_eq!(check_metadata(&trusted), Vec::<String>::new());
        let broken = json!({"canonical_url": "not a url"});
        assert!(!check_metadata(&broken).is_empty());
    }

    #[test]
    fn directory_files_and_feeds() {
        let items = vec![
            listed(Tlp::Clear, "1", "2026-02-01T00:00:00.000Z", "a.json"),
            listed(Tlp::Clear, "3", "2026-03-01T00:00:00.000Z", "b.json"),
            listed(Tlp::Green, "1", "2026-03-02T00:00:00.000Z", "c.json"),
        ];
        assert_eq!(index_txt(&items, "white"), "2026/a.json\n2026/b.json\n");
        assert_eq!(
            changes_csv(&items, "white"),
            "\"2026/b.json\",\"2026-03-01T00:00:00.000Z\"\n\"2026/a.json\",\"2026-02-01T00:00:00.000Z\"\n"
        );
        assert_eq!(hash_file("ab12", "a.json"), "ab12  a.json\n");
        let feed = rolie_feed(&place(), &items, "white", "2026-04-01T00:00:00.000Z");
        assert_eq!(feed["feed"]["entry"].as_array().map(Vec::len), Some(2));
        assert_eq!(feed["feed"]["entry"][0]["content"]["src"], "https://cirt.example/csaf/ke/white/2026/b.json");
        assert_eq!(feed["feed"]["updated"], "2026-03-01T00:00:00.000Z");
        let atom = atom(
            "https://cirt.example/advisories/feed.atom",
            "KE-CIRT",
            &[(items[0].clone(), "https://cirt.example/advisories/a".into())],
            "x",
        );
        assert!(atom.contains("<title>A: Router &lt;flaw&gt; &amp; &quot;more&quot;</title>"), "{atom}");
        assert!(atom.starts_with("<?xml"));
        assert!(atom.contains("<author><name>KE-CIRT</name></author>") && !atom.contains("manager@"), "{atom}");
        assert_eq!(xml_escape("a\u{1}b<"), "ab&lt;");
    }
}
