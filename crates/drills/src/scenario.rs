//! Scenarios: objectives, narrative, briefing, timed injects with their
//! expectations, and technical challenges. A scenario is kept whole as JSON
//! (`rampart-scenario/1`), validated on every save and import; it is also
//! imported from a master scenario events list (MSEL) in CSV.
//!
//! Static flags are hashed when a scenario is saved ([`Scenario::seal`]), so
//! neither the database nor an export holds them in clear; an exported
//! scenario imports again with its hashes.

use crate::error::{DrillsError, invalid};
use crate::flags;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

pub const FORMAT: &str = "rampart-scenario/1";
pub const CHANNELS: [&str; 6] = ["message", "email", "news", "social", "document", "challenge"];
pub const EXPECTATION_KINDS: [&str; 4] = ["manual", "text", "document", "challenge"];
pub const SCORING: [&str; 3] = ["static", "linear", "logarithmic"];
const MAX_INJECTS: usize = 1_000;
const MAX_CHALLENGES: usize = 500;
const MAX_TEXT: usize = 20_000;
/// Files travel inside the scenario as base64; keep them small.
const MAX_FILE_BYTES: usize = 2 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub format: String,
    pub title: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub narrative: String,
    /// What every participant reads before play.
    #[serde(default)]
    pub briefing: String,
    pub duration_minutes: i64,
    #[serde(default)]
    pub objectives: Vec<Objective>,
    #[serde(default)]
    pub injects: Vec<Inject>,
    #[serde(default)]
    pub challenges: Vec<Challenge>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Objective {
    pub key: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inject {
    pub key: String,
    pub title: String,
    /// Minutes of exercise time from the start.
    pub offset_minutes: i64,
    pub channel: String,
    /// Which teams receive it (their audience labels); empty for every team.
    #[serde(default)]
    pub audiences: Vec<String>,
    #[serde(default)]
    pub sender: String,
    #[serde(default)]
    pub content: String,
    #[serde(default)]
    pub depends_on: Vec<Dependency>,
    #[serde(default)]
    pub expectations: Vec<Expectation>,
    /// Documents that come with the inject (a ransom note, a log extract).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<ChallengeFile>,
}

/// An inject waits, per team, until another inject reached that team
/// (`delivered`) or the team answered it (`responded`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dependency {
    pub inject: String,
    #[serde(default = "delivered")]
    pub when: String,
}

fn delivered() -> String {
    "delivered".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    pub kind: String,
    pub title: String,
    pub score: i64,
    /// Minutes of exercise time after delivery; none for no deadline.
    #[serde(default)]
    pub deadline_minutes: Option<i64>,
    /// `any`: one player of the team meets it; `all`: every player must.
    #[serde(default = "any")]
    pub scope: String,
    #[serde(default)]
    pub objective: Option<String>,
    /// For `challenge` expectations: the challenge whose solve meets it.
    #[serde(default)]
    pub challenge: Option<String>,
}

fn any() -> String {
    "any".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Challenge {
    pub key: String,
    pub title: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "static_scoring")]
    pub scoring: String,
    pub value: i64,
    #[serde(default)]
    pub minimum: i64,
    #[serde(default)]
    pub decay: i64,
    pub flags: Vec<flags::FlagSpec>,
    /// 0 for unlimited.
    #[serde(default)]
    pub max_attempts: i64,
    #[serde(default)]
    pub hints: Vec<Hint>,
    #[serde(default)]
    pub prerequisites: Vec<String>,
    #[serde(default)]
    pub files: Vec<ChallengeFile>,
}

fn static_scoring() -> String {
    "static".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hint {
    pub text: String,
    #[serde(default)]
    pub cost: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChallengeFile {
    pub name: String,
    pub content_base64: String,
}

/// The demo world's scenario: a ransomware attack on a national telecom
/// operator spreading across a region; three hours, twenty injects, five
/// challenges.
pub fn demo() -> Result<Scenario, DrillsError> {
    Scenario::from_json(include_str!("../data/ransomware-telecom.json"))
}

impl Scenario {
    /// Reads a scenario from JSON; errors name the line and column, or the
    /// field path of the rule broken.
    pub fn from_json(text: &str) -> Result<Scenario, DrillsError> {
        let scenario: Scenario =
            serde_json::from_str(text).map_err(|err| invalid(format!("line {} column {}", err.line(), err.column()), err.to_string()))?;
        scenario.validate()?;
        Ok(scenario)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Hashes every static flag given in clear; call before storing.
    pub fn seal(&mut self) -> Result<(), DrillsError> {
        for challenge in &mut self.challenges {
            for flag in &mut challenge.flags {
                flag.seal()?;
            }
        }
        Ok(())
    }

    pub fn inject(&self, key: &str) -> Option<&Inject> {
        self.injects.iter().find(|inject| inject.key == key)
    }

    /// Checks every rule; the error names the field by its path, e.g.
    /// `injects[3].expectations[0].score`.
    pub fn validate(&self) -> Result<(), DrillsError> {
        if self.format != FORMAT {
            return Err(invalid("format", format!("must be {FORMAT:?}")));
        }
        text("title", &self.title, 200, true)?;
        text("summary", &self.summary, MAX_TEXT, false)?;
        text("narrative", &self.narrative, MAX_TEXT, false)?;
        text("briefing", &self.briefing, MAX_TEXT, false)?;
        if !(1..=60 * 24 * 14).contains(&self.duration_minutes) {
            return Err(invalid("duration_minutes", "must be between 1 minute and 14 days"));
        }
        if self.injects.len() > MAX_INJECTS {
            return Err(invalid("injects", format!("at most {MAX_INJECTS}")));
        }
        if self.challenges.len() > MAX_CHALLENGES {
            return Err(invalid("challenges", format!("at most {MAX_CHALLENGES}")));
        }
        let objectives = unique_keys("objectives", self.objectives.iter().map(|o| o.key.as_str()))?;
        for (i, objective) in self.objectives.iter().enumerate() {
            text(&format!("objectives[{i}].title"), &objective.title, 300, true)?;
            text(&format!("objectives[{i}].description"), &objective.description, MAX_TEXT, false)?;
        }
        let injects = unique_keys("injects", self.injects.iter().map(|i| i.key.as_str()))?;
        let challenges = unique_keys("challenges", self.challenges.iter().map(|c| c.key.as_str()))?;
        for (i, inject) in self.injects.iter().enumerate() {
            let at = format!("injects[{i}]");
            text(&format!("{at}.title"), &inject.title, 300, true)?;
            text(&format!("{at}.content"), &inject.content, MAX_TEXT, false)?;
            text(&format!("{at}.sender"), &inject.sender, 200, false)?;
            if !(0..=self.duration_minutes).contains(&inject.offset_minutes) {
                return Err(invalid(format!("{at}.offset_minutes"), "must be between 0 and the scenario's duration"));
            }
            if !CHANNELS.contains(&inject.channel.as_str()) {
                return Err(invalid(format!("{at}.channel"), format!("{:?} is not one of {}", inject.channel, CHANNELS.join(", "))));
            }
            files(&format!("{at}.attachments"), &inject.attachments)?;
            for (a, audience) in inject.audiences.iter().enumerate() {
                audience_label(&format!("{at}.audiences[{a}]"), audience)?;
            }
            for (d, dependency) in inject.depends_on.iter().enumerate() {
                if !injects.contains(dependency.inject.as_str()) || dependency.inject == inject.key {
                    return Err(invalid(format!("{at}.depends_on[{d}].inject"), format!("{:?} is not another inject", dependency.inject)));
                }
                if !matches!(dependency.when.as_str(), "delivered" | "responded") {
                    return Err(invalid(format!("{at}.depends_on[{d}].when"), "must be delivered or responded"));
                }
            }
            for (e, expectation) in inject.expectations.iter().enumerate() {
                let at = format!("{at}.expectations[{e}]");
                if !EXPECTATION_KINDS.contains(&expectation.kind.as_str()) {
                    return Err(invalid(format!("{at}.kind"), format!("must be one of {}", EXPECTATION_KINDS.join(", "))));
                }
                text(&format!("{at}.title"), &expectation.title, 300, true)?;
                if !(0..=10_000).contains(&expectation.score) {
                    return Err(invalid(format!("{at}.score"), "must be between 0 and 10000"));
                }
                if expectation.deadline_minutes.is_some_and(|m| !(1..=60 * 24 * 14).contains(&m)) {
                    return Err(invalid(format!("{at}.deadline_minutes"), "must be at least 1 minute"));
                }
                if !matches!(expectation.scope.as_str(), "any" | "all") {
                    return Err(invalid(format!("{at}.scope"), "must be any or all"));
                }
                if let Some(objective) = &expectation.objective
                    && !objectives.contains(objective.as_str())
                {
                    return Err(invalid(format!("{at}.objective"), format!("{objective:?} is not an objective of the scenario")));
                }
                match (&expectation.kind[..], &expectation.challenge) {
                    ("challenge", Some(key)) if challenges.contains(key.as_str()) => {}
                    ("challenge", _) => return Err(invalid(format!("{at}.challenge"), "must name a challenge of the scenario")),
                    (_, Some(_)) => return Err(invalid(format!("{at}.challenge"), "only challenge expectations name a challenge")),
                    _ => {}
                }
            }
        }
        dependency_cycle(&self.injects)?;
        for (i, challenge) in self.challenges.iter().enumerate() {
            self.validate_challenge(&format!("challenges[{i}]"), challenge, &challenges)?;
        }
        Ok(())
    }

    fn validate_challenge(&self, at: &str, challenge: &Challenge, keys: &BTreeSet<&str>) -> Result<(), DrillsError> {
        text(&format!("{at}.title"), &challenge.title, 300, true)?;
        text(&format!("{at}.category"), &challenge.category, 100, false)?;
        text(&format!("{at}.description"), &challenge.description, MAX_TEXT, false)?;
        if !SCORING.contains(&challenge.scoring.as_str()) {
            return Err(invalid(format!("{at}.scoring"), format!("must be one of {}", SCORING.join(", "))));
        }
        if !(1..=100_000).contains(&challenge.value) {
            return Err(invalid(format!("{at}.value"), "must be between 1 and 100000"));
        }
        if challenge.scoring != "static" {
            if !(0..=challenge.value).contains(&challenge.minimum) {
                return Err(invalid(format!("{at}.minimum"), "must be between 0 and the value"));
            }
            if challenge.decay < 1 {
                return Err(invalid(format!("{at}.decay"), "must be at least 1 for dynamic scoring"));
            }
        }
        if challenge.flags.is_empty() {
            return Err(invalid(format!("{at}.flags"), "a challenge needs at least one flag"));
        }
        for (f, flag) in challenge.flags.iter().enumerate() {
            flag.validate(&format!("{at}.flags[{f}]"))?;
        }
        if !(0..=1_000).contains(&challenge.max_attempts) {
            return Err(invalid(format!("{at}.max_attempts"), "must be between 0 (unlimited) and 1000"));
        }
        for (h, hint) in challenge.hints.iter().enumerate() {
            text(&format!("{at}.hints[{h}].text"), &hint.text, MAX_TEXT, true)?;
            if !(0..=challenge.value).contains(&hint.cost) {
                return Err(invalid(format!("{at}.hints[{h}].cost"), "must be between 0 and the challenge's value"));
            }
        }
        for (p, prerequisite) in challenge.prerequisites.iter().enumerate() {
            if !keys.contains(prerequisite.as_str()) || *prerequisite == challenge.key {
                return Err(invalid(format!("{at}.prerequisites[{p}]"), format!("{prerequisite:?} is not another challenge")));
            }
        }
        files(&format!("{at}.files"), &challenge.files)?;
        Ok(())
    }
}

/// Files carried in the scenario as base64: plain names, at most 2 MiB each.
fn files(at: &str, list: &[ChallengeFile]) -> Result<(), DrillsError> {
    for (n, file) in list.iter().enumerate() {
        text(&format!("{at}[{n}].name"), &file.name, 200, true)?;
        if file.name.contains(['/', '\\']) || file.name.starts_with('.') {
            return Err(invalid(format!("{at}[{n}].name"), "must be a plain file name"));
        }
        let bytes = data_encoding::BASE64
            .decode(file.content_base64.as_bytes())
            .map_err(|err| invalid(format!("{at}[{n}].content_base64"), format!("is not base64: {err}")))?;
        if bytes.len() > MAX_FILE_BYTES {
            return Err(invalid(format!("{at}[{n}].content_base64"), "files must be at most 2 MiB"));
        }
    }
    Ok(())
}

fn text(field: &str, value: &str, max: usize, required: bool) -> Result<(), DrillsError> {
    if required && value.trim().is_empty() {
        return Err(invalid(field, "is required"));
    }
    if value.chars().count() > max {
        return Err(invalid(field, format!("must be at most {max} characters")));
    }
    Ok(())
}

/// Keys and audiences are short labels: letters, digits, `-`, `_`, `.`.
pub(crate) fn label(field: &str, value: &str) -> Result<(), DrillsError> {
    let ok = !value.is_empty() && value.len() <= 64 && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok { Ok(()) } else { Err(invalid(field, format!("{value:?} must be 1 to 64 letters, digits, '-', '_' or '.'"))) }
}

pub(crate) fn audience_label(field: &str, value: &str) -> Result<(), DrillsError> {
    label(field, value)
}

fn unique_keys<'a>(field: &str, keys: impl Iterator<Item = &'a str>) -> Result<BTreeSet<&'a str>, DrillsError> {
    let mut seen = BTreeSet::new();
    for (i, key) in keys.enumerate() {
        label(&format!("{field}[{i}].key"), key)?;
        if !seen.insert(key) {
            return Err(invalid(format!("{field}[{i}].key"), format!("{key:?} is used twice")));
        }
    }
    Ok(seen)
}

/// Injects that wait on each other in a ring would never be delivered.
fn dependency_cycle(injects: &[Inject]) -> Result<(), DrillsError> {
    let edges: HashMap<&str, Vec<&str>> =
        injects.iter().map(|i| (i.key.as_str(), i.depends_on.iter().map(|d| d.inject.as_str()).collect())).collect();
    // 0 unvisited, 1 on the current path, 2 done
    let mut state: HashMap<&str, u8> = HashMap::new();
    fn visit<'a>(key: &'a str, edges: &HashMap<&'a str, Vec<&'a str>>, state: &mut HashMap<&'a str, u8>) -> Option<&'a str> {
        match state.get(key) {
            Some(1) => return Some(key),
            Some(2) => return None,
            _ => {}
        }
        state.insert(key, 1);
        for next in edges.get(key).into_iter().flatten() {
            if let Some(found) = visit(next, edges, state) {
                return Some(found);
            }
        }
        state.insert(key, 2);
        None
    }
    for inject in injects {
        if let Some(key) = visit(&inject.key, &edges, &mut state) {
            return Err(invalid("injects", format!("inject {key:?} depends on itself through other injects")));
        }
    }
    Ok(())
}

/// Reads a master scenario events list. The first row names the columns
/// (any order, any case): `time` (minutes, or `H:MM`), `inject` (the title),
/// `from`, `to` (audiences separated by `;`, or `all`), `channel`,
/// `description`, `expected action`, and optionally `objective`, `score`
/// and `deadline` (minutes). Each row becomes an inject; an expected action
/// becomes a manual expectation. Errors name the line and column.
pub fn from_msel(title: &str, csv_text: &str) -> Result<Scenario, DrillsError> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::All).from_reader(csv_text.as_bytes());
    let headers = reader.headers().map_err(|err| invalid("line 1", err.to_string()))?.clone();
    let column = |names: &[&str]| {
        headers.iter().position(|h| {
            let h = h.to_ascii_lowercase().replace(['_', '-'], " ");
            names.contains(&h.as_str())
        })
    };
    let time = column(&["time", "offset", "time (min)", "minutes"]).ok_or_else(|| invalid("line 1", "no \"time\" column"))?;
    let title_col = column(&["inject", "title", "event"]).ok_or_else(|| invalid("line 1", "no \"inject\" column"))?;
    let from = column(&["from", "sender"]);
    let to = column(&["to", "audience", "recipients"]);
    let channel = column(&["channel", "method", "delivery"]);
    let description = column(&["description", "content", "inject description", "message"]);
    let expected = column(&["expected action", "expected player action", "expected response"]);
    let objective = column(&["objective"]);
    let score = column(&["score", "points"]);
    let deadline = column(&["deadline", "deadline (min)"]);
    let mut objectives: Vec<Objective> = Vec::new();
    let mut injects = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let record = record.map_err(|err| invalid(format!("line {line}"), err.to_string()))?;
        let get = |col: Option<usize>| col.and_then(|c| record.get(c)).unwrap_or("").to_owned();
        let cell = |col: usize, name: &str| format!("line {line}, column {} ({name})", col + 1);
        let offset = parse_minutes(&get(Some(time))).ok_or_else(|| invalid(cell(time, "time"), "must be minutes or H:MM"))?;
        let channel_text = get(channel).to_ascii_lowercase();
        let channel_name = match channel_text.as_str() {
            "" | "message" | "platform" | "chat" => "message",
            "email" | "e-mail" | "mail" => "email",
            "news" | "article" | "media" => "news",
            "social" | "social media" | "tweet" | "post" => "social",
            "document" | "doc" | "file" => "document",
            "challenge" | "technical" | "ctf" => "challenge",
            other => {
                return Err(invalid(cell(channel.unwrap_or(0), "channel"), format!("{other:?} is not one of {}", CHANNELS.join(", "))));
            }
        };
        let audiences: Vec<String> = get(to)
            .split([';', ','])
            .map(|a| a.trim().to_ascii_lowercase().replace(' ', "_"))
            .filter(|a| !a.is_empty() && a != "all")
            .collect();
        for audience in &audiences {
            audience_label(&cell(to.unwrap_or(0), "to"), audience)?;
        }
        let objective_key = get(objective);
        let objective_key = (!objective_key.is_empty()).then(|| objective_key.replace(' ', "_"));
        if let Some(key) = &objective_key
            && !objectives.iter().any(|o| &o.key == key)
        {
            label(&cell(objective.unwrap_or(0), "objective"), key)?;
            objectives.push(Objective { key: key.clone(), title: key.clone(), description: String::new() });
        }
        let mut expectations = Vec::new();
        let expected_text = get(expected);
        if !expected_text.is_empty() {
            let score_text = get(score);
            let points = if score_text.is_empty() {
                10
            } else {
                score_text.parse::<i64>().map_err(|_| invalid(cell(score.unwrap_or(0), "score"), "must be a whole number"))?
            };
            let deadline_text = get(deadline);
            let deadline_minutes = if deadline_text.is_empty() {
                None
            } else {
                Some(parse_minutes(&deadline_text).ok_or_else(|| invalid(cell(deadline.unwrap_or(0), "deadline"), "must be minutes"))?)
            };
            expectations.push(Expectation {
                kind: "manual".into(),
                title: expected_text,
                score: points,
                deadline_minutes,
                scope: "any".into(),
                objective: objective_key.clone(),
                challenge: None,
            });
        }
        injects.push(Inject {
            key: format!("I{:02}", injects.len() + 1),
            title: get(Some(title_col)),
            offset_minutes: offset,
            channel: channel_name.into(),
            audiences,
            sender: get(from),
            content: get(description),
            depends_on: Vec::new(),
            expectations,
            attachments: Vec::new(),
        });
    }
    if injects.is_empty() {
        return Err(invalid("line 2", "the list has no injects"));
    }
    let last = injects.iter().map(|i| i.offset_minutes).max().unwrap_or(0);
    let scenario = Scenario {
        format: FORMAT.into(),
        title: title.trim().to_owned(),
        summary: String::new(),
        narrative: String::new(),
        briefing: String::new(),
        duration_minutes: (last + 30).max(60),
        objectives,
        injects,
        challenges: Vec::new(),
    };
    // Report a broken row by its line rather than by its JSON path.
    scenario.validate().map_err(|err| match err {
        DrillsError::Invalid { field, message } if field.starts_with("injects[") => {
            let index: usize = field[8..].split(']').next().and_then(|n| n.parse().ok()).unwrap_or(0);
            invalid(format!("line {} ({})", index + 2, field), message)
        }
        other => other,
    })?;
    Ok(scenario)
}

/// `90`, `1:30` and `01:30:00` are all ninety minutes.
fn parse_minutes(text: &str) -> Option<i64> {
    let text = text.trim().trim_start_matches('+');
    let parts: Vec<&str> = text.split(':').collect();
    let numbers: Option<Vec<i64>> = parts.iter().map(|p| p.parse::<i64>().ok().filter(|n| *n >= 0)).collect();
    match numbers?.as_slice() {
        [minutes] => Some(*minutes),
        [hours, minutes] if *minutes < 60 => Some(hours * 60 + minutes),
        [hours, minutes, 0] if *minutes < 60 => Some(hours * 60 + minutes),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_in_three_spellings() {
        assert_eq!(parse_minutes("90"), Some(90));
        assert_eq!(parse_minutes("1:30"), Some(90));
        assert_eq!(parse_minutes("01:30:00"), Some(90));
        assert_eq!(parse_minutes("1:75"), None);
        assert_eq!(parse_minutes("-5"), None);
        assert_eq!(parse_minutes("soon"), None);
    }
}
