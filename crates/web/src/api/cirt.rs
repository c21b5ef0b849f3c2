//! CIRT desk API: incidents, reports and the constituency registry.

use super::{ApiQuery, ApiRoute, list_of, list_parameters, parse_body, path_parameter, query_parameter, route, schema_ref};
use crate::AppState;
use crate::error::{ApiError, WebError};
use crate::listing::{self, ListParams};
use crate::pages::cirt::{INCIDENT_COLUMNS, incident_json, new_incident_from};
use crate::viewer::ApiCaller;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use rampart_cirt::priority::Level;
use rampart_cirt::workflow::Status;
use rampart_cirt::{Channel, ListFilter, NewReport, Queue};
use rampart_core::Tlp;
use serde::Deserialize;
use serde_json::{Value, json};

type ApiResult = Result<Response, ApiError>;

pub fn schemas() -> Value {
    json!({
        "Incident": {"type": "object", "required": ["id", "reference", "title", "status", "priority"], "properties": {
            "id": {"type": "string"}, "reference": {"type": "string", "examples": ["INC-2026-000123"]}, "title": {"type": "string"},
            "description": {"type": "string"}, "owner_org_id": {"type": "string"}, "rsit_class": {"type": "string"}, "rsit_type": {"type": "string"},
            "tlp": {"type": "string"}, "pap": {"type": "string"}, "impact": {"type": "string", "enum": ["high", "medium", "low"]},
            "urgency": {"type": "string", "enum": ["high", "medium", "low"]}, "priority": {"type": "string", "enum": ["critical", "high", "medium", "low"]},
            "status": {"type": "string", "enum": ["new", "triage", "in_progress", "waiting_for_constituent", "resolved", "closed"]},
            "assignee_id": {"type": ["string", "null"]}, "source": {"type": "string"}, "merged_into": {"type": ["string", "null"]},
            "created_at": {"type": "string"}, "updated_at": {"type": "string"}, "first_response_at": {"type": ["string", "null"]}}},
        "IncidentView": {"allOf": [{"$ref": "#/components/schemas/Incident"}, {"type": "object", "properties": {
            "constituents": {"type": "array", "items": {"$ref": "#/components/schemas/Organisation"}},
            "observables": {"type": "array", "items": {"type": "object", "properties": {"kind": {"type": "string"}, "value": {"type": "string"}, "seen_elsewhere": {"type": "integer"}}}},
            "tasks": {"type": "array", "items": {"type": "object"}}, "timeline": {"type": "array", "items": {"type": "object"}},
            "links": {"type": "array", "items": {"type": "string"}},
            "timers": {"type": "array", "items": {"type": "object", "properties": {"kind": {"type": "string"}, "state": {"type": "string"}, "due_at": {"type": "string"}}}}}}]},
        "NewIncident": {"type": "object", "required": ["owner_org_id", "title", "rsit_type"], "properties": {
            "owner_org_id": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
            "rsit_class": {"type": "string"}, "rsit_type": {"type": "string", "description": "RSIT type; `unauthorized-` spellings and IntelMQ names accepted."},
            "impact": {"type": "string", "default": "medium"}, "urgency": {"type": "string", "default": "medium"},
            "tlp": {"type": "string", "default": "AMBER"}, "pap": {"type": "string", "default": "AMBER"},
            "constituents": {"type": "array", "items": {"type": "string"}}}},
        "StatusChange": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}, "comment": {"type": "string"}}},
        "Assignment": {"type": "object", "properties": {"assignee_id": {"type": ["string", "null"]}}},
        "Note": {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}, "response": {"type": "boolean", "default": false}}},
        "NewTask": {"type": "object", "required": ["title"], "properties": {"title": {"type": "string"}}},
        "TaskState": {"type": "object", "required": ["done"], "properties": {"done": {"type": "boolean"}}},
        "NewObservable": {"type": "object", "required": ["kind", "value"], "properties": {"kind": {"type": "string", "enum": ["ipv4", "ipv6", "cidr", "domain", "url", "email", "md5", "sha1", "sha256", "cve"]}, "value": {"type": "string"}}},
        "OrgRef": {"type": "object", "required": ["org_id"], "properties": {"org_id": {"type": "string"}}},
        "Classification": {"type": "object", "required": ["rsit_type", "impact", "urgency", "tlp", "pap"], "properties": {
            "rsit_class": {"type": "string"}, "rsit_type": {"type": "string"}, "impact": {"type": "string"}, "urgency": {"type": "string"},
            "tlp": {"type": "string"}, "pap": {"type": "string"}}},
        "OtherIncident": {"type": "object", "required": ["other"], "properties": {"other": {"type": "string", "description": "Id or reference."}}},
        "Report": {"type": "object", "properties": {"id": {"type": "string"}, "reference": {"type": "string"}, "channel": {"type": "string"},
            "received_at": {"type": "string"}, "owner_org_id": {"type": "string"}, "reporter_org_id": {"type": ["string", "null"]},
            "subject": {"type": "string"}, "body": {"type": "string"}, "tlp": {"type": "string"}, "status": {"type": "string"},
            "incident_id": {"type": ["string", "null"]}, "observables": {"type": "string"}}},
        "NewReport": {"type": "object", "required": ["subject", "body"], "properties": {"subject": {"type": "string"}, "body": {"type": "string"},
            "reporter_email": {"type": "string"}, "tlp": {"type": "string"}, "cirt_org_id": {"type": "string"}}},
        "Promotion": {"type": "object", "properties": {"existing": {"type": "string", "description": "Attach to this incident instead."},
            "title": {"type": "string"}, "rsit_type": {"type": "string"}, "impact": {"type": "string"}, "urgency": {"type": "string"},
            "tlp": {"type": "string"}, "pap": {"type": "string"}}},
        "Rejection": {"type": "object", "properties": {"reason": {"type": "string"}}},
        "RegistryMatch": {"type": "object", "properties": {"org_id": {"type": "string"}, "by": {"type": "string"}, "entry": {"type": "string"}}},
        "RegistryEntry": {"type": "object", "required": ["kind", "value"], "properties": {"kind": {"type": "string", "enum": ["network", "asn", "domain"]}, "value": {"type": "string"}}},
        "ImportResult": {"type": "object", "properties": {"added": {"type": "integer"}}},
    })
}

pub fn routes() -> Vec<ApiRoute> {
    let handlers = "CIRT analysts and managers of the handling CIRT; affected constituents read within TLP";
    let writers = "CIRT analysts and managers of the handling CIRT";
    let id = || path_parameter("id", "Incident id or reference.");
    vec![
        ApiRoute {
            parameters: [
                vec![
                    query_parameter("queue", "open (default), mine, unassigned, sla_at_risk or all."),
                    query_parameter("status", "Status."),
                    query_parameter("priority", "Priority."),
                    query_parameter("class", "RSIT class."),
                    query_parameter("q", "Words in title, description, reference or notes."),
                ],
                list_parameters(),
            ]
            .concat(),
            response: list_of("Incident"),
            handler: get(list_incidents),
            ..route("get", "/incidents", "listIncidents", "cirt", "Incident queues.", handlers)
        },
        ApiRoute {
            request_body: Some(json!({"type": "object", "required": ["ids", "action"], "properties": {
                "ids": {"type": "array", "items": {"type": "string"}},
                "action": {"type": "string", "enum": ["assign_me", "status"]},
                "status": {"type": "string", "description": "For action `status`."}}})),
            response: json!({"type": "object", "properties": {"results": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "string"}, "ok": {"type": "boolean"}, "error": {"type": ["string", "null"]}}}}}}),
            handler: post(bulk),
            ..route(
                "post",
                "/incidents/bulk",
                "bulkIncidents",
                "cirt",
                "Apply one action to many incidents; each is checked on its own.",
                writers,
            )
        },
        ApiRoute {
            request_body: Some(json!({"type": "object", "description": "A CSAF 2.0 document."})),
            response: json!({"type": "object", "properties": {"valid": {"type": "boolean"}, "problems": {"type": "array", "items": {"type": "object", "properties": {
                "test": {"type": "string"}, "path": {"type": "string"}, "message": {"type": "string"}}}}}}),
            handler: post(validate_csaf).layer(axum::extract::DefaultBodyLimit::max(8 * 1024 * 1024)),
            ..route(
                "post",
                "/csaf/validate",
                "validateCsaf",
                "advisories",
                "Validate a CSAF 2.0 document: schema and the mandatory tests implemented.",
                "CIRT staff",
            )
        },
        ApiRoute {
            parameters: vec![query_parameter("vector", "A CVSS v3.0 or v3.1 vector.")],
            response: json!({"type": "object", "properties": {"vector": {"type": "string"}, "base_score": {"type": "number"}, "severity": {"type": "string"}}}),
            handler: get(cvss_score),
            ..route("get", "/cvss", "cvssScore", "advisories", "CVSS v3.0, v3.1 or v4.0 base score and severity of a vector.", "CIRT staff")
        },
        ApiRoute {
            request_body: Some(schema_ref("NewIncident")),
            success_status: 201,
            response: schema_ref("Incident"),
            handler: post(create_incident),
            ..route("post", "/incidents", "createIncident", "cirt", "Open an incident.", writers)
        },
        ApiRoute {
            parameters: vec![id()],
            response: schema_ref("IncidentView"),
            handler: get(get_incident),
            ..route(
                "get",
                "/incidents/{id}",
                "getIncident",
                "cirt",
                "An incident with its timeline, tasks, observables and SLA timers.",
                handlers,
            )
        },
        ApiRoute {
            parameters: vec![id()],
            request_body: Some(schema_ref("StatusChange")),
            response: schema_ref("Incident"),
            handler: post(change_status),
            ..route("post", "/incidents/{id}/status", "changeIncidentStatus", "cirt", "Move an incident through its workflow.", writers)
        },
        ApiRoute {
            parameters: vec![id()],
            request_body: Some(schema_ref("Assignment")),
            response: schema_ref("Incident"),
            handler: post(assign),
            ..route(
                "post",
                "/incidents/{id}/assignee",
                "assignIncident",
                "cirt",
                "Assign (managers) or take (analysts) an incident.",
                writers,
            )
        },
        ApiRoute {
            parameters: vec![id()],
            request_body: Some(schema_ref("Note")),
            success_status: 201,
            response: schema_ref("Incident"),
            handler: post(add_note),
            ..route(
                "post",
                "/incidents/{id}/notes",
                "addIncidentNote",
                "cirt",
                "Add a note; a response note counts as first response.",
                writers,
            )
        },
        ApiRoute {
            parameters: vec![id()],
            request_body: Some(schema_ref("NewTask")),
            success_status: 201,
            response: schema_ref("Incident"),
            handler: post(add_task),
            ..route("post", "/incidents/{id}/tasks", "addIncidentTask", "cirt", "Add a task.", writers)
        },
        ApiRoute {
            parameters: vec![id(), path_parameter("task_id", "Task id.")],
            request_body: Some(schema_ref("TaskState")),
            response: schema_ref("Incident"),
            handler: post(set_task),
            ..route("post", "/incidents/{id}/tasks/{task_id}", "setIncidentTask", "cirt", "Mark a task done or not done.", writers)
        },
        ApiRoute {
            parameters: vec![id()],
            request_body: Some(schema_ref("NewObservable")),
            success_status: 201,
            response: schema_ref("Incident"),
            handler: post(add_observable),
            ..route("post", "/incidents/{id}/observables", "addIncidentObservable", "cirt", "Add an observable.", writers)
        },
        ApiRoute {
            parameters: vec![id()],
            request_body: Some(schema_ref("OrgRef")),
            success_status: 201,
            response: schema_ref("Incident"),
            handler: post(add_constituent),
            ..route("post", "/incidents/{id}/constituents", "addIncidentConstituent", "cirt", "Record an affected constituent.", writers)
        },
        ApiRoute {
            parameters: vec![id()],
            request_body: Some(schema_ref("Classification")),
            response: schema_ref("Incident"),
            handler: post(classify),
            ..route(
                "post",
                "/incidents/{id}/classification",
                "classifyIncident",
                "cirt",
                "Change RSIT classification, impact, urgency, TLP and PAP.",
                writers,
            )
        },
        ApiRoute {
            parameters: vec![id()],
            request_body: Some(schema_ref("OtherIncident")),
            success_status: 201,
            response: schema_ref("Incident"),
            handler: post(link),
            ..route("post", "/incidents/{id}/links", "linkIncidents", "cirt", "Link two incidents.", writers)
        },
        ApiRoute {
            parameters: vec![id()],
            request_body: Some(schema_ref("OtherIncident")),
            response: schema_ref("Incident"),
            handler: post(merge),
            ..route(
                "post",
                "/incidents/{id}/merge",
                "mergeIncident",
                "cirt",
                "Merge this incident into another; both timelines are kept.",
                writers,
            )
        },
        ApiRoute {
            parameters: vec![id(), query_parameter("filename", "The file's name.")],
            request_body: Some(
                json!({"type": "string", "format": "binary", "description": "The file, at most 10 MiB (application/octet-stream)."}),
            ),
            success_status: 201,
            response: json!({"type": "object", "properties": {"id": {"type": "string"}, "filename": {"type": "string"}, "size": {"type": "integer"}, "sha256": {"type": "string"}}}),
            handler: post(upload_attachment)
                .layer(axum::extract::DefaultBodyLimit::max(rampart_cirt::desk::MAX_ATTACHMENT_BYTES + 64 * 1024)),
            ..route(
                "post",
                "/incidents/{id}/attachments",
                "addIncidentAttachment",
                "cirt",
                "Attach a file; stored with its SHA-256.",
                writers,
            )
        },
        ApiRoute {
            parameters: vec![id(), path_parameter("attachment_id", "Attachment id.")],
            response: json!({"type": "string", "format": "binary"}),
            handler: get(download_attachment),
            ..route(
                "get",
                "/incidents/{id}/attachments/{attachment_id}",
                "getIncidentAttachment",
                "cirt",
                "Download an attachment (always as a download).",
                writers,
            )
        },
        ApiRoute {
            parameters: [vec![query_parameter("status", "new (default), promoted, attached, rejected or all.")], list_parameters()]
                .concat(),
            response: list_of("Report"),
            handler: get(list_reports),
            ..route(
                "get",
                "/reports",
                "listReports",
                "cirt",
                "Incident reports received (or, for constituents, sent).",
                "CIRT staff; constituents for their own reports",
            )
        },
        ApiRoute {
            request_body: Some(schema_ref("NewReport")),
            success_status: 201,
            response: schema_ref("Report"),
            handler: post(submit_report),
            ..route("post", "/reports", "submitReport", "cirt", "Report an incident to one's CIRT.", "constituents and CIRT staff")
        },
        ApiRoute {
            parameters: vec![path_parameter("id", "Report id or reference.")],
            response: schema_ref("Report"),
            handler: get(get_report),
            ..route("get", "/reports/{id}", "getReport", "cirt", "One report.", "the receiving CIRT and the reporter")
        },
        ApiRoute {
            parameters: vec![path_parameter("id", "Report id or reference.")],
            request_body: Some(schema_ref("Promotion")),
            success_status: 201,
            response: schema_ref("Incident"),
            handler: post(promote_report),
            ..route(
                "post",
                "/reports/{id}/promote",
                "promoteReport",
                "cirt",
                "Open an incident from a report, or attach it to one.",
                writers,
            )
        },
        ApiRoute {
            parameters: vec![path_parameter("id", "Report id or reference.")],
            request_body: Some(schema_ref("Rejection")),
            success_status: 204,
            handler: post(reject_report),
            ..route("post", "/reports/{id}/reject", "rejectReport", "cirt", "Reject a report.", writers)
        },
        ApiRoute {
            parameters: vec![query_parameter("q", "IP address, network, AS number (AS64500) or domain.")],
            response: list_of("RegistryMatch"),
            handler: get(lookup),
            ..route(
                "get",
                "/constituency/lookup",
                "lookupConstituency",
                "constituency",
                "Responsible organisations, most specific first.",
                "CIRT staff",
            )
        },
        ApiRoute {
            parameters: vec![path_parameter("org_id", "Organisation id.")],
            response: json!({"type": "object", "properties": {"networks": {"type": "array"}, "asns": {"type": "array"}, "domains": {"type": "array"}}}),
            handler: get(entries),
            ..route(
                "get",
                "/constituency/{org_id}/entries",
                "listConstituencyEntries",
                "constituency",
                "An organisation's networks, AS numbers and domains.",
                "CIRT staff",
            )
        },
        ApiRoute {
            parameters: vec![path_parameter("org_id", "Organisation id.")],
            request_body: Some(schema_ref("RegistryEntry")),
            success_status: 201,
            response: schema_ref("RegistryEntry"),
            handler: post(add_entry),
            ..route(
                "post",
                "/constituency/{org_id}/entries",
                "addConstituencyEntry",
                "constituency",
                "Register a network, AS number or domain.",
                "CIRT managers of the constituency",
            )
        },
        ApiRoute {
            parameters: vec![
                path_parameter("org_id", "Organisation id."),
                query_parameter("kind", "network, asn or domain."),
                query_parameter("value", "The entry."),
            ],
            success_status: 204,
            handler: delete(remove_entry),
            ..route(
                "delete",
                "/constituency/{org_id}/entries",
                "removeConstituencyEntry",
                "constituency",
                "Remove a registry entry.",
                "CIRT managers of the constituency",
            )
        },
        ApiRoute {
            response: json!({"type": "string", "description": "CSV: org_id,kind,value"}),
            handler: get(export_registry),
            ..route("get", "/constituency/export", "exportConstituency", "constituency", "The registry as CSV.", "CIRT staff")
        },
        ApiRoute {
            request_body: Some(json!({"type": "string", "description": "CSV: org_id,kind,value"})),
            response: schema_ref("ImportResult"),
            handler: post(import_registry),
            ..route(
                "post",
                "/constituency/import",
                "importConstituency",
                "constituency",
                "Import registry rows from CSV; all or nothing, bad rows named by line.",
                "CIRT managers",
            )
        },
    ]
}

// ----- incidents ----------------------------------------------------------------

#[derive(Deserialize, Default)]
struct IncidentQuery {
    queue: Option<String>,
    status: Option<String>,
    priority: Option<String>,
    class: Option<String>,
    q: Option<String>,
    #[serde(flatten)]
    list: ListParams,
}

async fn list_incidents(State(state): State<AppState>, caller: ApiCaller, ApiQuery(query): ApiQuery<IncidentQuery>) -> ApiResult {
    let queue = Queue::parse(query.queue.as_deref().unwrap_or("open"))?;
    let filter =
        ListFilter { status: query.status, priority: query.priority, rsit_class: query.class, constituent_org_id: None, text: query.q };
    let page = state.desk().list(&caller.principal, queue, &filter, &query.list.page(50)?).await?;
    let items = page.items.iter().map(incident_json).collect();
    Ok(listing::render(items, page.next_cursor, query.list.format()?, &INCIDENT_COLUMNS, "incidents"))
}

#[derive(Deserialize)]
struct NewIncidentBody {
    owner_org_id: String,
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    rsit_class: String,
    rsit_type: String,
    impact: Option<String>,
    urgency: Option<String>,
    tlp: Option<String>,
    pap: Option<String>,
    #[serde(default)]
    constituents: Vec<String>,
}

async fn create_incident(State(state): State<AppState>, caller: ApiCaller, body: axum::body::Bytes) -> ApiResult {
    let body: NewIncidentBody = parse_body(&body)?;
    let mut incident = new_incident_from(
        body.owner_org_id,
        body.title,
        body.description,
        body.rsit_class,
        body.rsit_type,
        body.impact.as_deref().unwrap_or("medium"),
        body.urgency.as_deref().unwrap_or("medium"),
        body.tlp.as_deref().unwrap_or("AMBER"),
        body.pap.as_deref().unwrap_or("AMBER"),
    )?;
    incident.constituents = body.constituents;
    let created = state.desk().create_incident(&caller.actor(), &incident).await?;
    Ok((StatusCode::CREATED, Json(incident_json(&created))).into_response())
}

#[derive(Deserialize)]
struct BulkBody {
    ids: Vec<String>,
    action: String,
    status: Option<String>,
}

async fn bulk(State(state): State<AppState>, caller: ApiCaller, body: axum::body::Bytes) -> ApiResult {
    let body: BulkBody = parse_body(&body)?;
    if body.ids.is_empty() || body.ids.len() > 500 {
        return Err(WebError::invalid("ids", "give 1 to 500 incident ids").into());
    }
    let status = match body.action.as_str() {
        "assign_me" => None,
        "status" => {
            let text = body.status.as_deref().ok_or_else(|| WebError::invalid("status", "required for action `status`"))?;
            Some(Status::parse(text).map_err(|err| WebError::invalid("status", err.to_string()))?)
        }
        other => return Err(WebError::invalid("action", format!("`{other}` is not assign_me or status")).into()),
    };
    let actor = caller.actor();
    let mut results = Vec::new();
    for id in &body.ids {
        let outcome = match status {
            None => state.desk().assign(&actor, id, Some(caller.principal.user_id.as_str())).await.map(|_| ()),
            Some(to) => state.desk().change_status(&actor, id, to, "").await.map(|_| ()),
        };
        results.push(json!({"id": id, "ok": outcome.is_ok(), "error": outcome.err().map(|e| WebError::from(e).public_message())}));
    }
    Ok(Json(json!({"results": results})).into_response())
}

async fn validate_csaf(caller: ApiCaller, body: axum::body::Bytes) -> ApiResult {
    if !caller.principal.has(rampart_core::Permission::IncidentRead) {
        return Err(ApiError(WebError::Forbidden));
    }
    let document: Value = parse_body(&body)?;
    let problems = rampart_cirt::csaf::check(&document);
    Ok(Json(
        json!({"valid": problems.is_empty(), "implemented_mandatory_tests": rampart_cirt::csaf::MANDATORY_TESTS.as_slice(), "problems": problems}),
    )
    .into_response())
}

#[derive(Deserialize, Default)]
struct CvssQuery {
    vector: String,
}

async fn cvss_score(caller: ApiCaller, ApiQuery(query): ApiQuery<CvssQuery>) -> ApiResult {
    if !caller.principal.has(rampart_core::Permission::IncidentRead) {
        return Err(ApiError(WebError::Forbidden));
    }
    let score = rampart_cirt::csaf::cvss_base(&query.vector).map_err(|message| WebError::invalid("vector", message))?;
    Ok(Json(json!({"vector": score.vector, "version": score.version, "base_score": score.score, "severity": score.severity}))
        .into_response())
}

async fn get_incident(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> ApiResult {
    Ok(Json(state.desk().view(&caller.principal, &id).await?).into_response())
}

fn updated(incident: &rampart_store::cirt::IncidentRow, status: StatusCode) -> Response {
    (status, Json(incident_json(incident))).into_response()
}

#[derive(Deserialize)]
struct StatusBody {
    status: String,
    #[serde(default)]
    comment: String,
}

async fn change_status(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, body: axum::body::Bytes) -> ApiResult {
    let body: StatusBody = parse_body(&body)?;
    let to = Status::parse(&body.status).map_err(|err| WebError::invalid("status", err.to_string()))?;
    let incident = state.desk().change_status(&caller.actor(), &id, to, &body.comment).await?;
    Ok(updated(&incident, StatusCode::OK))
}

#[derive(Deserialize)]
struct AssignBody {
    assignee_id: Option<String>,
}

async fn assign(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, body: axum::body::Bytes) -> ApiResult {
    let body: AssignBody = parse_body(&body)?;
    let incident = state.desk().assign(&caller.actor(), &id, body.assignee_id.as_deref()).await?;
    Ok(updated(&incident, StatusCode::OK))
}

#[derive(Deserialize)]
struct NoteBody {
    text: String,
    #[serde(default)]
    response: bool,
}

async fn add_note(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, body: axum::body::Bytes) -> ApiResult {
    let body: NoteBody = parse_body(&body)?;
    let incident = state.desk().add_note(&caller.actor(), &id, &body.text, body.response).await?;
    Ok(updated(&incident, StatusCode::CREATED))
}

#[derive(Deserialize)]
struct TaskBody {
    title: String,
}

async fn add_task(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, body: axum::body::Bytes) -> ApiResult {
    let body: TaskBody = parse_body(&body)?;
    let incident = state.desk().add_task(&caller.actor(), &id, &body.title).await?;
    Ok(updated(&incident, StatusCode::CREATED))
}

#[derive(Deserialize)]
struct TaskStateBody {
    done: bool,
}

async fn set_task(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, task_id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> ApiResult {
    let body: TaskStateBody = parse_body(&body)?;
    let incident = state.desk().set_task(&caller.actor(), &id, &task_id, body.done).await?;
    Ok(updated(&incident, StatusCode::OK))
}

#[derive(Deserialize)]
struct ObservableBody {
    kind: String,
    value: String,
}

async fn add_observable(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, body: axum::body::Bytes) -> ApiResult {
    let body: ObservableBody = parse_body(&body)?;
    let incident = state.desk().add_observable(&caller.actor(), &id, &body.kind, &body.value).await?;
    Ok(updated(&incident, StatusCode::CREATED))
}

#[derive(Deserialize)]
struct OrgBody {
    org_id: String,
}

async fn add_constituent(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, body: axum::body::Bytes) -> ApiResult {
    let body: OrgBody = parse_body(&body)?;
    let incident = state.desk().add_constituent(&caller.actor(), &id, &body.org_id).await?;
    Ok(updated(&incident, StatusCode::CREATED))
}

#[derive(Deserialize)]
struct ClassificationBody {
    #[serde(default)]
    rsit_class: String,
    rsit_type: String,
    impact: String,
    urgency: String,
    tlp: String,
    pap: String,
}

fn tlp(field: &'static str, text: &str) -> Result<Tlp, WebError> {
    text.parse::<Tlp>().map_err(|_| WebError::invalid(field, format!("`{text}` is not a TLP label")))
}

async fn classify(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, body: axum::body::Bytes) -> ApiResult {
    let body: ClassificationBody = parse_body(&body)?;
    let impact = Level::parse("impact", &body.impact).map_err(|e| WebError::invalid("impact", e.to_string()))?;
    let urgency = Level::parse("urgency", &body.urgency).map_err(|e| WebError::invalid("urgency", e.to_string()))?;
    let incident = state
        .desk()
        .reclassify(
            &caller.actor(),
            &id,
            &body.rsit_class,
            &body.rsit_type,
            impact,
            urgency,
            tlp("tlp", &body.tlp)?,
            tlp("pap", &body.pap)?,
        )
        .await?;
    Ok(updated(&incident, StatusCode::OK))
}

#[derive(Deserialize)]
struct OtherBody {
    other: String,
}

async fn link(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, body: axum::body::Bytes) -> ApiResult {
    let body: OtherBody = parse_body(&body)?;
    let incident = state.desk().link(&caller.actor(), &id, &body.other).await?;
    Ok(updated(&incident, StatusCode::CREATED))
}

async fn merge(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, body: axum::body::Bytes) -> ApiResult {
    let body: OtherBody = parse_body(&body)?;
    let incident = state.desk().merge(&caller.actor(), &id, &body.other).await?;
    Ok(updated(&incident, StatusCode::OK))
}

#[derive(Deserialize, Default)]
struct UploadQuery {
    filename: Option<String>,
}

async fn upload_attachment(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<UploadQuery>,
    body: axum::body::Bytes,
) -> ApiResult {
    let filename = query.filename.unwrap_or_else(|| "attachment".into());
    let row = state.desk().add_attachment(&caller.actor(), &id, &filename, &body).await?;
    Ok((StatusCode::CREATED, Json(row)).into_response())
}

async fn download_attachment(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, attachment_id)): Path<(String, String)>,
) -> ApiResult {
    let (row, content) = state.desk().attachment(&caller.principal, &id, &attachment_id).await?;
    Ok(crate::pages::cirt::attachment_response(&row, content))
}

// ----- reports ------------------------------------------------------------------

#[derive(Deserialize, Default)]
struct ReportQuery {
    status: Option<String>,
    #[serde(flatten)]
    list: ListParams,
}

async fn list_reports(State(state): State<AppState>, caller: ApiCaller, ApiQuery(query): ApiQuery<ReportQuery>) -> ApiResult {
    let status = query.status.unwrap_or_else(|| "new".into());
    let page = state.desk().reports(&caller.principal, (status != "all").then_some(status.as_str()), &query.list.page(50)?).await?;
    let items: Vec<Value> = page.items.iter().map(|r| serde_json::to_value(r).unwrap_or_default()).collect();
    Ok(listing::render(
        items,
        page.next_cursor,
        query.list.format()?,
        &["reference", "subject", "channel", "status", "received_at", "tlp", "id"],
        "reports",
    ))
}

#[derive(Deserialize)]
struct ReportBody {
    subject: String,
    body: String,
    reporter_email: Option<String>,
    tlp: Option<String>,
    cirt_org_id: Option<String>,
}

async fn submit_report(State(state): State<AppState>, caller: ApiCaller, body: axum::body::Bytes) -> ApiResult {
    let body: ReportBody = parse_body(&body)?;
    let report = NewReport {
        subject: body.subject,
        body: body.body,
        reporter_email: body.reporter_email,
        tlp: tlp("tlp", body.tlp.as_deref().unwrap_or("AMBER"))?,
        cirt_org_id: body.cirt_org_id,
        country: None,
    };
    let row = state.desk().submit_report(Some(&caller.actor()), Channel::Api, &report).await?;
    Ok((StatusCode::CREATED, Json(row)).into_response())
}

async fn get_report(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> ApiResult {
    Ok(Json(state.desk().report(&caller.principal, &id).await?).into_response())
}

#[derive(Deserialize)]
struct PromoteBody {
    existing: Option<String>,
    title: Option<String>,
    rsit_type: Option<String>,
    impact: Option<String>,
    urgency: Option<String>,
    tlp: Option<String>,
    pap: Option<String>,
}

async fn promote_report(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, body: axum::body::Bytes) -> ApiResult {
    let body: PromoteBody = parse_body(&body)?;
    let actor = caller.actor();
    let incident = match body.existing.as_deref().filter(|e| !e.is_empty()) {
        Some(existing) => state.desk().promote_report(&actor, &id, None, Some(existing)).await?,
        None => {
            let report = state.desk().report(&caller.principal, &id).await?;
            let incident = new_incident_from(
                report.owner_org_id.clone(),
                body.title.unwrap_or_else(|| report.subject.clone()),
                report.body.clone(),
                String::new(),
                body.rsit_type.ok_or_else(|| WebError::invalid("rsit_type", "required unless `existing` is given"))?,
                body.impact.as_deref().unwrap_or("medium"),
                body.urgency.as_deref().unwrap_or("medium"),
                body.tlp.as_deref().unwrap_or(&report.tlp),
                body.pap.as_deref().unwrap_or("AMBER"),
            )?;
            state.desk().promote_report(&actor, &id, Some(incident), None).await?
        }
    };
    Ok(updated(&incident, StatusCode::CREATED))
}

#[derive(Deserialize)]
struct RejectBody {
    #[serde(default)]
    reason: String,
}

async fn reject_report(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, body: axum::body::Bytes) -> ApiResult {
    let body: RejectBody = if body.is_empty() { RejectBody { reason: String::new() } } else { parse_body(&body)? };
    state.desk().reject_report(&caller.actor(), &id, &body.reason).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ----- constituency -------------------------------------------------------------

#[derive(Deserialize, Default)]
struct LookupQuery {
    q: String,
}

async fn lookup(State(state): State<AppState>, caller: ApiCaller, ApiQuery(query): ApiQuery<LookupQuery>) -> ApiResult {
    let matches = state.desk().lookup(&caller.principal, &query.q).await?;
    Ok(Json(json!({"items": matches, "next_cursor": null})).into_response())
}

async fn entries(State(state): State<AppState>, caller: ApiCaller, Path(org_id): Path<String>) -> ApiResult {
    if !caller.principal.has(rampart_core::Permission::ConstituencyRead)
        && !caller.principal.has(rampart_core::Permission::ConstituencyManage)
    {
        return Err(ApiError(WebError::Forbidden));
    }
    let store = state.store();
    let org = store.org_get(&org_id).await?;
    if !state.desk().may_read_registry(&caller.principal, &org).await? {
        return Err(ApiError(WebError::NotFound("organisation")));
    }
    let networks: Vec<String> = store.networks_of(&org_id).await?.into_iter().map(|n| n.network).collect();
    Ok(Json(json!({"networks": networks, "asns": store.asns_of(&org_id).await?, "domains": store.domains_of(&org_id).await?}))
        .into_response())
}

#[derive(Deserialize, Default)]
struct EntryBody {
    kind: String,
    value: String,
}

async fn add_entry(State(state): State<AppState>, caller: ApiCaller, Path(org_id): Path<String>, body: axum::body::Bytes) -> ApiResult {
    let body: EntryBody = parse_body(&body)?;
    let actor = caller.actor();
    let value = match body.kind.as_str() {
        "network" => state.desk().add_network(&actor, &org_id, &body.value).await?.network,
        "asn" => state.desk().add_asn(&actor, &org_id, &body.value).await?.to_string(),
        "domain" => state.desk().add_domain(&actor, &org_id, &body.value).await?,
        other => return Err(WebError::invalid("kind", format!("`{other}` is not network, asn or domain")).into()),
    };
    Ok((StatusCode::CREATED, Json(json!({"kind": body.kind, "value": value}))).into_response())
}

async fn remove_entry(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(org_id): Path<String>,
    ApiQuery(query): ApiQuery<EntryBody>,
) -> ApiResult {
    state.desk().remove_entry(&caller.actor(), &org_id, &query.kind, &query.value).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn export_registry(State(state): State<AppState>, caller: ApiCaller) -> ApiResult {
    let csv = state.desk().export_registry(&caller.principal).await?;
    let mut response = csv.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    Ok(response)
}

async fn import_registry(State(state): State<AppState>, caller: ApiCaller, body: axum::body::Bytes) -> ApiResult {
    // Without the permission somewhere no row could be imported; refuse
    // before an empty file is accepted and audited.
    if !caller.principal.has(rampart_core::Permission::ConstituencyManage) {
        return Err(ApiError(WebError::Forbidden));
    }
    let text = String::from_utf8(body.to_vec()).map_err(|_| WebError::invalid("body", "is not UTF-8 text"))?;
    match state.desk().import_registry(&caller.actor(), &text).await {
        Ok(added) => Ok(Json(json!({"added": added})).into_response()),
        Err(errors) => {
            let (line, message) = errors.first().cloned().unwrap_or((0, "invalid".into()));
            let all: Vec<Value> = errors.iter().map(|(line, message)| json!({"line": line, "message": message})).collect();
            let body = json!({"error": {"code": "invalid", "message": format!("line {line}: {message}"), "field": format!("line {line}"), "rows": all}});
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response())
        }
    }
}
