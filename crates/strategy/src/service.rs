//! National strategy and CIRT maturity over the store.
//!
//! Who may do what: `StrategyRead` on a country reads its strategy record,
//! self-assessment, gap report and action plan; `StrategyEdit` changes
//! them. `MaturityAssess` on a CIRT organisation (a CIRT manager's grant,
//! or a strategy editor's country grant) records its SIM3 assessments and
//! service catalogue and adds its maturity gaps to the country's action
//! plan; `StrategyRead` on its country reads them. Every change is audited.
//!
//! The gap report reads the country's current answers in its latest GCI
//! campaign, published or not: they are the country's own answers, shown
//! only to people who hold a strategy grant for that country.

use crate::StrategyError;
use crate::data::{self, GCI_EDITION, Guide, Priority};
use crate::error::invalid;
use crate::gaps::{self, Answer, GapReport, Status};
use crate::maturity::{self, Profile};
use crate::plan::{self, ACTION_STATUSES, Plan, Summary};
use chrono::{DateTime, NaiveDate, Utc};
use rampart_auth::Principal;
use rampart_auth::access::Target;
use rampart_auth::service::Actor;
use rampart_core::country::{self, ItuRegion};
use rampart_core::{Clock, Permission, new_id, time};
use rampart_gci::campaigns::Gci;
use rampart_store::orgs::{OrgFilter, Organisation};
use rampart_store::page::PageRequest;
use rampart_store::strategy::{
    ActionRow, AssessmentAnswerRow, DocumentRow, KpiRow, KpiValueRow, MaturityRow, ObjectiveRow, PhaseRow, RecordRow, ServiceRow,
    StakeholderRow,
};
use rampart_store::{Store, StoreError};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The guide's lifecycle phases, in order.
pub const PHASES: [&str; 5] = ["initiation", "stocktaking", "production", "implementation", "monitoring"];
pub const SECTORS: [&str; 5] = ["government", "private", "civil_society", "academia", "international"];
pub const DOCUMENT_KINDS: [&str; 5] = ["strategy", "action_plan", "law", "report", "other"];
pub const SERVICE_LEVELS: [&str; 4] = ["none", "basic", "standard", "advanced"];
/// Organisation kinds whose maturity can be assessed.
pub const CIRT_KINDS: [&str; 2] = ["national_cirt", "sector_cirt"];

#[derive(Debug, Clone, Serialize)]
pub struct CirtMaturity {
    pub org: Organisation,
    pub latest: Option<MaturityRow>,
    pub level: Option<f64>,
    pub target: Option<f64>,
}

/// One country's strategy status page.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub country: String,
    pub name: String,
    pub region: String,
    pub record: Option<RecordRow>,
    pub phases: Vec<PhaseRow>,
    pub documents: Vec<DocumentRow>,
    pub stakeholders: Vec<StakeholderRow>,
    pub areas: Vec<gaps::AreaSummary>,
    pub share_in_place: Option<f64>,
    pub answered: usize,
    pub elements: usize,
    pub plan: Summary,
    pub cirts: Vec<CirtMaturity>,
    pub may_edit: bool,
}

/// One row of the regional comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub country: String,
    pub name: String,
    pub region: String,
    pub phase: Option<String>,
    pub share_in_place: Option<f64>,
    pub answered: usize,
    /// Mean SIM3 level of the country's CIRTs' latest assessments.
    pub maturity: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ElementView {
    pub element: data::Element,
    pub current: Option<AssessmentAnswerRow>,
    pub evidence: Vec<String>,
    pub history: Vec<AssessmentAnswerRow>,
}

#[derive(Debug, Clone, Default)]
pub struct AnswerInput {
    pub status: String,
    pub priority: String,
    /// Links, one per entry.
    pub evidence: Vec<String>,
    pub comment: String,
}

#[derive(Debug, Clone, Default)]
pub struct ActionInput {
    pub objective_id: String,
    pub title: String,
    pub lead_org: String,
    pub supporting: String,
    pub budget: String,
    pub currency: String,
    pub start_on: String,
    pub end_on: String,
    pub status: String,
}

#[derive(Debug, Clone, Default)]
pub struct KpiInput {
    pub name: String,
    pub unit: String,
    pub baseline: String,
    pub target: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MaturityView {
    pub org: Organisation,
    pub assessments: Vec<MaturityRow>,
    pub levels: Profile,
    pub targets: Profile,
    pub services: Vec<ServiceRow>,
    pub may_assess: bool,
}

pub struct Strategy {
    store: Store,
    clock: Arc<dyn Clock>,
    gci: Gci,
}

fn text(field: &str, value: &str, max: usize, required: bool) -> Result<String, StrategyError> {
    let value = value.trim();
    if required && value.is_empty() {
        return Err(invalid(field, "is required"));
    }
    if value.chars().count() > max {
        return Err(invalid(field, format!("must be at most {max} characters")));
    }
    Ok(value.to_owned())
}

fn date(field: &str, value: &str) -> Result<NaiveDate, StrategyError> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .map_err(|_| invalid(field, format!("{:?} is not a date (YYYY-MM-DD)", value.trim())))
}

fn one_of(field: &str, value: &str, allowed: &[&str]) -> Result<String, StrategyError> {
    let value = value.trim();
    if allowed.contains(&value) {
        Ok(value.to_owned())
    } else {
        Err(invalid(field, format!("{value:?} is not one of {}", allowed.join(", "))))
    }
}

fn link(field: &str, value: &str) -> Result<String, StrategyError> {
    let parsed = url::Url::parse(value.trim()).map_err(|_| invalid(field, format!("{:?} is not a link", value.trim())))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid(field, "links must start with http:// or https://"));
    }
    Ok(parsed.to_string())
}

fn country_code(cc: &str) -> Result<&'static country::Country, StrategyError> {
    country::find(&cc.trim().to_ascii_uppercase()).ok_or(StrategyError::NotFound("country"))
}

fn profile_from(text: &str) -> Profile {
    serde_json::from_str(text).unwrap_or_default()
}

fn org_target(org: &Organisation) -> Target<'_> {
    Target::Org { id: &org.id, country: org.country.as_deref() }
}

impl Strategy {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Strategy {
        let gci = Gci::new(store.clone(), clock.clone());
        Strategy { store, clock, gci }
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }

    pub fn may_read(principal: &Principal, cc: &str) -> bool {
        principal.allows(Permission::StrategyRead, Target::Country(cc))
    }

    pub fn may_edit(principal: &Principal, cc: &str) -> bool {
        principal.allows(Permission::StrategyEdit, Target::Country(cc))
    }

    fn read(&self, principal: &Principal, cc: &str) -> Result<&'static country::Country, StrategyError> {
        let country = country_code(cc)?;
        if !Self::may_read(principal, &country.alpha2) {
            return Err(StrategyError::Forbidden);
        }
        Ok(country)
    }

    fn edit(&self, principal: &Principal, cc: &str) -> Result<&'static country::Country, StrategyError> {
        let country = country_code(cc)?;
        if !Self::may_edit(principal, &country.alpha2) {
            return Err(StrategyError::Forbidden);
        }
        Ok(country)
    }

    async fn commit(
        &self,
        actor: &Actor<'_>,
        action: &str,
        entity: &str,
        id: &str,
        summary: serde_json::Value,
        tx: rampart_store::WriteTx,
    ) -> Result<(), StrategyError> {
        let mut tx = tx;
        tx.audit(actor.entry(action, entity, Some(id), summary), self.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    // ----- overview and comparison ------------------------------------------

    /// Countries whose strategy the principal may read: `None` for all.
    pub fn readable_countries(principal: &Principal) -> Option<Vec<String>> {
        principal.countries_for(Permission::StrategyRead)
    }

    async fn latest_answers(&self, cc: &str) -> Result<HashMap<String, Answer>, StrategyError> {
        let mut latest: HashMap<String, Answer> = HashMap::new();
        for row in self.store.strategy_answers(cc, data::GUIDE_CODE).await? {
            if let (Some(status), Some(priority)) = (Status::parse(&row.status), Priority::parse(&row.priority)) {
                latest.insert(row.element_id.clone(), Answer { status, priority });
            }
        }
        Ok(latest)
    }

    pub async fn overview(&self, principal: &Principal, cc: &str) -> Result<Overview, StrategyError> {
        let country = self.read(principal, cc)?;
        let cc = country.alpha2.as_str();
        let guide = data::guide()?;
        let answers = self.latest_answers(cc).await?;
        let (areas, share_in_place) = gaps::summarise(guide, &answers);
        let plan = plan::build(&self.store.strategy_plan(cc).await?, self.today());
        let mut cirts = Vec::new();
        for org in self.cirt_orgs(Some(cc)).await? {
            let latest = self.store.maturity_assessments(&org.id).await?.into_iter().next();
            let level = latest.as_ref().map(|row| maturity::overall(&profile_from(&row.levels)));
            let target = latest.as_ref().map(|row| profile_from(&row.targets)).filter(|t| !t.is_empty()).map(|t| maturity::overall(&t));
            cirts.push(CirtMaturity { org, latest, level, target });
        }
        Ok(Overview {
            country: cc.to_owned(),
            name: country.name.clone(),
            region: country.region.as_str().to_owned(),
            record: self.store.strategy_record(cc).await?,
            phases: self.store.strategy_phases(cc).await?,
            documents: self.store.strategy_documents(cc).await?,
            stakeholders: self.store.strategy_stakeholders(cc).await?,
            answered: answers.len(),
            elements: guide.elements.len(),
            areas,
            share_in_place,
            plan: plan.summary,
            cirts,
            may_edit: Self::may_edit(principal, cc),
        })
    }

    /// The CIRT organisations, of one country or of all.
    async fn cirt_orgs(&self, country: Option<&str>) -> Result<Vec<Organisation>, StrategyError> {
        let mut orgs = Vec::new();
        for kind in CIRT_KINDS {
            let filter = OrgFilter { country: country.map(str::to_owned), kind: Some(kind.to_owned()), name_contains: None };
            orgs.extend(self.store.org_list(&filter, &PageRequest::first(PageRequest::MAX_LIMIT)).await?.items);
        }
        Ok(orgs)
    }

    /// The countries the principal may read that have a strategy record,
    /// answers or a CIRT assessment, optionally in one ITU region.
    pub async fn compare(&self, principal: &Principal, region: Option<ItuRegion>) -> Result<Vec<Comparison>, StrategyError> {
        let readable = Self::readable_countries(principal);
        let may = |cc: &str| readable.as_ref().is_none_or(|list| list.iter().any(|c| c == cc));
        let records: HashMap<String, RecordRow> =
            self.store.strategy_records().await?.into_iter().map(|r| (r.country.clone(), r)).collect();
        let mut answers: HashMap<String, HashMap<String, Answer>> = HashMap::new();
        for row in self.store.strategy_latest_answers(data::GUIDE_CODE).await? {
            if let (Some(status), Some(priority)) = (Status::parse(&row.status), Priority::parse(&row.priority)) {
                answers.entry(row.country.clone()).or_default().insert(row.element_id.clone(), Answer { status, priority });
            }
        }
        let guide = data::guide()?;
        // The CIRTs of every country at once (two queries), then the latest
        // assessment of each one that is in a readable country.
        let mut cirts_by_country: HashMap<String, Vec<Organisation>> = HashMap::new();
        for org in self.cirt_orgs(None).await? {
            if let Some(cc) = org.country.clone() {
                cirts_by_country.entry(cc).or_default().push(org);
            }
        }
        let mut rows = Vec::new();
        for country in country::all() {
            let cc = country.alpha2.as_str();
            if !may(cc) || region.is_some_and(|r| r != country.region) {
                continue;
            }
            let mut levels = Vec::new();
            for org in cirts_by_country.get(cc).into_iter().flatten() {
                if let Some(latest) = self.store.maturity_assessments(&org.id).await?.into_iter().next() {
                    levels.push(maturity::overall(&profile_from(&latest.levels)));
                }
            }
            let mine = answers.remove(cc).unwrap_or_default();
            let record = records.get(cc);
            if record.is_none() && mine.is_empty() && levels.is_empty() {
                continue;
            }
            let (_, share) = gaps::summarise(guide, &mine);
            rows.push(Comparison {
                country: cc.to_owned(),
                name: country.name.clone(),
                region: country.region.as_str().to_owned(),
                phase: record.map(|r| r.phase.clone()),
                share_in_place: share,
                answered: mine.len(),
                maturity: (!levels.is_empty()).then(|| levels.iter().sum::<f64>() / levels.len() as f64),
            });
        }
        Ok(rows)
    }

    // ----- the record, timeline, documents, stakeholders ---------------------

    pub async fn save_record(
        &self,
        actor: &Actor<'_>,
        cc: &str,
        title: &str,
        phase: &str,
        summary: &str,
    ) -> Result<RecordRow, StrategyError> {
        let country = self.edit(actor.principal, cc)?;
        let row = RecordRow {
            country: country.alpha2.clone(),
            title: text("title", title, 300, true)?,
            phase: one_of("phase", phase, &PHASES)?,
            summary: text("summary", summary, 5000, false)?,
            updated_by: actor.principal.user_id.clone(),
            updated_at: time::format(self.now()),
        };
        let before = self.store.strategy_record(&row.country).await?;
        let mut tx = self.store.begin().await?;
        tx.strategy_record_upsert(&row).await?;
        // Entering a new phase starts it on the timeline today, unless the
        // timeline already has it.
        if before.as_ref().is_none_or(|b| b.phase != row.phase)
            && !self.store.strategy_phases(&row.country).await?.iter().any(|p| p.phase == row.phase)
        {
            let phase = PhaseRow {
                country: row.country.clone(),
                phase: row.phase.clone(),
                started_on: self.today().to_string(),
                ended_on: None,
                note: String::new(),
            };
            tx.strategy_phase_upsert(&phase).await?;
        }
        let summary = json!({"phase": row.phase, "from": before.map(|b| b.phase)});
        self.commit(actor, "strategy.record.save", "strategy", &row.country, summary, tx).await?;
        Ok(row)
    }

    pub async fn set_phase(
        &self,
        actor: &Actor<'_>,
        cc: &str,
        phase: &str,
        started_on: &str,
        ended_on: &str,
        note: &str,
    ) -> Result<PhaseRow, StrategyError> {
        let country = self.edit(actor.principal, cc)?;
        let started = date("started_on", started_on)?;
        let ended = if ended_on.trim().is_empty() { None } else { Some(date("ended_on", ended_on)?) };
        if ended.is_some_and(|e| e < started) {
            return Err(invalid("ended_on", "is before the start"));
        }
        let row = PhaseRow {
            country: country.alpha2.clone(),
            phase: one_of("phase", phase, &PHASES)?,
            started_on: started.to_string(),
            ended_on: ended.map(|e| e.to_string()),
            note: text("note", note, 500, false)?,
        };
        let mut tx = self.store.begin().await?;
        tx.strategy_phase_upsert(&row).await?;
        let summary = json!({"phase": row.phase, "started_on": row.started_on, "ended_on": row.ended_on});
        self.commit(actor, "strategy.phase.save", "strategy", &row.country, summary, tx).await?;
        Ok(row)
    }

    pub async fn add_document(
        &self,
        actor: &Actor<'_>,
        cc: &str,
        title: &str,
        kind: &str,
        url: &str,
        issued_on: &str,
    ) -> Result<DocumentRow, StrategyError> {
        let country = self.edit(actor.principal, cc)?;
        let now = self.now();
        let row = DocumentRow {
            id: new_id(now).to_string(),
            country: country.alpha2.clone(),
            title: text("title", title, 300, true)?,
            kind: one_of("kind", kind, &DOCUMENT_KINDS)?,
            url: link("url", url)?,
            issued_on: if issued_on.trim().is_empty() { None } else { Some(date("issued_on", issued_on)?.to_string()) },
            added_by: actor.principal.user_id.clone(),
            added_at: time::format(now),
        };
        let mut tx = self.store.begin().await?;
        tx.strategy_document_insert(&row).await?;
        self.commit(actor, "strategy.document.add", "strategy_document", &row.id, json!({"country": row.country, "kind": row.kind}), tx)
            .await?;
        Ok(row)
    }

    pub async fn add_stakeholder(
        &self,
        actor: &Actor<'_>,
        cc: &str,
        name: &str,
        sector: &str,
        role: &str,
    ) -> Result<StakeholderRow, StrategyError> {
        let country = self.edit(actor.principal, cc)?;
        let now = self.now();
        let row = StakeholderRow {
            id: new_id(now).to_string(),
            country: country.alpha2.clone(),
            name: text("name", name, 200, true)?,
            sector: one_of("sector", sector, &SECTORS)?,
            role: text("role", role, 500, true)?,
            added_by: actor.principal.user_id.clone(),
            added_at: time::format(now),
        };
        let mut tx = self.store.begin().await?;
        tx.strategy_stakeholder_insert(&row).await?;
        self.commit(
            actor,
            "strategy.stakeholder.add",
            "strategy_stakeholder",
            &row.id,
            json!({"country": row.country, "sector": row.sector}),
            tx,
        )
        .await?;
        Ok(row)
    }

    pub async fn remove_stakeholder(&self, actor: &Actor<'_>, cc: &str, id: &str) -> Result<(), StrategyError> {
        let country = self.edit(actor.principal, cc)?;
        let mut tx = self.store.begin().await?;
        if !tx.strategy_stakeholder_delete(&country.alpha2, id).await? {
            return Err(StrategyError::NotFound("stakeholder"));
        }
        self.commit(actor, "strategy.stakeholder.remove", "strategy_stakeholder", id, json!({"country": country.alpha2}), tx).await
    }

    // ----- self-assessment -----------------------------------------------------

    pub async fn assessment(&self, principal: &Principal, cc: &str) -> Result<Vec<ElementView>, StrategyError> {
        let country = self.read(principal, cc)?;
        let guide = data::guide()?;
        let rows = self.store.strategy_answers(&country.alpha2, data::GUIDE_CODE).await?;
        let mut by_element: HashMap<String, Vec<AssessmentAnswerRow>> = HashMap::new();
        for row in rows {
            by_element.entry(row.element_id.clone()).or_default().push(row);
        }
        Ok(guide
            .elements
            .iter()
            .map(|element| {
                let history = by_element.remove(&element.id).unwrap_or_default();
                let current = history.last().cloned();
                let evidence = current.as_ref().map(|c| serde_json::from_str(&c.evidence).unwrap_or_default()).unwrap_or_default();
                ElementView { element: element.clone(), current, evidence, history }
            })
            .collect())
    }

    pub async fn save_answer(
        &self,
        actor: &Actor<'_>,
        cc: &str,
        element: &str,
        input: &AnswerInput,
    ) -> Result<AssessmentAnswerRow, StrategyError> {
        let country = self.edit(actor.principal, cc)?;
        let guide = data::guide()?;
        let element = guide.element(element).ok_or(StrategyError::NotFound("element"))?;
        let status = Status::parse(&input.status)
            .ok_or_else(|| invalid("status", format!("{:?} is not in_place, partial, not_in_place or not_applicable", input.status)))?;
        let priority = if input.priority.trim().is_empty() {
            element.priority
        } else {
            Priority::parse(&input.priority)
                .ok_or_else(|| invalid("priority", format!("{:?} is not high, medium or low", input.priority)))?
        };
        let mut evidence = Vec::new();
        for (i, item) in input.evidence.iter().filter(|e| !e.trim().is_empty()).enumerate() {
            evidence.push(link(&format!("evidence[{i}]"), item)?);
        }
        if evidence.len() > 20 {
            return Err(invalid("evidence", "at most 20 links"));
        }
        let comment = text("comment", &input.comment, 5000, false)?;
        let mut tx = self.store.begin().await?;
        let version = tx.strategy_answer_version(&country.alpha2, data::GUIDE_CODE, &element.id).await? + 1;
        let row = AssessmentAnswerRow {
            country: country.alpha2.clone(),
            framework: data::GUIDE_CODE.to_owned(),
            element_id: element.id.clone(),
            version,
            status: status.as_str().to_owned(),
            priority: priority.as_str().to_owned(),
            evidence: serde_json::to_string(&evidence).unwrap_or_else(|_| "[]".into()),
            comment,
            author_id: Some(actor.principal.user_id.clone()),
            author_label: actor.principal.display_name.clone(),
            at: time::format(self.now()),
        };
        tx.strategy_answer_insert(&row).await?;
        let summary =
            json!({"country": row.country, "element": row.element_id, "version": version, "status": row.status, "priority": row.priority});
        self.commit(actor, "strategy.assessment.answer", "strategy_answer", &format!("{}:{}", row.country, row.element_id), summary, tx)
            .await?;
        Ok(row)
    }

    /// The gap report, with each gap's effect on the country's GCI scores.
    pub async fn gaps(&self, principal: &Principal, cc: &str) -> Result<GapReport, StrategyError> {
        let country = self.read(principal, cc)?;
        let cc = country.alpha2.as_str();
        let answers = self.latest_answers(cc).await?;
        // The latest campaign the country takes part in gives the edition
        // and the baseline answers.
        let mut campaign = None;
        let mut gci_answers = HashMap::new();
        let mut edition = GCI_EDITION.to_owned();
        if let Some(participation) = self.store.gci_participations(cc).await?.into_iter().next() {
            let row = self.store.gci_campaign(&participation.campaign_id).await?;
            let mut latest: HashMap<String, (i64, String)> = HashMap::new();
            for answer in self.store.gci_answers(&row.id, cc).await? {
                if latest.get(&answer.question_id).is_none_or(|(v, _)| *v < answer.version) {
                    latest.insert(answer.question_id.clone(), (answer.version, answer.value.clone()));
                }
            }
            gci_answers = latest.into_iter().map(|(q, (_, value))| (q, value)).collect();
            edition = row.edition_code.clone();
            campaign = Some((row.id, row.name));
        }
        let (_, framework) = self.gci.edition(&edition).await?;
        Ok(gaps::report(data::guide()?, &answers, &framework, campaign, &gci_answers))
    }

    // ----- action plan ------------------------------------------------------------

    pub async fn plan(&self, principal: &Principal, cc: &str) -> Result<Plan, StrategyError> {
        let country = self.read(principal, cc)?;
        Ok(plan::build(&self.store.strategy_plan(&country.alpha2).await?, self.today()))
    }

    pub async fn add_objective(&self, actor: &Actor<'_>, cc: &str, title: &str, area: &str) -> Result<ObjectiveRow, StrategyError> {
        let country = self.edit(actor.principal, cc)?;
        let area = area.trim();
        if !area.is_empty() && data::guide()?.area(area).is_none() {
            return Err(invalid("area", format!("{area:?} is not an area of the guide")));
        }
        let now = self.now();
        let row = ObjectiveRow {
            id: new_id(now).to_string(),
            country: country.alpha2.clone(),
            title: text("title", title, 300, true)?,
            area: area.to_owned(),
            created_at: time::format(now),
        };
        let mut tx = self.store.begin().await?;
        tx.strategy_objective_insert(&row).await?;
        self.commit(
            actor,
            "strategy.objective.add",
            "strategy_objective",
            &row.id,
            json!({"country": row.country, "title": row.title}),
            tx,
        )
        .await?;
        Ok(row)
    }

    fn action_row(&self, actor: &Actor<'_>, cc: &str, input: &ActionInput, id: Option<&ActionRow>) -> Result<ActionRow, StrategyError> {
        let start = date("start_on", &input.start_on)?;
        let end = date("end_on", &input.end_on)?;
        if end < start {
            return Err(invalid("end_on", "is before the start"));
        }
        let budget = match input.budget.trim().replace([',', ' ', '_'], "") {
            b if b.is_empty() => None,
            b => Some(b.parse::<i64>().ok().filter(|v| *v >= 0).ok_or_else(|| invalid("budget", format!("{b:?} is not a whole amount")))?),
        };
        let currency = input.currency.trim().to_ascii_uppercase();
        if budget.is_some() && !(currency.len() == 3 && currency.chars().all(|c| c.is_ascii_alphabetic())) {
            return Err(invalid("currency", "use a three-letter ISO 4217 code, such as USD or KES"));
        }
        let at = time::format(self.now());
        Ok(ActionRow {
            id: id.map_or_else(|| new_id(self.now()).to_string(), |a| a.id.clone()),
            country: cc.to_owned(),
            objective_id: input.objective_id.trim().to_owned(),
            title: text("title", &input.title, 300, true)?,
            lead_org: text("lead_org", &input.lead_org, 200, false)?,
            supporting: text("supporting", &input.supporting, 2000, false)?,
            budget,
            currency,
            start_on: start.to_string(),
            end_on: end.to_string(),
            status: one_of("status", if input.status.trim().is_empty() { "planned" } else { &input.status }, &ACTION_STATUSES)?,
            origin: id.map(|a| a.origin.clone()).unwrap_or_default(),
            created_by: id.map_or_else(|| actor.principal.user_id.clone(), |a| a.created_by.clone()),
            created_at: id.map_or_else(|| at.clone(), |a| a.created_at.clone()),
            updated_at: at,
        })
    }

    /// Adds an action, or changes one when `id` is given.
    pub async fn save_action(
        &self,
        actor: &Actor<'_>,
        cc: &str,
        id: Option<&str>,
        input: &ActionInput,
    ) -> Result<ActionRow, StrategyError> {
        let country = self.edit(actor.principal, cc)?;
        let rows = self.store.strategy_plan(&country.alpha2).await?;
        if !rows.objectives.iter().any(|o| o.id == input.objective_id.trim()) {
            return Err(invalid("objective_id", "is not an objective of this country's plan"));
        }
        let existing = match id {
            Some(id) => Some(rows.actions.iter().find(|a| a.id == id).ok_or(StrategyError::NotFound("action"))?),
            None => None,
        };
        let row = self.action_row(actor, &country.alpha2, input, existing)?;
        let mut tx = self.store.begin().await?;
        tx.strategy_action_upsert(&row).await?;
        let verb = if existing.is_some() { "strategy.action.update" } else { "strategy.action.add" };
        self.commit(
            actor,
            verb,
            "strategy_action",
            &row.id,
            json!({"country": row.country, "status": row.status, "end_on": row.end_on}),
            tx,
        )
        .await?;
        Ok(row)
    }

    pub async fn set_action_status(&self, actor: &Actor<'_>, cc: &str, id: &str, status: &str) -> Result<ActionRow, StrategyError> {
        let country = self.edit(actor.principal, cc)?;
        let rows = self.store.strategy_plan(&country.alpha2).await?;
        let mut row = rows.actions.into_iter().find(|a| a.id == id).ok_or(StrategyError::NotFound("action"))?;
        let from = row.status.clone();
        row.status = one_of("status", status, &ACTION_STATUSES)?;
        row.updated_at = time::format(self.now());
        let mut tx = self.store.begin().await?;
        tx.strategy_action_upsert(&row).await?;
        self.commit(actor, "strategy.action.status", "strategy_action", &row.id, json!({"from": from, "to": row.status}), tx).await?;
        Ok(row)
    }

    pub async fn add_kpi(&self, actor: &Actor<'_>, cc: &str, action_id: &str, input: &KpiInput) -> Result<KpiRow, StrategyError> {
        let country = self.edit(actor.principal, cc)?;
        let rows = self.store.strategy_plan(&country.alpha2).await?;
        if !rows.actions.iter().any(|a| a.id == action_id) {
            return Err(StrategyError::NotFound("action"));
        }
        let number = |field: &str, value: &str| {
            value
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| invalid(field, format!("{:?} is not a number", value.trim())))
        };
        let now = self.now();
        let row = KpiRow {
            id: new_id(now).to_string(),
            action_id: action_id.to_owned(),
            name: text("name", &input.name, 300, true)?,
            unit: text("unit", &input.unit, 40, false)?,
            baseline: number("baseline", &input.baseline)?,
            target: number("target", &input.target)?,
            created_at: time::format(now),
        };
        let mut tx = self.store.begin().await?;
        tx.strategy_kpi_insert(&row).await?;
        let summary = json!({"action": action_id, "baseline": row.baseline, "target": row.target});
        self.commit(actor, "strategy.kpi.add", "strategy_kpi", &row.id, summary, tx).await?;
        Ok(row)
    }

    pub async fn record_kpi(
        &self,
        actor: &Actor<'_>,
        cc: &str,
        kpi_id: &str,
        measured_on: &str,
        value: &str,
        note: &str,
    ) -> Result<KpiValueRow, StrategyError> {
        let country = self.edit(actor.principal, cc)?;
        let rows = self.store.strategy_plan(&country.alpha2).await?;
        if !rows.kpis.iter().any(|k| k.id == kpi_id) {
            return Err(StrategyError::NotFound("KPI"));
        }
        let measured = date("measured_on", measured_on)?;
        if measured > self.today() {
            return Err(invalid("measured_on", "is in the future"));
        }
        let value = value
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| invalid("value", format!("{:?} is not a number", value.trim())))?;
        let row = KpiValueRow {
            kpi_id: kpi_id.to_owned(),
            measured_on: measured.to_string(),
            value,
            note: text("note", note, 1000, false)?,
            author_label: actor.principal.display_name.clone(),
            at: time::format(self.now()),
        };
        let mut tx = self.store.begin().await?;
        tx.strategy_kpi_value_upsert(&row).await?;
        self.commit(actor, "strategy.kpi.measure", "strategy_kpi", kpi_id, json!({"measured_on": row.measured_on, "value": value}), tx)
            .await?;
        Ok(row)
    }

    /// A planned action made from a gap: starting today, due in a year,
    /// `origin` saying which gap (`gap:<element>`, `sim3:<org>:<parameter>`).
    fn gap_action(&self, actor: &Actor<'_>, cc: &str, objective_id: String, title: String, lead_org: String, origin: String) -> ActionRow {
        let now = self.now();
        let today = now.date_naive();
        let at = time::format(now);
        ActionRow {
            id: new_id(now).to_string(),
            country: cc.to_owned(),
            objective_id,
            title,
            lead_org,
            supporting: String::new(),
            budget: None,
            currency: String::new(),
            start_on: today.to_string(),
            end_on: (today + chrono::Duration::days(365)).to_string(),
            status: "planned".into(),
            origin,
            created_by: actor.principal.user_id.clone(),
            created_at: at.clone(),
            updated_at: at,
        }
    }

    /// Turns gaps into actions in one step: one action per element, under
    /// an objective per focus area (made when missing), starting today and
    /// due in a year. An element that already has an action is skipped, so
    /// doing it twice adds nothing. Returns the actions added.
    pub async fn actions_from_gaps(&self, actor: &Actor<'_>, cc: &str, elements: &[String]) -> Result<Vec<ActionRow>, StrategyError> {
        let country = self.edit(actor.principal, cc)?;
        let guide: &Guide = data::guide()?;
        let answers = self.latest_answers(&country.alpha2).await?;
        let mut chosen = Vec::new();
        for id in elements {
            let element = guide.element(id).ok_or_else(|| invalid("elements", format!("{id:?} is not an element of the guide")))?;
            if !answers.get(id).is_some_and(|a| a.status.is_gap()) {
                return Err(invalid("elements", format!("{id} is not a gap: answer it as partial or not in place first")));
            }
            chosen.push(element);
        }
        let rows = self.store.strategy_plan(&country.alpha2).await?;
        let mut objectives: BTreeMap<String, String> =
            rows.objectives.iter().filter(|o| !o.area.is_empty()).map(|o| (o.area.clone(), o.id.clone())).collect();
        let now = self.now();
        let at = time::format(now);
        let mut tx = self.store.begin().await?;
        let mut added = Vec::new();
        for element in chosen {
            let origin = format!("gap:{}", element.id);
            if rows.actions.iter().any(|a| a.origin == origin) || added.iter().any(|a: &ActionRow| a.origin == origin) {
                continue;
            }
            let objective_id = match objectives.get(&element.area) {
                Some(id) => id.clone(),
                None => {
                    let area = guide.area(&element.area).map(|a| a.title.clone()).unwrap_or_default();
                    let objective = ObjectiveRow {
                        id: new_id(now).to_string(),
                        country: country.alpha2.clone(),
                        title: area,
                        area: element.area.clone(),
                        created_at: at.clone(),
                    };
                    tx.strategy_objective_insert(&objective).await?;
                    objectives.insert(element.area.clone(), objective.id.clone());
                    objective.id
                }
            };
            let row = self.gap_action(actor, &country.alpha2, objective_id, element.title.clone(), String::new(), origin);
            tx.strategy_action_upsert(&row).await?;
            added.push(row);
        }
        if added.is_empty() {
            return Ok(added);
        }
        let summary = json!({"country": country.alpha2, "elements": added.iter().map(|a| a.origin.clone()).collect::<Vec<_>>()});
        self.commit(actor, "strategy.plan.from_gaps", "strategy", &country.alpha2, summary, tx).await?;
        Ok(added)
    }

    // ----- CIRT maturity ------------------------------------------------------------

    fn may_read_org(principal: &Principal, org: &Organisation) -> bool {
        principal.allows(Permission::MaturityAssess, org_target(org))
            || org.country.as_deref().is_some_and(|cc| Self::may_read(principal, cc))
    }

    async fn cirt(&self, principal: &Principal, org_id: &str) -> Result<Organisation, StrategyError> {
        let org = match self.store.org_get(org_id).await {
            Err(StoreError::NotFound { .. }) => return Err(StrategyError::NotFound("organisation")),
            other => other?,
        };
        if !Self::may_read_org(principal, &org) {
            return Err(StrategyError::Forbidden);
        }
        if !CIRT_KINDS.contains(&org.kind.as_str()) {
            return Err(invalid("org", format!("{} is not a CIRT", org.name)));
        }
        Ok(org)
    }

    /// The CIRTs whose maturity the principal may read or assess.
    pub async fn cirts(&self, principal: &Principal) -> Result<Vec<Organisation>, StrategyError> {
        let mut orgs: Vec<Organisation> = self.cirt_orgs(None).await?.into_iter().filter(|o| Self::may_read_org(principal, o)).collect();
        orgs.sort_by(|a, b| a.country.cmp(&b.country).then(a.name.cmp(&b.name)));
        Ok(orgs)
    }

    pub async fn maturity(&self, principal: &Principal, org_id: &str) -> Result<MaturityView, StrategyError> {
        let org = self.cirt(principal, org_id).await?;
        let assessments = self.store.maturity_assessments(&org.id).await?;
        let (levels, targets) = assessments.first().map(|a| (profile_from(&a.levels), profile_from(&a.targets))).unwrap_or_default();
        Ok(MaturityView {
            services: self.store.cirt_services(&org.id).await?,
            may_assess: principal.allows(Permission::MaturityAssess, org_target(&org)),
            org,
            assessments,
            levels,
            targets,
        })
    }

    /// Records a SIM3 assessment: every parameter's level, and a target
    /// profile (a target may be left out for a parameter; none below the level).
    pub async fn record_maturity(
        &self,
        actor: &Actor<'_>,
        org_id: &str,
        assessed_on: &str,
        levels: &Profile,
        targets: &Profile,
        notes: &str,
    ) -> Result<MaturityRow, StrategyError> {
        let org = self.cirt(actor.principal, org_id).await?;
        if !actor.principal.allows(Permission::MaturityAssess, org_target(&org)) {
            return Err(StrategyError::Forbidden);
        }
        let model = data::sim3()?;
        maturity::check(model, "levels", levels, true)?;
        maturity::check(model, "targets", targets, false)?;
        let assessed = date("assessed_on", assessed_on)?;
        if assessed > self.today() {
            return Err(invalid("assessed_on", "is in the future"));
        }
        let now = self.now();
        let row = MaturityRow {
            id: new_id(now).to_string(),
            org_id: org.id.clone(),
            country: org.country.clone().unwrap_or_default(),
            model: model.code.to_owned(),
            assessed_on: assessed.to_string(),
            levels: serde_json::to_string(levels).unwrap_or_default(),
            targets: serde_json::to_string(targets).unwrap_or_default(),
            notes: text("notes", notes, 5000, false)?,
            created_by: actor.principal.user_id.clone(),
            created_at: time::format(now),
        };
        let mut tx = self.store.begin().await?;
        tx.maturity_insert(&row).await?;
        let summary = json!({"org": org.id, "assessed_on": row.assessed_on, "mean": maturity::overall(levels)});
        self.commit(actor, "maturity.assessment.record", "maturity_assessment", &row.id, summary, tx).await?;
        Ok(row)
    }

    /// Adds the latest assessment's gaps for `parameters` to the CIRT's
    /// country's action plan, under an objective for the CIRT. A parameter
    /// that already has an action is skipped.
    pub async fn maturity_actions(&self, actor: &Actor<'_>, org_id: &str, parameters: &[String]) -> Result<Vec<ActionRow>, StrategyError> {
        let view = self.maturity(actor.principal, org_id).await?;
        if !view.may_assess {
            return Err(StrategyError::Forbidden);
        }
        let cc = view.org.country.clone().ok_or_else(|| invalid("org", "an international CIRT has no national plan"))?;
        let model = data::sim3()?;
        let gaps = maturity::gaps(model, &view.levels, &view.targets);
        let mut chosen = Vec::new();
        for id in parameters {
            chosen.push(
                gaps.iter().find(|g| &g.parameter == id).ok_or_else(|| invalid("parameters", format!("{id} has no gap to its target")))?,
            );
        }
        let rows = self.store.strategy_plan(&cc).await?;
        let tag = format!("sim3:{}", view.org.id);
        let now = self.now();
        let at = time::format(now);
        let mut tx = self.store.begin().await?;
        let objective_id =
            match rows.objectives.iter().find(|o| rows.actions.iter().any(|a| a.objective_id == o.id && a.origin.starts_with(&tag))) {
                Some(o) => o.id.clone(),
                None => {
                    let objective = ObjectiveRow {
                        id: new_id(now).to_string(),
                        country: cc.clone(),
                        title: format!("Strengthen {} (SIM3)", view.org.name),
                        area: String::new(),
                        created_at: at.clone(),
                    };
                    tx.strategy_objective_insert(&objective).await?;
                    objective.id
                }
            };
        let mut added: Vec<ActionRow> = Vec::new();
        for gap in chosen {
            let origin = format!("{tag}:{}", gap.parameter);
            if rows.actions.iter().any(|a| a.origin == origin) || added.iter().any(|a| a.origin == origin) {
                continue;
            }
            let title = format!("{} {}: level {} to {}", gap.parameter, gap.name, gap.level, gap.target);
            let row = self.gap_action(actor, &cc, objective_id.clone(), title, view.org.name.clone(), origin);
            tx.strategy_action_upsert(&row).await?;
            added.push(row);
        }
        if added.is_empty() {
            return Ok(added);
        }
        let summary = json!({"org": view.org.id, "parameters": added.iter().map(|a| a.origin.clone()).collect::<Vec<_>>()});
        self.commit(actor, "maturity.plan.from_gaps", "strategy", &cc, summary, tx).await?;
        Ok(added)
    }

    pub async fn set_service(
        &self,
        actor: &Actor<'_>,
        org_id: &str,
        service: &str,
        level: &str,
        audience: &str,
        note: &str,
    ) -> Result<ServiceRow, StrategyError> {
        let org = self.cirt(actor.principal, org_id).await?;
        if !actor.principal.allows(Permission::MaturityAssess, org_target(&org)) {
            return Err(StrategyError::Forbidden);
        }
        let service = data::services()?.service(service).ok_or(StrategyError::NotFound("service"))?;
        let row = ServiceRow {
            org_id: org.id.clone(),
            service_id: service.id.clone(),
            level: one_of("level", level, &SERVICE_LEVELS)?,
            audience: text("audience", audience, 300, false)?,
            note: text("note", note, 1000, false)?,
            updated_by: actor.principal.user_id.clone(),
            updated_at: time::format(self.now()),
        };
        let mut tx = self.store.begin().await?;
        tx.cirt_service_upsert(&row).await?;
        let summary = json!({"org": org.id, "service": row.service_id, "level": row.level});
        self.commit(actor, "maturity.service.set", "cirt_service", &format!("{}:{}", org.id, row.service_id), summary, tx).await?;
        Ok(row)
    }
}
