//! The shipped models, read from CSV files under `frameworks/`. They are
//! data so an updated guide or model is a reviewed change to a file, not to
//! code; a file that breaks a rule is named with its line.

use crate::StrategyError;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// The guide's areas: its overarching principles (`P`) and seven focus areas.
#[derive(Debug, Clone, Serialize)]
pub struct Area {
    pub id: String,
    pub title: String,
    pub summary: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    High,
    Medium,
    Low,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Priority::High, Priority::Medium, Priority::Low];

    pub fn parse(text: &str) -> Option<Priority> {
        match text.trim() {
            "high" => Some(Priority::High),
            "medium" => Some(Priority::Medium),
            "low" => Some(Priority::Low),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::High => "high",
            Priority::Medium => "medium",
            Priority::Low => "low",
        }
    }
}

/// A good-practice element of the guide.
#[derive(Debug, Clone, Serialize)]
pub struct Element {
    pub id: String,
    pub area: String,
    /// The priority a country starting out would give it; each country sets its own.
    pub priority: Priority,
    /// The title is as the guide names it (`false`: our wording, to be checked).
    pub published: bool,
    /// GCI 2024 indicator ids that measure this element.
    pub gci: Vec<String>,
    pub title: String,
    pub description: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Guide {
    pub code: &'static str,
    pub name: &'static str,
    pub areas: Vec<Area>,
    pub elements: Vec<Element>,
}

impl Guide {
    pub fn element(&self, id: &str) -> Option<&Element> {
        self.elements.iter().find(|e| e.id == id)
    }

    pub fn area(&self, id: &str) -> Option<&Area> {
        self.areas.iter().find(|a| a.id == id)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Parameter {
    pub id: String,
    /// O, H, T or P.
    pub category: String,
    pub published: bool,
    pub name: String,
    pub description: String,
}

/// A CSIRT maturity model: SIM3 v1.
#[derive(Debug, Clone, Serialize)]
pub struct Sim3 {
    pub code: &'static str,
    pub name: &'static str,
    pub parameters: Vec<Parameter>,
}

/// SIM3's categories, in the model's order.
pub const SIM3_CATEGORIES: [(&str, &str); 4] = [("O", "Organisation"), ("H", "Human"), ("T", "Tools"), ("P", "Processes")];

/// SIM3's levels, 0 to 4.
pub const SIM3_LEVELS: [&str; 5] = [
    "not available or unaware",
    "implicit (known but not written down)",
    "explicit, internal (written, not formally approved)",
    "explicit, formalised (approved by the CSIRT head)",
    "explicit, audited (governed above the CSIRT head)",
];

impl Sim3 {
    pub fn parameter(&self, id: &str) -> Option<&Parameter> {
        self.parameters.iter().find(|p| p.id == id)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Service {
    pub id: String,
    /// Empty for a service area itself.
    pub area: String,
    pub published: bool,
    pub name: String,
    pub description: String,
}

/// The FIRST CSIRT Services Framework 2.1: service areas and their services.
#[derive(Debug, Clone, Serialize)]
pub struct Services {
    pub code: &'static str,
    pub name: &'static str,
    pub entries: Vec<Service>,
}

impl Services {
    pub fn areas(&self) -> impl Iterator<Item = &Service> {
        self.entries.iter().filter(|s| s.area.is_empty())
    }

    pub fn in_area<'a>(&'a self, area: &'a str) -> impl Iterator<Item = &'a Service> + 'a {
        self.entries.iter().filter(move |s| s.area == area)
    }

    pub fn service(&self, id: &str) -> Option<&Service> {
        self.entries.iter().find(|s| s.id == id && !s.area.is_empty())
    }
}

pub const GUIDE_CODE: &str = "ncs-guide-2021";
pub const SIM3_CODE: &str = "sim3-v1";
pub const SERVICES_CODE: &str = "first-csirt-services-2.1";

const AREAS_CSV: &str = include_str!("../frameworks/ncs-guide-2021/areas.csv");
const ELEMENTS_CSV: &str = include_str!("../frameworks/ncs-guide-2021/elements.csv");
const SIM3_CSV: &str = include_str!("../frameworks/sim3-v1/parameters.csv");
const SERVICES_CSV: &str = include_str!("../frameworks/first-csirt-services-2.1/services.csv");

/// Reads a CSV file into records of `T`, naming the file and line of the
/// first bad row.
fn read_rows<T: for<'de> Deserialize<'de>>(file: &str, text: &str) -> Result<Vec<(usize, T)>, StrategyError> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.deserialize::<T>() {
        let line = rows.len() + 2;
        let row = record.map_err(|err| {
            let line = err.position().map_or(line, |p| usize::try_from(p.line()).unwrap_or(line));
            StrategyError::Data { file: file.to_owned(), line, message: err.to_string() }
        })?;
        rows.push((line, row));
    }
    Ok(rows)
}

fn data_error(file: &str, line: usize, message: impl Into<String>) -> StrategyError {
    StrategyError::Data { file: file.to_owned(), line, message: message.into() }
}

fn published(file: &str, line: usize, source: &str) -> Result<bool, StrategyError> {
    match source {
        "published" => Ok(true),
        "placeholder" => Ok(false),
        other => Err(data_error(file, line, format!("source {other:?} is not published or placeholder"))),
    }
}

fn check_text(file: &str, line: usize, field: &str, text: &str) -> Result<(), StrategyError> {
    if text.is_empty() {
        return Err(data_error(file, line, format!("{field} is empty")));
    }
    Ok(())
}

#[derive(Deserialize)]
struct AreaLine {
    id: String,
    title: String,
    summary: String,
}

#[derive(Deserialize)]
struct ElementLine {
    id: String,
    area: String,
    priority: String,
    source: String,
    gci: String,
    title: String,
    description: String,
}

/// Parses the guide from its two files; `gci_indicators` are the indicator
/// ids an element may name. Public so an edited copy is checked the same way.
pub fn parse_guide(areas_csv: &str, elements_csv: &str, gci_indicators: &[String]) -> Result<Guide, StrategyError> {
    let mut areas: Vec<Area> = Vec::new();
    for (line, row) in read_rows::<AreaLine>("areas.csv", areas_csv)? {
        check_text("areas.csv", line, "title", &row.title)?;
        if areas.iter().any(|a| a.id == row.id) {
            return Err(data_error("areas.csv", line, format!("area {} appears twice", row.id)));
        }
        areas.push(Area { id: row.id, title: row.title, summary: row.summary });
    }
    let mut elements: Vec<Element> = Vec::new();
    for (line, row) in read_rows::<ElementLine>("elements.csv", elements_csv)? {
        let file = "elements.csv";
        if !areas.iter().any(|a| a.id == row.area) {
            return Err(data_error(file, line, format!("area {:?} is not in areas.csv", row.area)));
        }
        if row.id.is_empty() || elements.iter().any(|e| e.id == row.id) {
            return Err(data_error(file, line, format!("id {:?} is empty or appears twice", row.id)));
        }
        let priority = Priority::parse(&row.priority)
            .ok_or_else(|| data_error(file, line, format!("priority {:?} is not high, medium or low", row.priority)))?;
        let mut gci = Vec::new();
        for id in row.gci.split(';').map(str::trim).filter(|id| !id.is_empty()) {
            if !gci_indicators.iter().any(|known| known == id) {
                return Err(data_error(file, line, format!("gci indicator {id:?} is not in the GCI edition")));
            }
            gci.push(id.to_owned());
        }
        check_text(file, line, "title", &row.title)?;
        check_text(file, line, "description", &row.description)?;
        elements.push(Element {
            published: published(file, line, &row.source)?,
            id: row.id,
            area: row.area,
            priority,
            gci,
            title: row.title,
            description: row.description,
        });
    }
    if let Some(area) = areas.iter().find(|a| !elements.iter().any(|e| e.area == a.id)) {
        return Err(data_error("areas.csv", 1, format!("area {} has no elements", area.id)));
    }
    Ok(Guide { code: GUIDE_CODE, name: "ITU Guide to Developing a National Cybersecurity Strategy (2nd edition, 2021)", areas, elements })
}

#[derive(Deserialize)]
struct ParameterLine {
    id: String,
    category: String,
    source: String,
    name: String,
    description: String,
}

pub fn parse_sim3(text: &str) -> Result<Sim3, StrategyError> {
    let file = "parameters.csv";
    let mut parameters: Vec<Parameter> = Vec::new();
    for (line, row) in read_rows::<ParameterLine>(file, text)? {
        if !SIM3_CATEGORIES.iter().any(|(c, _)| *c == row.category) {
            return Err(data_error(file, line, format!("category {:?} is not O, H, T or P", row.category)));
        }
        let numbered = row.id.strip_prefix(&format!("{}-", row.category)).is_some_and(|n| n.parse::<u8>().is_ok());
        if !numbered || parameters.iter().any(|p| p.id == row.id) {
            return Err(data_error(file, line, format!("id {:?} is not <category>-<number> or appears twice", row.id)));
        }
        check_text(file, line, "name", &row.name)?;
        check_text(file, line, "description", &row.description)?;
        parameters.push(Parameter {
            published: published(file, line, &row.source)?,
            id: row.id,
            category: row.category,
            name: row.name,
            description: row.description,
        });
    }
    Ok(Sim3 { code: SIM3_CODE, name: "SIM3 v1 (Security Incident Management Maturity Model)", parameters })
}

#[derive(Deserialize)]
struct ServiceLine {
    id: String,
    area: String,
    source: String,
    name: String,
    description: String,
}

pub fn parse_services(text: &str) -> Result<Services, StrategyError> {
    let file = "services.csv";
    let mut entries: Vec<Service> = Vec::new();
    for (line, row) in read_rows::<ServiceLine>(file, text)? {
        if !row.area.is_empty() && !entries.iter().any(|s| s.area.is_empty() && s.id == row.area) {
            return Err(data_error(file, line, format!("service area {:?} is not listed before its services", row.area)));
        }
        if row.id.is_empty() || entries.iter().any(|s| s.id == row.id) {
            return Err(data_error(file, line, format!("id {:?} is empty or appears twice", row.id)));
        }
        check_text(file, line, "name", &row.name)?;
        entries.push(Service {
            published: published(file, line, &row.source)?,
            id: row.id,
            area: row.area,
            name: row.name,
            description: row.description,
        });
    }
    Ok(Services { code: SERVICES_CODE, name: "FIRST CSIRT Services Framework 2.1", entries })
}

/// The GCI edition the guide's element mapping names indicators of.
pub const GCI_EDITION: &str = "gci-2024";

fn cached<T>(
    cell: &'static OnceLock<Result<T, String>>,
    make: impl FnOnce() -> Result<T, StrategyError>,
) -> Result<&'static T, StrategyError> {
    cell.get_or_init(|| make().map_err(|err| err.to_string())).as_ref().map_err(|message| StrategyError::Data {
        file: "shipped data".into(),
        line: 0,
        message: message.clone(),
    })
}

/// The shipped guide, checked against the GCI 2024 indicators.
pub fn guide() -> Result<&'static Guide, StrategyError> {
    static GUIDE: OnceLock<Result<Guide, String>> = OnceLock::new();
    cached(&GUIDE, || {
        let gci = rampart_gci::framework::shipped(GCI_EDITION)?;
        let indicators: Vec<String> =
            gci.nodes.iter().filter(|n| n.level == rampart_gci::framework::Level::Indicator).map(|n| n.id.clone()).collect();
        parse_guide(AREAS_CSV, ELEMENTS_CSV, &indicators)
    })
}

pub fn sim3() -> Result<&'static Sim3, StrategyError> {
    static SIM3: OnceLock<Result<Sim3, String>> = OnceLock::new();
    cached(&SIM3, || parse_sim3(SIM3_CSV))
}

pub fn services() -> Result<&'static Services, StrategyError> {
    static SERVICES: OnceLock<Result<Services, String>> = OnceLock::new();
    cached(&SERVICES, || parse_services(SERVICES_CSV))
}
