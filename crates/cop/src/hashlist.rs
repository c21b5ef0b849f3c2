//! Hash lists as hash-sharing programmes exchange them: rows of
//! (hash, type, tags), in CSV (`hash,type,tags`, tags separated by `;`) or
//! JSON (an array of `{"hash", "type", "tags": [...]}`). Parsing checks
//! every row and reports every bad one by its line (CSV) or index (JSON);
//! nothing is accepted from a file with errors.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HashType {
    Pdq,
    Md5,
    Sha256,
}

impl HashType {
    pub fn as_str(self) -> &'static str {
        match self {
            HashType::Pdq => "pdq",
            HashType::Md5 => "md5",
            HashType::Sha256 => "sha256",
        }
    }

    fn hex_len(self) -> usize {
        match self {
            HashType::Md5 => 32,
            HashType::Pdq | HashType::Sha256 => 64,
        }
    }

    pub fn parse(text: &str) -> Option<HashType> {
        match text.trim().to_ascii_lowercase().as_str() {
            "pdq" => Some(HashType::Pdq),
            "md5" => Some(HashType::Md5),
            "sha256" | "sha-256" => Some(HashType::Sha256),
            _ => None,
        }
    }
}

/// One entry: the hash in lower-case hex, its type and its tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub hash: String,
    #[serde(rename = "type")]
    pub kind: HashType,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// A refused row: where (a 1-based line, or `[index]` for JSON) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub at: String,
    pub message: String,
}

fn check(hash: &str, kind: &str, tags: Vec<String>) -> Result<Entry, String> {
    let kind = HashType::parse(kind).ok_or_else(|| format!("type: `{kind}` is not pdq, md5 or sha256"))?;
    let hash = hash.trim().to_ascii_lowercase();
    if hash.len() != kind.hex_len() || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("hash: `{hash}` is not a {} hash ({} hexadecimal digits)", kind.as_str(), kind.hex_len()));
    }
    let tags = tags.into_iter().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect();
    Ok(Entry { hash, kind, tags })
}

/// Parses a CSV hash list with the header `hash,type,tags` (tags optional).
pub fn parse_csv(text: &str) -> Result<Vec<Entry>, Vec<RowError>> {
    let text = text.trim_start_matches('\u{feff}');
    let mut lines = text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(vec![RowError { at: "line 1".into(), message: "the file is empty; the header is hash,type,tags".into() }]);
    };
    let columns: Vec<String> = header.split(',').map(|c| c.trim().to_ascii_lowercase()).collect();
    if columns.len() < 2 || columns[0] != "hash" || columns[1] != "type" || columns.get(2).is_some_and(|c| c != "tags") || columns.len() > 3
    {
        return Err(vec![RowError { at: "line 1".into(), message: format!("the header must be hash,type,tags, found `{header}`") }]);
    }
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for (index, line) in lines {
        let fields: Vec<&str> = line.splitn(3, ',').collect();
        let at = format!("line {}", index + 1);
        if fields.len() < 2 {
            errors.push(RowError { at, message: "expected hash,type[,tags]".into() });
            continue;
        }
        let tags = fields.get(2).map(|t| t.trim().trim_matches('"').split(';').map(str::to_owned).collect()).unwrap_or_default();
        match check(fields[0], fields[1], tags) {
            Ok(entry) => entries.push(entry),
            Err(message) => errors.push(RowError { at, message }),
        }
    }
    if errors.is_empty() { Ok(entries) } else { Err(errors) }
}

/// Parses a JSON hash list: an array of `{"hash", "type", "tags"}`.
pub fn parse_json(text: &str) -> Result<Vec<Entry>, Vec<RowError>> {
    #[derive(Deserialize)]
    struct Raw {
        hash: String,
        #[serde(rename = "type")]
        kind: String,
        #[serde(default)]
        tags: Vec<String>,
    }
    let rows: Vec<serde_json::Value> = serde_json::from_str(text)
        .map_err(|err| vec![RowError { at: format!("line {}", err.line()), message: format!("not a JSON array of entries: {err}") }])?;
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for (index, row) in rows.into_iter().enumerate() {
        let at = format!("[{index}]");
        match serde_json::from_value::<Raw>(row) {
            Ok(raw) => match check(&raw.hash, &raw.kind, raw.tags) {
                Ok(entry) => entries.push(entry),
                Err(message) => errors.push(RowError { at, message }),
            },
            Err(err) => errors.push(RowError { at, message: err.to_string() }),
        }
    }
    if errors.is_empty() { Ok(entries) } else { Err(errors) }
}

/// Writes entries as CSV in the same shape.
pub fn to_csv(entries: &[Entry]) -> String {
    let mut out = String::from("hash,type,tags\n");
    for entry in entries {
        let tags = entry.tags.iter().map(|t| t.replace([',', ';', '\n'], " ")).collect::<Vec<_>>().join(";");
        out.push_str(&format!("{},{},{}\n", entry.hash, entry.kind.as_str(), tags));
    }
    out
}

/// Writes entries as a JSON array in the same shape.
pub fn to_json(entries: &[Entry]) -> String {
    serde_json::to_string_pretty(entries).unwrap_or_else(|_| "[]".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PDQ: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";

    #[test]
    fn csv_round_trips_and_names_bad_lines() {
        let text = format!("hash,type,tags\n{},PDQ,csam;series-a\n\nd41d8cd98f00b204e9800998ecf8427e,md5,\n", PDQ.to_uppercase());
        let entries = parse_csv(&text).expect("valid");
        assert_eq!(entries[0], Entry { hash: PDQ.into(), kind: HashType::Pdq, tags: vec!["csam".into(), "series-a".into()] });
        assert_eq!(entries[1].tags, Vec::<String>::new());
        assert_eq!(parse_csv(&to_csv(&entries)).expect("again"), entries);

        let bad = format!("hash,type\n{PDQ},pdq\nabc,md5\n{PDQ},sha1\n\nnothing\n");
        let errors = parse_csv(&bad).expect_err("three bad rows");
        let at: Vec<&str> = errors.iter().map(|e| e.at.as_str()).collect();
        assert_eq!(at, ["line 3", "line 4", "line 6"], "{errors:?}");
        assert!(errors[0].message.starts_with("hash:") && errors[1].message.starts_with("type:"));
        assert!(parse_csv("").is_err());
        assert!(parse_csv("md5,hash\n").is_err());
    }

    #[test]
    fn json_names_bad_entries_by_index() {
        let good = format!(r#"[{{"hash": "{PDQ}", "type": "pdq", "tags": ["x"]}}]"#);
        assert_eq!(parse_json(&good).expect("valid").len(), 1);
        let entries = parse_json(&good).expect("valid");
        assert_eq!(parse_json(&to_json(&entries)).expect("again"), entries);
        let bad = format!(r#"[{{"hash": "{PDQ}", "type": "pdq"}}, {{"hash": "zz", "type": "md5"}}, {{"type": "md5"}}]"#);
        let errors = parse_json(&bad).expect_err("two bad");
        assert_eq!(errors.iter().map(|e| e.at.as_str()).collect::<Vec<_>>(), ["[1]", "[2]"]);
        assert!(errors[1].message.contains("hash"), "{errors:?}");
        assert!(parse_json("{").expect_err("not JSON")[0].at.starts_with("line"));
    }
}
