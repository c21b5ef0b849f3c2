//! An index framework as data: pillars → indicators → (sub-indicators →
//! (micro-indicators →)) questions, with per-node weights and answer types.
//!
//! An edition lives in the repository as two files, so editors diff and
//! review it like code: `edition.toml` (name, year, pillar maximum,
//! precision, ranking, tiers) and `nodes.csv` (one row per node, parents
//! before children). Editions drafted in the UI are stored as the same
//! [`Framework`] value serialised to JSON; a frozen edition never changes.

use crate::GciError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Pillar,
    Indicator,
    SubIndicator,
    MicroIndicator,
    Question,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Pillar => "pillar",
            Level::Indicator => "indicator",
            Level::SubIndicator => "sub_indicator",
            Level::MicroIndicator => "micro_indicator",
            Level::Question => "question",
        }
    }

    fn parse(text: &str) -> Option<Level> {
        [Level::Pillar, Level::Indicator, Level::SubIndicator, Level::MicroIndicator, Level::Question]
            .into_iter()
            .find(|level| level.as_str() == text.trim())
    }
}

/// How a question is answered, and so how an answer scores in [0, 1].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum AnswerType {
    /// yes = 1, no = 0 (GCI 2020).
    YesNo,
    /// in place = 1, partially in place or in progress = 0.5, not in place = 0 (GCI 2024).
    ThreeLevel,
    /// One of the options, each with its score.
    Choice { options: Vec<(String, f64)> },
    /// A number scored linearly up to `target`, which scores 1.
    Number { target: f64 },
}

impl AnswerType {
    fn parse(text: &str) -> Result<AnswerType, String> {
        let text = text.trim();
        if text == "yes_no" {
            return Ok(AnswerType::YesNo);
        }
        if text == "three_level" {
            return Ok(AnswerType::ThreeLevel);
        }
        if let Some(target) = text.strip_prefix("number:") {
            let target: f64 = target.trim().parse().map_err(|_| format!("number target {target:?} is not a number"))?;
            if !(target.is_finite() && target > 0.0) {
                return Err("number target must be positive".into());
            }
            return Ok(AnswerType::Number { target });
        }
        if let Some(options) = text.strip_prefix("choice:") {
            // choice:none=0|some=0.5|all=1
            let mut parsed = Vec::new();
            for option in options.split('|') {
                let (label, score) = option.split_once('=').ok_or_else(|| format!("choice option {option:?} is not label=score"))?;
                let score: f64 = score.trim().parse().map_err(|_| format!("choice score {score:?} is not a number"))?;
                if !(0.0..=1.0).contains(&score) {
                    return Err(format!("choice score {score} is outside 0..1"));
                }
                parsed.push((label.trim().to_owned(), score));
            }
            if parsed.len() < 2 {
                return Err("a choice needs at least two options".into());
            }
            return Ok(AnswerType::Choice { options: parsed });
        }
        Err(format!("answer {text:?} is not yes_no, three_level, choice:… or number:…"))
    }

    /// The answer values a form offers, in display order.
    pub fn values(&self) -> Vec<String> {
        match self {
            AnswerType::YesNo => vec!["yes".into(), "no".into()],
            AnswerType::ThreeLevel => vec!["in_place".into(), "partial".into(), "not_in_place".into()],
            AnswerType::Choice { options } => options.iter().map(|(label, _)| label.clone()).collect(),
            AnswerType::Number { .. } => Vec::new(),
        }
    }

    /// Scores an answer in [0, 1]; an answer the type does not know is an
    /// error naming the value, so a bad import or form post never scores 0
    /// silently.
    pub fn score(&self, value: &str) -> Result<f64, String> {
        let value = value.trim();
        match self {
            AnswerType::YesNo => match value {
                "yes" => Ok(1.0),
                "no" => Ok(0.0),
                _ => Err(format!("{value:?} is not yes or no")),
            },
            AnswerType::ThreeLevel => match value {
                "in_place" => Ok(1.0),
                "partial" => Ok(0.5),
                "not_in_place" => Ok(0.0),
                _ => Err(format!("{value:?} is not in_place, partial or not_in_place")),
            },
            AnswerType::Choice { options } => options
                .iter()
                .find(|(label, _)| label == value)
                .map(|(_, score)| *score)
                .ok_or_else(|| format!("{value:?} is not one of the options")),
            AnswerType::Number { target } => {
                let number: f64 = value.parse().map_err(|_| format!("{value:?} is not a number"))?;
                if !number.is_finite() || number < 0.0 {
                    return Err(format!("{value:?} must be zero or more"));
                }
                Ok((number / target).min(1.0))
            }
        }
    }

    /// The answer whose score is nearest to `score` (in [0, 1]); ties go to
    /// the higher answer. `nearest(1.0)` is the best answer. Used to estimate
    /// answers from another assessment, as the strategy gap report does.
    pub fn nearest(&self, score: f64) -> String {
        let score = score.clamp(0.0, 1.0);
        match self {
            AnswerType::Number { target } => format!("{}", target * score),
            AnswerType::Choice { options } => {
                let mut best: Option<&(String, f64)> = None;
                for option in options {
                    let closer = best.is_none_or(|b| {
                        (option.1 - score).abs() < (b.1 - score).abs() - 1e-12
                            || ((option.1 - score).abs() - (b.1 - score).abs()).abs() <= 1e-12 && option.1 > b.1
                    });
                    if closer {
                        best = Some(option);
                    }
                }
                best.map(|(label, _)| label.clone()).unwrap_or_default()
            }
            AnswerType::YesNo => if score >= 0.5 { "yes" } else { "no" }.to_owned(),
            AnswerType::ThreeLevel => if score >= 0.75 {
                "in_place"
            } else if score >= 0.25 {
                "partial"
            } else {
                "not_in_place"
            }
            .to_owned(),
        }
    }

    fn to_text(&self) -> String {
        match self {
            AnswerType::YesNo => "yes_no".into(),
            AnswerType::ThreeLevel => "three_level".into(),
            AnswerType::Choice { options } => {
                format!("choice:{}", options.iter().map(|(label, score)| format!("{label}={score}")).collect::<Vec<_>>().join("|"))
            }
            AnswerType::Number { target } => format!("number:{target}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub id: String,
    pub parent: Option<String>,
    pub level: Level,
    pub weight: f64,
    pub answer: Option<AnswerType>,
    /// Whether the name is as published, or written for Rampart where the
    /// published methodology gives no detail.
    pub published: bool,
    pub name: String,
}

/// Parses tiers as an editor types them, one per line: `number,name,min`
/// (highest tier first), naming the line of a bad one. Empty text is no tiers.
pub fn parse_tiers(text: &str) -> Result<Vec<Tier>, GciError> {
    let mut tiers: Vec<Tier> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let bad = |message: String| GciError::Framework { file: "tiers".into(), line: index + 1, message };
        let parts: Vec<&str> = line.split(',').map(str::trim).collect();
        let [number, name, min] = parts[..] else {
            return Err(bad(format!("{line:?} is not number,name,min")));
        };
        let number: u8 = number.parse().map_err(|_| bad(format!("tier number {number:?} is not a whole number")))?;
        if usize::from(number) != tiers.len() + 1 {
            return Err(bad(format!("tier {number} is out of order: tiers are numbered 1, 2, 3, … from the highest")));
        }
        if name.is_empty() {
            return Err(bad("the tier needs a name".into()));
        }
        let min: f64 =
            min.parse().ok().filter(|m: &f64| m.is_finite() && *m >= 0.0).ok_or_else(|| bad(format!("minimum {min:?} is not a score")))?;
        if tiers.last().is_some_and(|previous| previous.min <= min) {
            return Err(bad(format!("tier {number} must start below tier {}", number - 1)));
        }
        tiers.push(Tier { number, name: name.to_owned(), min });
    }
    Ok(tiers)
}

/// How ties are ranked. GCI 2020 ranks dense on the published rounding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RankMethod {
    /// 1, 2, 2, 3
    #[default]
    Dense,
    /// 1, 2, 2, 4 (competition ranking)
    Standard,
    /// 1, 2.5, 2.5, 4
    Fractional,
}

impl RankMethod {
    pub fn parse(text: &str) -> Option<RankMethod> {
        match text.trim() {
            "dense" => Some(RankMethod::Dense),
            "standard" => Some(RankMethod::Standard),
            "fractional" => Some(RankMethod::Fractional),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            RankMethod::Dense => "dense",
            RankMethod::Standard => "standard",
            RankMethod::Fractional => "fractional",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tier {
    pub number: u8,
    pub name: String,
    /// Lowest overall score in this tier (inclusive).
    pub min: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Framework {
    pub code: String,
    pub name: String,
    pub year: i32,
    /// Points a pillar is worth at full marks; the overall maximum is the sum.
    pub pillar_max: f64,
    /// Decimal places scores are published with; ties are decided on them.
    pub precision: u32,
    pub ranking: RankMethod,
    /// Whether the edition publishes ranks at all (GCI 2024 does not).
    pub publishes_ranks: bool,
    /// Highest tier first; empty when the edition has no tiers.
    pub tiers: Vec<Tier>,
    pub nodes: Vec<Node>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EditionFile {
    code: String,
    name: String,
    year: i32,
    pillar_max: f64,
    precision: u32,
    #[serde(default)]
    ranking: Option<String>,
    #[serde(default = "yes")]
    publishes_ranks: bool,
    #[serde(default)]
    tiers: Vec<Tier>,
}

fn yes() -> bool {
    true
}

/// The editions shipped with Rampart: (code, edition.toml, nodes.csv).
pub const SHIPPED: [(&str, &str, &str); 2] = [
    ("gci-2020", include_str!("../frameworks/gci-2020/edition.toml"), include_str!("../frameworks/gci-2020/nodes.csv")),
    ("gci-2024", include_str!("../frameworks/gci-2024/edition.toml"), include_str!("../frameworks/gci-2024/nodes.csv")),
];

/// A shipped edition by code.
pub fn shipped(code: &str) -> Result<Framework, GciError> {
    let (_, edition, nodes) = SHIPPED.iter().find(|(c, _, _)| *c == code).ok_or(GciError::NotFound("edition"))?;
    Framework::parse(edition, nodes)
}

impl Framework {
    /// Parses an edition from its two files and validates it.
    pub fn parse(edition_toml: &str, nodes_csv: &str) -> Result<Framework, GciError> {
        let edition: EditionFile = toml::from_str(edition_toml).map_err(|err| GciError::Framework {
            file: "edition.toml".into(),
            line: err.span().map(|span| edition_toml[..span.start].lines().count().max(1)).unwrap_or(1),
            message: err.message().to_owned(),
        })?;
        let ranking = match edition.ranking.as_deref() {
            None => RankMethod::Dense,
            Some(text) => RankMethod::parse(text).ok_or_else(|| GciError::Framework {
                file: "edition.toml".into(),
                line: 1,
                message: format!("ranking {text:?} is not dense, standard or fractional"),
            })?,
        };
        let nodes = parse_nodes(nodes_csv)?;
        let framework = Framework {
            code: edition.code,
            name: edition.name,
            year: edition.year,
            pillar_max: edition.pillar_max,
            precision: edition.precision,
            ranking,
            publishes_ranks: edition.publishes_ranks,
            tiers: edition.tiers,
            nodes,
        };
        framework.validate().map_err(|message| GciError::Framework { file: "edition.toml".into(), line: 1, message })?;
        Ok(framework)
    }

    /// This edition with its nodes replaced from CSV (and its tiers, when
    /// given), validated by the same rules as a shipped edition.
    pub fn with_nodes(&self, nodes_csv: &str, tiers: Option<Vec<Tier>>) -> Result<Framework, GciError> {
        let mut next = self.clone();
        next.nodes = parse_nodes(nodes_csv)?;
        if let Some(tiers) = tiers {
            next.tiers = tiers;
        }
        next.validate().map_err(|message| GciError::Framework { file: "nodes.csv".into(), line: 1, message })?;
        Ok(next)
    }

    /// The nodes as CSV, in the shape [`Framework::parse`] reads.
    pub fn nodes_csv(&self) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let _ = writer.write_record(["id", "parent", "level", "weight", "answer", "source", "name"]);
        for node in &self.nodes {
            let _ = writer.write_record([
                node.id.as_str(),
                node.parent.as_deref().unwrap_or(""),
                node.level.as_str(),
                &format_weight(node.weight),
                &node.answer.as_ref().map(AnswerType::to_text).unwrap_or_default(),
                if node.published { "published" } else { "placeholder" },
                node.name.as_str(),
            ]);
        }
        String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    /// Checks the rules every framework keeps, whether shipped or edited:
    /// the tree shape, positive weights, answer types on questions only,
    /// tiers in descending order.
    pub fn validate(&self) -> Result<(), String> {
        if self.code.trim().is_empty() || self.name.trim().is_empty() {
            return Err("an edition needs a code and a name".into());
        }
        if !(self.pillar_max.is_finite() && self.pillar_max > 0.0) {
            return Err("pillar_max must be positive".into());
        }
        if self.precision > 6 {
            return Err("precision must be at most 6 decimal places".into());
        }
        for pair in self.tiers.windows(2) {
            if pair[0].min <= pair[1].min {
                return Err(format!("tier {} must start above tier {}", pair[0].number, pair[1].number));
            }
        }
        // The per-row rules are the ones the CSV parser applies line by line.
        for count in 1..=self.nodes.len() {
            check_row(&self.nodes[..count]).map_err(|message| format!("node {}: {message}", self.nodes[count - 1].id))?;
        }
        if !self.nodes.iter().any(|node| node.level == Level::Pillar) {
            return Err("an edition needs at least one pillar".into());
        }
        for node in &self.nodes {
            if node.level != Level::Question && self.children(&node.id).next().is_none() {
                return Err(format!("node {}: a {} needs at least one child", node.id, node.level.as_str()));
            }
        }
        Ok(())
    }

    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|node| node.id == id)
    }

    pub fn pillars(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(|node| node.level == Level::Pillar)
    }

    pub fn questions(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(|node| node.level == Level::Question)
    }

    pub fn children<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.nodes.iter().filter(move |node| node.parent.as_deref() == Some(id))
    }

    /// The ancestor of `id` at `level` (a question's indicator, pillar…).
    pub fn ancestor(&self, id: &str, level: Level) -> Option<&Node> {
        let mut node = self.node(id)?;
        loop {
            if node.level == level {
                return Some(node);
            }
            node = self.node(node.parent.as_deref()?)?;
        }
    }

    pub fn count(&self, level: Level) -> usize {
        self.nodes.iter().filter(|node| node.level == level).count()
    }

    pub fn max_overall(&self) -> f64 {
        self.pillar_max * self.count(Level::Pillar) as f64
    }

    /// The tier an overall score falls in (scores on the 0–100 scale of
    /// the overall maximum).
    pub fn tier_of(&self, overall: f64) -> Option<&Tier> {
        let percent = overall / self.max_overall() * 100.0;
        self.tiers.iter().find(|tier| round_to(percent, self.precision) >= tier.min).or(self.tiers.last())
    }

    /// Rounds to the edition's published precision.
    pub fn round(&self, value: f64) -> f64 {
        round_to(value, self.precision)
    }

    /// Counts per level, for the catalogue and tests.
    pub fn shape(&self) -> BTreeMap<&'static str, usize> {
        let mut shape = BTreeMap::new();
        for node in &self.nodes {
            *shape.entry(node.level.as_str()).or_default() += 1;
        }
        shape
    }
}

pub fn round_to(value: f64, precision: u32) -> f64 {
    let factor = 10f64.powi(precision as i32);
    // Half away from zero, as published tables round; the small nudge keeps
    // 0.125 → 0.13 when binary floating point stores it as 0.12499999….
    (value * factor + value.signum() * 1e-9).round() / factor
}

fn format_weight(weight: f64) -> String {
    if weight.fract() == 0.0 { format!("{weight:.0}") } else { weight.to_string() }
}

fn parse_nodes(text: &str) -> Result<Vec<Node>, GciError> {
    let fail = |line: usize, message: String| GciError::Framework { file: "nodes.csv".into(), line, message };
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader.headers().map_err(|err| fail(1, err.to_string()))?.clone();
    let expected = ["id", "parent", "level", "weight", "answer", "source", "name"];
    if headers.iter().map(str::trim).collect::<Vec<_>>() != expected {
        return Err(fail(1, format!("the header must be {}", expected.join(","))));
    }
    let mut nodes = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record = record.map_err(|err| fail(line, err.to_string()))?;
        let field = |i: usize| record.get(i).unwrap_or("").trim();
        let id = field(0);
        if id.is_empty() || id.contains(char::is_whitespace) {
            return Err(fail(line, format!("id {id:?} must be non-empty with no spaces")));
        }
        let level = Level::parse(field(2)).ok_or_else(|| fail(line, format!("level {:?} is not a known level", field(2))))?;
        let weight: f64 = field(3).parse().map_err(|_| fail(line, format!("weight {:?} is not a number", field(3))))?;
        let answer = match field(4) {
            "" => None,
            text => Some(AnswerType::parse(text).map_err(|message| fail(line, message))?),
        };
        let published = match field(5) {
            "published" => true,
            "placeholder" => false,
            other => return Err(fail(line, format!("source {other:?} is not published or placeholder"))),
        };
        let name = field(6);
        if name.is_empty() {
            return Err(fail(line, "name is empty".into()));
        }
        let parent = Some(field(1)).filter(|p| !p.is_empty()).map(str::to_owned);
        let node = Node { id: id.to_owned(), parent, level, weight, answer, published, name: name.to_owned() };
        // Check as we go so the error names the line that breaks the tree.
        nodes.push(node);
        check_row(&nodes).map_err(|message| fail(line, message))?;
    }
    Ok(nodes)
}

/// The per-row rules (everything but "has children", which needs the whole
/// file) for the row just added.
fn check_row(nodes: &[Node]) -> Result<(), String> {
    let Some((node, before)) = nodes.split_last() else { return Ok(()) };
    if before.iter().any(|other| other.id == node.id) {
        return Err(format!("id {} is used twice", node.id));
    }
    if !(node.weight.is_finite() && node.weight > 0.0) {
        return Err("weight must be positive".into());
    }
    if (node.level == Level::Question) != node.answer.is_some() {
        return Err("questions, and only questions, have an answer type".into());
    }
    match (&node.parent, node.level) {
        (None, Level::Pillar) => Ok(()),
        (None, _) => Err("only a pillar has no parent".into()),
        (Some(_), Level::Pillar) => Err("a pillar has no parent".into()),
        (Some(parent), level) => {
            let parent_node =
                before.iter().find(|other| &other.id == parent).ok_or_else(|| format!("parent {parent} is not defined above this line"))?;
            if parent_node.level >= level || (level == Level::Indicator && parent_node.level != Level::Pillar) {
                return Err(format!("a {} cannot sit under a {}", level.as_str(), parent_node.level.as_str()));
            }
            Ok(())
        }
    }
}
