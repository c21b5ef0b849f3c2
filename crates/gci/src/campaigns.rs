//! The GCI cycle over the store: editions (shipped ones frozen, drafts
//! copied and edited, then frozen), campaigns for a set of countries with
//! a deadline, answers with evidence (every version kept), review per
//! question, validation, publication of results, and import of a past
//! edition's published results.
//!
//! Who may do what: a focal point (GciAnswer on a country) answers and
//! submits for that country only; a reviewer (GciReview) reviews the
//! countries their grant covers; an editor (GciEdit) runs editions,
//! campaigns and results. Results are public once published, never before.

use crate::error::invalid;
use crate::framework::{self, Framework};
use crate::published;
use crate::score::{Compiled, score_answers_with};
use crate::table::{self, Entry, Row};
use crate::{GciError, countries};
use chrono::{DateTime, NaiveDate, Utc};
use rampart_auth::Principal;
use rampart_auth::access::Target;
use rampart_auth::service::Actor;
use rampart_core::{Clock, Permission, new_id, time};
use rampart_store::gci::{AnswerRow, CampaignRow, EditionRow, EvidenceFileRow, ParticipantRow, ResultSetRow};
use rampart_store::{AuditEntry, Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Participant states, in the order a country moves through them.
pub const STATUSES: [&str; 5] = ["not_started", "in_progress", "submitted", "in_review", "validated"];

/// Largest evidence file accepted.
pub const MAX_EVIDENCE_BYTES: usize = 20 * 1024 * 1024;

/// A piece of evidence for an answer: a link or an uploaded file, with the
/// date someone last checked it still says what the answer claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// `link` or `file`
    pub kind: String,
    /// The URL of a link, or the id of an uploaded file.
    pub target: String,
    pub name: String,
    /// YYYY-MM-DD
    pub checked_on: String,
}

/// The current state of one question for a country, with its history.
#[derive(Debug, Clone, Serialize)]
pub struct QuestionState {
    pub question_id: String,
    pub current: Option<AnswerRow>,
    pub evidence: Vec<Evidence>,
    pub history: Vec<AnswerRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Questionnaire {
    pub campaign: CampaignRow,
    pub participant: ParticipantRow,
    pub questions: Vec<QuestionState>,
    pub files: Vec<EvidenceFileRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BoardRow {
    pub participant: ParticipantRow,
    pub name: String,
    pub region: String,
    pub answered: usize,
    pub questions: usize,
    pub clarifications: usize,
    /// Days to the deadline, negative when past; only for countries that
    /// have not submitted.
    pub due_in_days: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct AnswerInput {
    pub value: String,
    pub comment: String,
    pub evidence: Vec<Evidence>,
}

/// A reviewer's decision on one question.
#[derive(Debug, Clone)]
pub struct ReviewInput {
    pub question: String,
    pub decision: Decision,
    /// Required to ask for clarification or to change an answer.
    pub comment: String,
    /// The new answer, when changing it.
    pub new_value: Option<String>,
}

impl ReviewInput {
    pub fn new(question: &str, decision: Decision, comment: &str, new_value: Option<&str>) -> ReviewInput {
        ReviewInput { question: question.to_owned(), decision, comment: comment.to_owned(), new_value: new_value.map(str::to_owned) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Accept,
    Clarify,
    Change,
}

impl Decision {
    pub fn parse(text: &str) -> Result<Decision, GciError> {
        match text.trim() {
            "accept" => Ok(Decision::Accept),
            "clarify" => Ok(Decision::Clarify),
            "change" => Ok(Decision::Change),
            other => Err(invalid("decision", format!("{other:?} is not accept, clarify or change"))),
        }
    }
}

/// A published (or, for editors, unpublished) result set, ranked.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub set: ResultSetRow,
    pub framework: Framework,
    pub rows: Vec<Row>,
    pub entries: Vec<Entry>,
    pub warnings: Vec<String>,
}

pub struct Gci {
    store: Store,
    clock: Arc<dyn Clock>,
}

fn store_err(err: StoreError) -> GciError {
    match err {
        StoreError::NotFound { entity: "edition" } => GciError::NotFound("edition"),
        StoreError::NotFound { entity: "campaign" } => GciError::NotFound("campaign"),
        StoreError::NotFound { entity: "participant" } => GciError::NotFound("country in this campaign"),
        StoreError::NotFound { entity: "result set" } => GciError::NotFound("results"),
        StoreError::NotFound { entity: "evidence file" } => GciError::NotFound("evidence file"),
        other => GciError::Store(other),
    }
}

fn parse_framework(row: &EditionRow) -> Result<Framework, GciError> {
    serde_json::from_str(&row.framework).map_err(|err| invalid("framework", format!("stored edition {} is unreadable: {err}", row.code)))
}

impl Gci {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Gci {
        Gci { store, clock }
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Stores the shipped editions (frozen) that are not there yet. Runs at
    /// start; a shipped edition already stored is left as it is, since a
    /// frozen edition never changes.
    pub async fn install_shipped(&self) -> Result<usize, GciError> {
        let stored: Vec<String> = self.store.gci_editions().await?.into_iter().map(|e| e.code).collect();
        let mut added = 0;
        for (code, _, _) in framework::SHIPPED {
            if stored.iter().any(|c| c == code) {
                continue;
            }
            let framework = framework::shipped(code)?;
            let at = time::format(self.now());
            let row = EditionRow {
                code: framework.code.clone(),
                name: framework.name.clone(),
                year: framework.year.into(),
                framework: serde_json::to_string(&framework).unwrap_or_default(),
                frozen: true,
                based_on: None,
                created_by: None,
                created_at: at.clone(),
                updated_at: at,
            };
            let mut tx = self.store.begin().await?;
            tx.gci_edition_upsert(&row).await?;
            let entry = AuditEntry {
                actor_id: None,
                actor_label: "system".into(),
                actor_org_id: None,
                action: "gci.edition.install".into(),
                entity_type: "gci_edition".into(),
                entity_id: Some(row.code.clone()),
                source_ip: None,
                summary: json!({"shape": framework.shape()}),
            };
            tx.audit(entry, self.now()).await?;
            tx.commit().await?;
            added += 1;
        }
        Ok(added)
    }

    // ----- editions --------------------------------------------------------

    /// Every edition; the shipped ones are stored on first use, so a new
    /// database needs no setup step.
    pub async fn editions(&self) -> Result<Vec<EditionRow>, GciError> {
        let stored = self.store.gci_editions().await?;
        if framework::SHIPPED.iter().all(|(code, _, _)| stored.iter().any(|e| e.code == *code)) {
            return Ok(stored);
        }
        self.install_shipped().await?;
        Ok(self.store.gci_editions().await?)
    }

    pub async fn edition(&self, code: &str) -> Result<(EditionRow, Framework), GciError> {
        let row = match self.store.gci_edition(code).await {
            Err(StoreError::NotFound { .. }) if framework::SHIPPED.iter().any(|(c, _, _)| *c == code) => {
                self.install_shipped().await?;
                self.store.gci_edition(code).await.map_err(store_err)?
            }
            other => other.map_err(store_err)?,
        };
        let framework = parse_framework(&row)?;
        Ok((row, framework))
    }

    /// Copies an edition into a new draft an editor can change.
    pub async fn copy_edition(&self, actor: &Actor<'_>, from: &str, code: &str, name: &str, year: i32) -> Result<EditionRow, GciError> {
        require_edit(actor.principal)?;
        let code = code.trim();
        if code.is_empty() || code.len() > 40 || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(invalid("code", "use 1 to 40 letters, digits, - or _"));
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(invalid("name", "must be 1 to 200 characters"));
        }
        let (_, mut framework) = self.edition(from).await?;
        if self.store.gci_edition(code).await.is_ok() {
            return Err(invalid("code", format!("an edition {code} already exists")));
        }
        framework.code = code.to_owned();
        framework.name = name.to_owned();
        framework.year = year;
        let now = self.now();
        let at = time::format(now);
        let row = EditionRow {
            code: code.to_owned(),
            name: name.to_owned(),
            year: year.into(),
            framework: serde_json::to_string(&framework).unwrap_or_default(),
            frozen: false,
            based_on: Some(from.to_owned()),
            created_by: Some(actor.principal.user_id.clone()),
            created_at: at.clone(),
            updated_at: at,
        };
        let mut tx = self.store.begin().await?;
        tx.gci_edition_upsert(&row).await?;
        tx.audit(actor.entry("gci.edition.copy", "gci_edition", Some(code), json!({"from": from, "name": name})), now).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Replaces a draft's nodes (questions, weights) from CSV, and its
    /// tier cut-offs when given. A frozen edition refuses.
    pub async fn edit_edition(
        &self,
        actor: &Actor<'_>,
        code: &str,
        nodes_csv: &str,
        tiers: Option<Vec<framework::Tier>>,
    ) -> Result<Framework, GciError> {
        require_edit(actor.principal)?;
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let mut row = tx.gci_edition_for_update(code).await.map_err(store_err)?;
        if row.frozen {
            return Err(GciError::State(format!("edition {code} is frozen; copy it to make changes")));
        }
        let old = parse_framework(&row)?;
        let framework = old.with_nodes(nodes_csv, tiers)?;
        row.framework = serde_json::to_string(&framework).unwrap_or_default();
        row.updated_at = time::format(now);
        tx.gci_edition_upsert(&row).await?;
        tx.audit(actor.entry("gci.edition.edit", "gci_edition", Some(code), json!({"shape": framework.shape()})), now).await?;
        tx.commit().await?;
        Ok(framework)
    }

    pub async fn freeze_edition(&self, actor: &Actor<'_>, code: &str) -> Result<(), GciError> {
        require_edit(actor.principal)?;
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let mut row = tx.gci_edition_for_update(code).await.map_err(store_err)?;
        if row.frozen {
            return Err(GciError::State(format!("edition {code} is already frozen")));
        }
        row.frozen = true;
        row.updated_at = time::format(now);
        tx.gci_edition_upsert(&row).await?;
        tx.audit(actor.entry("gci.edition.freeze", "gci_edition", Some(code), json!({})), now).await?;
        tx.commit().await?;
        Ok(())
    }

    // ----- campaigns -------------------------------------------------------

    pub async fn open_campaign(
        &self,
        actor: &Actor<'_>,
        edition: &str,
        name: &str,
        deadline: &str,
        countries: &[String],
    ) -> Result<CampaignRow, GciError> {
        require_edit(actor.principal)?;
        let (row, _) = self.edition(edition).await?;
        if !row.frozen {
            return Err(GciError::State(format!("edition {edition} is a draft; freeze it before opening a campaign")));
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(invalid("name", "must be 1 to 200 characters"));
        }
        let deadline =
            NaiveDate::parse_from_str(deadline.trim(), "%Y-%m-%d").map_err(|_| invalid("deadline", "must be a date YYYY-MM-DD"))?;
        let now = self.now();
        if deadline < now.date_naive() {
            return Err(invalid("deadline", "is in the past"));
        }
        let mut codes = Vec::new();
        for code in countries {
            let participant = countries::find(code).ok_or_else(|| invalid("countries", format!("{code:?} is not a known country code")))?;
            if !codes.contains(&participant.alpha2) {
                codes.push(participant.alpha2);
            }
        }
        if codes.is_empty() {
            return Err(invalid("countries", "choose at least one country"));
        }
        let campaign = CampaignRow {
            id: new_id(now).to_string(),
            edition_code: edition.to_owned(),
            name: name.to_owned(),
            deadline: deadline.to_string(),
            status: "open".into(),
            created_by: actor.principal.user_id.clone(),
            created_at: time::format(now),
            published_at: None,
        };
        let mut tx = self.store.begin().await?;
        tx.gci_campaign_insert(&campaign, &codes).await?;
        tx.audit(
            actor.entry(
                "gci.campaign.open",
                "gci_campaign",
                Some(&campaign.id),
                json!({"edition": edition, "name": name, "countries": codes.len()}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(campaign)
    }

    /// Campaigns this principal has a part in: editors and global reviewers
    /// see all; focal points and country reviewers see those of their
    /// countries.
    pub async fn campaigns(&self, principal: &Principal) -> Result<Vec<CampaignRow>, GciError> {
        let all = self.store.gci_campaigns().await?;
        if principal.has(Permission::GciEdit) {
            return Ok(all);
        }
        let mut mine = Vec::new();
        for campaign in all {
            let participants = self.store.gci_participants(&campaign.id).await?;
            if participants.iter().any(|p| may_answer(principal, &p.country) || may_review(principal, &p.country)) {
                mine.push(campaign);
            }
        }
        Ok(mine)
    }

    pub async fn campaign(&self, id: &str) -> Result<(CampaignRow, Framework), GciError> {
        let campaign = self.store.gci_campaign(id).await.map_err(store_err)?;
        let (_, framework) = self.edition(&campaign.edition_code).await?;
        Ok((campaign, framework))
    }

    /// The progress board: each country this principal may follow, with
    /// how far it got. Editors see every country.
    pub async fn board(&self, principal: &Principal, id: &str) -> Result<Vec<BoardRow>, GciError> {
        let (campaign, framework) = self.campaign(id).await?;
        let questions = framework.count(framework::Level::Question);
        let answers = self.store.gci_campaign_answers(id).await?;
        let latest = latest_by_question(&answers);
        let today = self.now().date_naive();
        let deadline = NaiveDate::parse_from_str(&campaign.deadline, "%Y-%m-%d").ok();
        let mut rows = Vec::new();
        for participant in self.store.gci_participants(id).await? {
            if !(principal.has(Permission::GciEdit)
                || may_review(principal, &participant.country)
                || may_answer(principal, &participant.country))
            {
                continue;
            }
            let mine: Vec<&AnswerRow> = latest.values().filter(|a| a.country == participant.country).copied().collect();
            let info = countries::find(&participant.country);
            let pending = matches!(participant.status.as_str(), "not_started" | "in_progress");
            rows.push(BoardRow {
                name: info.as_ref().map(|c| c.name.clone()).unwrap_or_else(|| participant.country.clone()),
                region: info.map(|c| c.region.as_str().to_owned()).unwrap_or_default(),
                answered: mine.len(),
                questions,
                clarifications: mine.iter().filter(|a| a.state == "clarify").count(),
                due_in_days: deadline.filter(|_| pending).map(|d| (d - today).num_days()),
                participant,
            });
        }
        Ok(rows)
    }

    /// A country's questionnaire with every answer's history.
    pub async fn questionnaire(&self, principal: &Principal, id: &str, country: &str) -> Result<(Questionnaire, Framework), GciError> {
        let (campaign, framework) = self.campaign(id).await?;
        let country = country.to_ascii_uppercase();
        if !(may_answer(principal, &country)
            || may_review(principal, &country)
            || principal.allows(Permission::GciEdit, Target::Country(&country)))
        {
            return Err(GciError::Forbidden);
        }
        let participants = self.store.gci_participants(id).await?;
        let participant = participants.into_iter().find(|p| p.country == country).ok_or(GciError::NotFound("country in this campaign"))?;
        let answers = self.store.gci_answers(id, &country).await?;
        let mut by_question: HashMap<String, Vec<AnswerRow>> = HashMap::new();
        for answer in answers {
            by_question.entry(answer.question_id.clone()).or_default().push(answer);
        }
        let questions = framework
            .questions()
            .map(|q| {
                let history = by_question.remove(&q.id).unwrap_or_default();
                let current = history.last().cloned();
                let evidence = current.as_ref().map(|a| serde_json::from_str(&a.evidence).unwrap_or_default()).unwrap_or_default();
                QuestionState { question_id: q.id.clone(), current, evidence, history }
            })
            .collect();
        let files = self.store.gci_evidence_files(id, &country).await?;
        Ok((Questionnaire { campaign, participant, questions, files }, framework))
    }

    /// Saves a draft answer (a new version). Focal points of the country only,
    /// while the country has not submitted, or for a question sent back.
    pub async fn save_answer(
        &self,
        actor: &Actor<'_>,
        id: &str,
        country: &str,
        question: &str,
        input: &AnswerInput,
    ) -> Result<AnswerRow, GciError> {
        let country = country.to_ascii_uppercase();
        if !may_answer(actor.principal, &country) {
            return Err(GciError::Forbidden);
        }
        let (campaign, framework) = self.campaign(id).await?;
        if campaign.status != "open" {
            return Err(GciError::State("the campaign is closed".into()));
        }
        let node = framework
            .node(question)
            .filter(|n| n.level == framework::Level::Question)
            .ok_or_else(|| invalid("question", format!("no question {question}")))?;
        if let Some(kind) = &node.answer {
            kind.score(&input.value).map_err(|message| invalid("value", message))?;
        }
        let evidence = check_evidence(&input.evidence)?;
        let comment: String = input.comment.trim().chars().take(5000).collect();
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let mut participant = tx.gci_participant_for_update(id, &country).await.map_err(store_err)?;
        let latest = tx.gci_latest_answers(id, &country).await?;
        let previous = latest.iter().find(|a| a.question_id == question);
        let editable = match participant.status.as_str() {
            "not_started" | "in_progress" => true,
            // After submission only the questions a reviewer sent back.
            "in_review" | "submitted" => previous.is_some_and(|a| a.state == "clarify"),
            _ => false,
        };
        if !editable {
            return Err(GciError::State(format!("{country} has submitted; only questions sent back for clarification can be changed")));
        }
        let answering_clarification = previous.is_some_and(|a| a.state == "clarify");
        let row = AnswerRow {
            campaign_id: id.to_owned(),
            country: country.clone(),
            question_id: question.to_owned(),
            version: previous.map(|a| a.version + 1).unwrap_or(1),
            value: input.value.trim().to_owned(),
            comment,
            evidence: serde_json::to_string(&evidence).unwrap_or_else(|_| "[]".into()),
            // A reply to a clarification goes straight back to the reviewer.
            state: if answering_clarification { "submitted".into() } else { "draft".into() },
            review_comment: previous.filter(|_| answering_clarification).map(|a| a.review_comment.clone()).unwrap_or_default(),
            author_id: Some(actor.principal.user_id.clone()),
            author_label: actor.principal.email.clone(),
            at: time::format(now),
        };
        tx.gci_answer_insert(&row).await?;
        if participant.status == "not_started" {
            participant.status = "in_progress".into();
            participant.updated_at = row.at.clone();
            tx.gci_participant_update(&participant).await?;
        }
        tx.audit(
            actor.entry(
                "gci.answer.save",
                "gci_answer",
                Some(&format!("{id}/{country}/{question}")),
                json!({"version": row.version, "value": row.value, "evidence": evidence.len()}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Stores an evidence file for a country; its id goes into an answer's
    /// evidence list.
    pub async fn upload_evidence(
        &self,
        actor: &Actor<'_>,
        id: &str,
        country: &str,
        filename: &str,
        bytes: &[u8],
    ) -> Result<EvidenceFileRow, GciError> {
        let country = country.to_ascii_uppercase();
        if !may_answer(actor.principal, &country) {
            return Err(GciError::Forbidden);
        }
        if bytes.is_empty() {
            return Err(invalid("file", "is empty"));
        }
        if bytes.len() > MAX_EVIDENCE_BYTES {
            return Err(invalid("file", format!("is larger than {} MiB", MAX_EVIDENCE_BYTES / 1024 / 1024)));
        }
        let filename: String =
            filename.rsplit(['/', '\\']).next().unwrap_or("evidence").chars().filter(|c| !c.is_control()).take(200).collect();
        let filename = if filename.trim().is_empty() { "evidence".to_owned() } else { filename };
        self.campaign(id).await?;
        let now = self.now();
        let row = EvidenceFileRow {
            id: new_id(now).to_string(),
            campaign_id: id.to_owned(),
            country: country.clone(),
            filename,
            size: bytes.len() as i64,
            sha256: data_encoding::HEXLOWER.encode(&Sha256::digest(bytes)),
            uploaded_by: actor.principal.user_id.clone(),
            uploaded_at: time::format(now),
        };
        let mut tx = self.store.begin().await?;
        tx.gci_participant_for_update(id, &country).await.map_err(store_err)?;
        tx.gci_evidence_insert(&row, bytes).await?;
        tx.audit(
            actor.entry(
                "gci.evidence.upload",
                "gci_evidence",
                Some(&row.id),
                json!({"country": country, "name": row.filename, "sha256": row.sha256}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// An evidence file, for those who may see the country's answers.
    pub async fn evidence_file(&self, principal: &Principal, file_id: &str) -> Result<(EvidenceFileRow, Vec<u8>), GciError> {
        let (row, bytes) = self.store.gci_evidence_file(file_id).await.map_err(store_err)?;
        if !(may_answer(principal, &row.country)
            || may_review(principal, &row.country)
            || principal.allows(Permission::GciEdit, Target::Country(&row.country)))
        {
            return Err(GciError::NotFound("evidence file"));
        }
        Ok((row, bytes))
    }

    /// The focal point submits: drafts become submitted.
    pub async fn submit(&self, actor: &Actor<'_>, id: &str, country: &str) -> Result<ParticipantRow, GciError> {
        let country = country.to_ascii_uppercase();
        if !may_answer(actor.principal, &country) {
            return Err(GciError::Forbidden);
        }
        let (campaign, _) = self.campaign(id).await?;
        if campaign.status != "open" {
            return Err(GciError::State("the campaign is closed".into()));
        }
        let now = self.now();
        let at = time::format(now);
        let mut tx = self.store.begin().await?;
        let mut participant = tx.gci_participant_for_update(id, &country).await.map_err(store_err)?;
        if !matches!(participant.status.as_str(), "not_started" | "in_progress") {
            return Err(GciError::State(format!("{country} has already submitted")));
        }
        let latest = tx.gci_latest_answers(id, &country).await?;
        if latest.is_empty() {
            return Err(GciError::State("answer at least one question before submitting".into()));
        }
        let mut submitted = 0;
        for answer in latest.iter().filter(|a| a.state == "draft") {
            let mut next = answer.clone();
            next.version += 1;
            next.state = "submitted".into();
            next.author_id = Some(actor.principal.user_id.clone());
            next.author_label = actor.principal.email.clone();
            next.at = at.clone();
            tx.gci_answer_insert(&next).await?;
            submitted += 1;
        }
        participant.status = "submitted".into();
        participant.submitted_at = Some(at.clone());
        participant.updated_at = at;
        tx.gci_participant_update(&participant).await?;
        tx.audit(
            actor.entry("gci.country.submit", "gci_participant", Some(&format!("{id}/{country}")), json!({"answers": submitted})),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(participant)
    }

    /// A reviewer's decision on one question: accept, send back with a
    /// request, or change the answer with a recorded reason.
    pub async fn review(&self, actor: &Actor<'_>, id: &str, country: &str, input: &ReviewInput) -> Result<AnswerRow, GciError> {
        let (question, decision, comment, new_value) =
            (input.question.as_str(), input.decision, input.comment.as_str(), input.new_value.as_deref());
        let country = country.to_ascii_uppercase();
        if !may_review(actor.principal, &country) {
            return Err(GciError::Forbidden);
        }
        let (campaign, framework) = self.campaign(id).await?;
        if campaign.status != "open" {
            return Err(GciError::State("the campaign is closed".into()));
        }
        let comment: String = comment.trim().chars().take(5000).collect();
        if matches!(decision, Decision::Clarify | Decision::Change) && comment.is_empty() {
            return Err(invalid(
                "comment",
                match decision {
                    Decision::Change => "say why the answer is changed",
                    _ => "say what the country should clarify",
                },
            ));
        }
        let now = self.now();
        let at = time::format(now);
        let mut tx = self.store.begin().await?;
        let mut participant = tx.gci_participant_for_update(id, &country).await.map_err(store_err)?;
        if !matches!(participant.status.as_str(), "submitted" | "in_review") {
            return Err(GciError::State(format!("{country} has not submitted answers to review")));
        }
        let latest = tx.gci_latest_answers(id, &country).await?;
        let previous = latest.iter().find(|a| a.question_id == question);
        let mut next = match previous {
            Some(answer) => answer.clone(),
            // Changing an unanswered question records the reviewer's answer.
            None if decision == Decision::Change => AnswerRow {
                campaign_id: id.to_owned(),
                country: country.clone(),
                question_id: question.to_owned(),
                version: 0,
                value: String::new(),
                comment: String::new(),
                evidence: "[]".into(),
                state: "submitted".into(),
                review_comment: String::new(),
                author_id: None,
                author_label: String::new(),
                at: at.clone(),
            },
            None => return Err(invalid("question", format!("{question} has no answer to review"))),
        };
        if next.state == "clarify" && decision != Decision::Change {
            return Err(GciError::State(format!("{question} is waiting for the country's clarification")));
        }
        next.version += 1;
        next.review_comment = comment.clone();
        next.author_id = Some(actor.principal.user_id.clone());
        next.author_label = actor.principal.email.clone();
        next.at = at.clone();
        next.state = match decision {
            Decision::Accept => "accepted".into(),
            Decision::Clarify => "clarify".into(),
            Decision::Change => {
                let value = new_value.map(str::trim).unwrap_or_default();
                let node = framework
                    .node(question)
                    .and_then(|n| n.answer.as_ref())
                    .ok_or_else(|| invalid("question", format!("no question {question}")))?;
                node.score(value).map_err(|message| invalid("value", message))?;
                next.value = value.to_owned();
                "changed".into()
            }
        };
        tx.gci_answer_insert(&next).await?;
        if participant.status == "submitted" {
            participant.status = "in_review".into();
            participant.updated_at = at;
            tx.gci_participant_update(&participant).await?;
        }
        tx.audit(
            actor.entry(
                "gci.answer.review",
                "gci_answer",
                Some(&format!("{id}/{country}/{question}")),
                json!({"decision": next.state, "value": next.value, "comment": comment}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(next)
    }

    /// Validates a country once every answer is accepted or changed.
    pub async fn validate(&self, actor: &Actor<'_>, id: &str, country: &str) -> Result<ParticipantRow, GciError> {
        let country = country.to_ascii_uppercase();
        if !may_review(actor.principal, &country) {
            return Err(GciError::Forbidden);
        }
        let now = self.now();
        let at = time::format(now);
        let mut tx = self.store.begin().await?;
        let mut participant = tx.gci_participant_for_update(id, &country).await.map_err(store_err)?;
        if !matches!(participant.status.as_str(), "submitted" | "in_review") {
            return Err(GciError::State(format!("{country} has not submitted")));
        }
        let latest = tx.gci_latest_answers(id, &country).await?;
        let open: Vec<&str> =
            latest.iter().filter(|a| !matches!(a.state.as_str(), "accepted" | "changed")).map(|a| a.question_id.as_str()).collect();
        if !open.is_empty() {
            return Err(GciError::State(format!("{} answer(s) still to review or clarify: {}", open.len(), open.join(", "))));
        }
        participant.status = "validated".into();
        participant.validated_at = Some(at.clone());
        participant.updated_at = at;
        tx.gci_participant_update(&participant).await?;
        tx.audit(
            actor.entry("gci.country.validate", "gci_participant", Some(&format!("{id}/{country}")), json!({"answers": latest.len()})),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(participant)
    }

    /// The scores of the campaign's validated countries (for editors before
    /// publication, and for publication).
    pub async fn campaign_entries(&self, id: &str) -> Result<(CampaignRow, Framework, Vec<Entry>), GciError> {
        let (campaign, framework) = self.campaign(id).await?;
        let participants = self.store.gci_participants(id).await?;
        let answers = self.store.gci_campaign_answers(id).await?;
        let latest = latest_by_question(&answers);
        let compiled = Compiled::new(&framework);
        let mut entries = Vec::new();
        for participant in participants.iter().filter(|p| p.status == "validated") {
            let values: HashMap<String, String> =
                latest.values().filter(|a| a.country == participant.country).map(|a| (a.question_id.clone(), a.value.clone())).collect();
            let score = score_answers_with(&framework, &compiled, &participant.country, &values)
                .map_err(|err| invalid(format!("{}/{}", participant.country, err.question), err.message))?;
            let alpha3 = countries::find(&participant.country).map(|c| c.alpha3).unwrap_or_else(|| participant.country.clone());
            entries.push(Entry { country: alpha3, overall: score.overall, pillars: score.pillars, indicators: score.indicators });
        }
        Ok((campaign, framework, entries))
    }

    /// Publishes the campaign's results: the validated countries are
    /// scored and ranked and become public.
    pub async fn publish(&self, actor: &Actor<'_>, id: &str) -> Result<ResultSetRow, GciError> {
        require_edit(actor.principal)?;
        let (campaign, _, entries) = self.campaign_entries(id).await?;
        if campaign.status == "published" {
            return Err(GciError::State("the campaign's results are already published".into()));
        }
        if entries.is_empty() {
            return Err(GciError::State("no country is validated yet".into()));
        }
        let now = self.now();
        let at = time::format(now);
        let set = ResultSetRow {
            id: new_id(now).to_string(),
            edition_code: campaign.edition_code.clone(),
            name: campaign.name.clone(),
            kind: "campaign".into(),
            campaign_id: Some(campaign.id.clone()),
            entries: serde_json::to_string(&entries).unwrap_or_default(),
            warnings: "[]".into(),
            published_at: Some(at.clone()),
            created_by: actor.principal.user_id.clone(),
            created_at: at.clone(),
        };
        let mut tx = self.store.begin().await?;
        tx.gci_result_set_insert(&set).await?;
        tx.gci_campaign_status(id, "published", Some(&at)).await?;
        tx.audit(
            actor.entry("gci.results.publish", "gci_result_set", Some(&set.id), json!({"campaign": id, "countries": entries.len()})),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(set)
    }

    /// Imports a past edition's published results from CSV, checked; the
    /// warnings name the rows that look inconsistent. Published at once:
    /// they are public already.
    pub async fn import_published(
        &self,
        actor: &Actor<'_>,
        edition: &str,
        name: &str,
        csv_text: &str,
    ) -> Result<(ResultSetRow, Vec<String>), GciError> {
        require_edit(actor.principal)?;
        let (_, framework) = self.edition(edition).await?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(invalid("name", "must be 1 to 200 characters"));
        }
        let import = published::parse(csv_text, &framework)?;
        let entries: Vec<Entry> = import
            .rows
            .iter()
            .map(|row| Entry {
                country: row.country.clone(),
                overall: row.overall,
                pillars: row.pillars.clone(),
                indicators: BTreeMap::new(),
            })
            .collect();
        let now = self.now();
        let at = time::format(now);
        let set = ResultSetRow {
            id: new_id(now).to_string(),
            edition_code: edition.to_owned(),
            name: name.to_owned(),
            kind: "import".into(),
            campaign_id: None,
            entries: serde_json::to_string(&entries).unwrap_or_default(),
            warnings: serde_json::to_string(&import.warnings).unwrap_or_else(|_| "[]".into()),
            published_at: Some(at.clone()),
            created_by: actor.principal.user_id.clone(),
            created_at: at,
        };
        let mut tx = self.store.begin().await?;
        tx.gci_result_set_insert(&set).await?;
        tx.audit(
            actor.entry(
                "gci.results.import",
                "gci_result_set",
                Some(&set.id),
                json!({"edition": edition, "countries": entries.len(), "warnings": import.warnings.len()}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok((set, import.warnings))
    }

    /// Result sets this principal may read: published ones for everyone,
    /// all for editors.
    pub async fn result_sets(&self, principal: Option<&Principal>) -> Result<Vec<ResultSetRow>, GciError> {
        let editor = principal.is_some_and(|p| p.has(Permission::GciEdit));
        Ok(self.store.gci_result_sets().await?.into_iter().filter(|s| editor || s.published_at.is_some()).collect())
    }

    /// A result set, ranked with the edition's method (or another).
    pub async fn results(
        &self,
        principal: Option<&Principal>,
        id: &str,
        method: Option<framework::RankMethod>,
    ) -> Result<Results, GciError> {
        let set = self.store.gci_result_set(id).await.map_err(store_err)?;
        let editor = principal.is_some_and(|p| p.has(Permission::GciEdit));
        if set.published_at.is_none() && !editor {
            return Err(GciError::NotFound("results"));
        }
        let (_, framework) = self.edition(&set.edition_code).await?;
        let entries: Vec<Entry> = serde_json::from_str(&set.entries).map_err(|err| invalid("entries", err.to_string()))?;
        let warnings: Vec<String> = serde_json::from_str(&set.warnings).unwrap_or_default();
        let rows = table::build(&framework, &entries, method.unwrap_or(framework.ranking));
        Ok(Results { set, framework, rows, entries, warnings })
    }

    /// The latest published result set of an earlier edition, for trends.
    pub async fn previous_results(&self, current: &ResultSetRow) -> Result<Option<Results>, GciError> {
        let years: HashMap<String, i64> = self.editions().await?.into_iter().map(|e| (e.code, e.year)).collect();
        let Some(year) = years.get(&current.edition_code).copied() else { return Ok(None) };
        let best = self
            .store
            .gci_result_sets()
            .await?
            .into_iter()
            .filter(|set| set.published_at.is_some())
            .filter_map(|set| years.get(&set.edition_code).map(|y| (*y, set)))
            .filter(|(other, _)| *other < year)
            // Sets come newest first: among the latest earlier year, the newest set.
            .fold(None::<(i64, ResultSetRow)>, |best, (y, set)| match best {
                Some((b, _)) if b >= y => best,
                _ => Some((y, set)),
            });
        match best {
            Some((_, set)) => Ok(Some(self.results(None, &set.id, None).await?)),
            None => Ok(None),
        }
    }
}

fn require_edit(principal: &Principal) -> Result<(), GciError> {
    if principal.has(Permission::GciEdit) && principal.countries_for(Permission::GciEdit).is_none() {
        Ok(())
    } else {
        Err(GciError::Forbidden)
    }
}

pub fn may_answer(principal: &Principal, country: &str) -> bool {
    principal.allows(Permission::GciAnswer, Target::Country(country))
}

pub fn may_review(principal: &Principal, country: &str) -> bool {
    principal.allows(Permission::GciReview, Target::Country(country))
}

/// The latest version of each (country, question).
fn latest_by_question(answers: &[AnswerRow]) -> BTreeMap<(String, String), &AnswerRow> {
    let mut latest: BTreeMap<(String, String), &AnswerRow> = BTreeMap::new();
    for answer in answers {
        let key = (answer.country.clone(), answer.question_id.clone());
        if latest.get(&key).is_none_or(|a| a.version < answer.version) {
            latest.insert(key, answer);
        }
    }
    latest
}

fn check_evidence(evidence: &[Evidence]) -> Result<Vec<Evidence>, GciError> {
    if evidence.len() > 20 {
        return Err(invalid("evidence", "at most 20 pieces of evidence per answer"));
    }
    let mut checked = Vec::new();
    for (i, item) in evidence.iter().enumerate() {
        let field = format!("evidence[{i}]");
        match item.kind.as_str() {
            "link" => {
                let parsed = url::Url::parse(item.target.trim()).map_err(|_| invalid(format!("{field}.target"), "is not a URL"))?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(invalid(format!("{field}.target"), "must be an http or https link"));
                }
            }
            "file" => {
                if uuid::Uuid::parse_str(item.target.trim()).is_err() {
                    return Err(invalid(format!("{field}.target"), "is not an uploaded file's id"));
                }
            }
            other => return Err(invalid(format!("{field}.kind"), format!("{other:?} is not link or file"))),
        }
        NaiveDate::parse_from_str(item.checked_on.trim(), "%Y-%m-%d")
            .map_err(|_| invalid(format!("{field}.checked_on"), "must be a date YYYY-MM-DD"))?;
        checked.push(Evidence {
            kind: item.kind.clone(),
            target: item.target.trim().to_owned(),
            name: item.name.trim().chars().take(300).collect(),
            checked_on: item.checked_on.trim().to_owned(),
        });
    }
    Ok(checked)
}
