//! Platform API: countries, organisations, users and roles, API tokens,
//! the audit log.

use super::{ApiQuery, ApiRoute, error_schema, list_of, list_parameters, parse_body, path_parameter, query_parameter, schema_ref};
use crate::AppState;
use crate::error::{ApiError, WebError};
use crate::listing::{self, ListParams};
use crate::pages::{admin, directory};
use crate::viewer::ApiCaller;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use rampart_auth::service::NewUserRequest;
use rampart_auth::{Principal, Scope, Target};
use rampart_core::{Permission, Role, country};
use rampart_store::users::UserFilter;
use rampart_store::{AuditFilter, NewOrg};
use serde::Deserialize;
use serde_json::{Value, json};

type ApiResult = Result<Response, ApiError>;

fn require(principal: &Principal, permission: Permission) -> Result<(), ApiError> {
    if principal.has(permission) { Ok(()) } else { Err(ApiError(WebError::Forbidden)) }
}

pub fn schemas() -> Value {
    json!({
        "Error": error_schema(),
        "Country": {"type": "object", "required": ["alpha2", "alpha3", "numeric", "name", "region"], "properties": {
            "alpha2": {"type": "string", "pattern": "^[A-Z]{2}$"}, "alpha3": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "numeric": {"type": "string", "pattern": "^[0-9]{3}$"}, "name": {"type": "string"},
            "region": {"type": "string", "enum": ["africa", "americas", "arab_states", "asia_pacific", "cis", "europe"]}}},
        "Organisation": {"type": "object", "required": ["id", "name", "kind"], "properties": {
            "id": {"type": "string", "format": "uuid"}, "name": {"type": "string"}, "short_name": {"type": ["string", "null"]},
            "kind": {"type": "string"}, "sector": {"type": ["string", "null"]}, "country": {"type": ["string", "null"]},
            "parent_id": {"type": ["string", "null"]}, "website": {"type": ["string", "null"]}, "mfa_required": {"type": "boolean"},
            "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"}}},
        "Contact": {"type": "object", "required": ["id", "org_id", "role", "email"], "properties": {
            "id": {"type": "string"}, "org_id": {"type": "string"}, "role": {"type": "string"},
            "name": {"type": ["string", "null"]}, "email": {"type": "string"}, "phone": {"type": ["string", "null"]}}},
        "NewContact": {"type": "object", "required": ["role", "email"], "properties": {
            "role": {"type": "string", "examples": ["incident reports"]}, "name": {"type": "string"},
            "email": {"type": "string"}, "phone": {"type": "string"}}},
        "NewOrganisation": {"type": "object", "required": ["name", "kind"], "properties": {
            "name": {"type": "string"}, "kind": {"type": "string"}, "sector": {"type": "string"}, "country": {"type": "string"},
            "short_name": {"type": "string"}, "parent_id": {"type": "string"}, "website": {"type": "string"}}},
        "User": {"type": "object", "required": ["id", "email", "display_name", "org_id"], "properties": {
            "id": {"type": "string"}, "email": {"type": "string"}, "display_name": {"type": "string"}, "org_id": {"type": "string"},
            "organisation": {"type": ["string", "null"]}, "language": {"type": "string"}, "disabled": {"type": "boolean"},
            "totp_enabled": {"type": "boolean"}, "created_at": {"type": "string"}, "last_login_at": {"type": ["string", "null"]},
            "roles": {"type": "array", "items": {"$ref": "#/components/schemas/RoleGrant"}}}},
        "NewUser": {"type": "object", "required": ["org_id", "email", "display_name", "password"], "properties": {
            "org_id": {"type": "string"}, "email": {"type": "string"}, "display_name": {"type": "string"},
            "password": {"type": "string", "minLength": 12}, "language": {"type": "string", "default": "en"},
            "must_change_password": {"type": "boolean", "default": true}}},
        "RoleGrant": {"type": "object", "required": ["id", "role"], "properties": {
            "id": {"type": "string"}, "role": {"type": "string"}, "scope_org_id": {"type": ["string", "null"]},
            "scope_country": {"type": ["string", "null"]}, "created_at": {"type": "string"}}},
        "NewRoleGrant": {"type": "object", "required": ["role", "scope"], "properties": {
            "role": {"type": "string", "enum": Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>()},
            "scope": {"type": "string", "enum": ["global", "org", "country"]},
            "org_id": {"type": "string", "description": "For scope `org`; defaults to the user's organisation."},
            "country": {"type": "string", "description": "ISO alpha-2, for scope `country`."}}},
        "Me": {"type": "object", "properties": {"user_id": {"type": "string"}, "email": {"type": "string"}, "display_name": {"type": "string"},
            "org_id": {"type": "string"}, "org_country": {"type": ["string", "null"]}, "language": {"type": "string"},
            "grants": {"type": "array", "items": {"type": "object"}}, "via": {}}},
        "ApiToken": {"type": "object", "required": ["id", "name", "prefix", "roles"], "properties": {
            "id": {"type": "string"}, "user_id": {"type": "string"}, "name": {"type": "string"}, "prefix": {"type": "string"},
            "roles": {"type": "array", "items": {"type": "string"}}, "created_at": {"type": "string"},
            "expires_at": {"type": ["string", "null"]}, "revoked_at": {"type": ["string", "null"]}, "last_used_at": {"type": ["string", "null"]}}},
        "NewApiToken": {"type": "object", "required": ["name", "roles"], "properties": {
            "name": {"type": "string"}, "roles": {"type": "array", "items": {"type": "string"}},
            "valid_days": {"type": "integer", "minimum": 1, "maximum": 366}}},
        "CreatedApiToken": {"type": "object", "required": ["token", "details"], "properties": {
            "token": {"type": "string", "description": "Shown once; store it safely."}, "details": {"$ref": "#/components/schemas/ApiToken"}}},
        "AuditEntry": {"type": "object", "properties": {
            "seq": {"type": "integer"}, "at": {"type": "string"}, "actor_id": {"type": ["string", "null"]}, "actor_label": {"type": "string"},
            "actor_org_id": {"type": ["string", "null"]}, "action": {"type": "string"}, "entity_type": {"type": "string"},
            "entity_id": {"type": ["string", "null"]}, "source_ip": {"type": ["string", "null"]}, "summary": {"type": "string"},
            "prev_hash": {"type": "string"}, "hash": {"type": "string"}}},
        "AuditVerification": {"type": "object", "properties": {"entries": {"type": "integer"}, "head_hash": {"type": "string"}, "problem": {}}},
    })
}

pub fn routes() -> Vec<ApiRoute> {
    let any_role = "any user holding a role (directory reading)";
    vec![
        ApiRoute {
            method: "get",
            path: "/countries",
            operation_id: "listCountries",
            tag: "reference",
            summary: "The 194 ITU member states with ISO codes and ITU region.",
            access: any_role,
            parameters: vec![
                query_parameter("region", "ITU region slug."),
                query_parameter("q", "Name or code contains."),
                json!({"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv"]}}),
            ],
            request_body: None,
            request_media: &["application/json"],
            success_status: 200,
            response: list_of("Country"),
            handler: get(list_countries),
        },
        ApiRoute {
            method: "get",
            path: "/countries/{code}",
            operation_id: "getCountry",
            tag: "reference",
            summary: "One country by alpha-2, alpha-3 or numeric code.",
            access: any_role,
            parameters: vec![path_parameter("code", "ISO 3166-1 code.")],
            request_body: None,
            request_media: &["application/json"],
            success_status: 200,
            response: schema_ref("Country"),
            handler: get(get_country),
        },
        ApiRoute {
            method: "get",
            path: "/organisations",
            operation_id: "listOrganisations",
            tag: "organisations",
            summary: "The organisation directory, filtered and paged.",
            access: any_role,
            parameters: [
                vec![
                    query_parameter("country", "ISO code."),
                    query_parameter("kind", "Organisation kind."),
                    query_parameter("q", "Name contains."),
                ],
                list_parameters(),
            ]
            .concat(),
            request_body: None,
            request_media: &["application/json"],
            success_status: 200,
            response: list_of("Organisation"),
            handler: get(list_orgs),
        },
        ApiRoute {
            method: "post",
            path: "/organisations",
            operation_id: "createOrganisation",
            tag: "organisations",
            summary: "Create an organisation.",
            access: "platform administrators",
            parameters: vec![],
            request_body: Some(schema_ref("NewOrganisation")),
            request_media: &["application/json"],
            success_status: 201,
            response: schema_ref("Organisation"),
            handler: post(create_org),
        },
        ApiRoute {
            method: "get",
            path: "/organisations/{id}",
            operation_id: "getOrganisation",
            tag: "organisations",
            summary: "One organisation.",
            access: any_role,
            parameters: vec![path_parameter("id", "Organisation id.")],
            request_body: None,
            request_media: &["application/json"],
            success_status: 200,
            response: schema_ref("Organisation"),
            handler: get(get_org),
        },
        ApiRoute {
            method: "get",
            path: "/organisations/{id}/contacts",
            operation_id: "listContacts",
            tag: "organisations",
            summary: "An organisation's contacts (role addresses).",
            access: "members of the organisation, its managers, and user administrators",
            parameters: vec![path_parameter("id", "Organisation id.")],
            request_body: None,
            request_media: &["application/json"],
            success_status: 200,
            response: list_of("Contact"),
            handler: get(list_contacts),
        },
        ApiRoute {
            method: "post",
            path: "/organisations/{id}/contacts",
            operation_id: "addContact",
            tag: "organisations",
            summary: "Add a contact to an organisation.",
            access: "the organisation's administrators and platform administrators",
            parameters: vec![path_parameter("id", "Organisation id.")],
            request_body: Some(schema_ref("NewContact")),
            request_media: &["application/json"],
            success_status: 201,
            response: schema_ref("Contact"),
            handler: post(add_contact),
        },
        ApiRoute {
            method: "delete",
            path: "/organisations/{id}/contacts/{contact_id}",
            operation_id: "removeContact",
            tag: "organisations",
            summary: "Remove a contact.",
            access: "the organisation's administrators and platform administrators",
            parameters: vec![path_parameter("id", "Organisation id."), path_parameter("contact_id", "Contact id.")],
            request_body: None,
            request_media: &["application/json"],
            success_status: 204,
            response: json!({}),
            handler: delete(remove_contact),
        },
        ApiRoute {
            method: "put",
            path: "/organisations/{id}/contacts/{contact_id}/openpgp-key",
            operation_id: "setContactKey",
            tag: "organisations",
            summary: "Register a contact's OpenPGP public key; notices to the contact are then sent encrypted (PGP/MIME).",
            access: "the organisation's administrators and the CIRT managing its registry",
            parameters: vec![path_parameter("id", "Organisation id."), path_parameter("contact_id", "Contact id.")],
            request_body: Some(
                json!({"type": "object", "required": ["key"], "properties": {"key": {"type": "string", "description": "Armoured OpenPGP public key with an encryption subkey."}}}),
            ),
            request_media: &["application/json"],
            success_status: 200,
            response: json!({"type": "object", "properties": {"fingerprint": {"type": "string"}, "user_ids": {"type": "array", "items": {"type": "string"}}}}),
            handler: put(set_contact_key),
        },
        ApiRoute {
            method: "delete",
            path: "/organisations/{id}/contacts/{contact_id}/openpgp-key",
            operation_id: "removeContactKey",
            tag: "organisations",
            summary: "Remove a contact's OpenPGP key; notices are sent unencrypted again.",
            access: "the organisation's administrators and the CIRT managing its registry",
            parameters: vec![path_parameter("id", "Organisation id."), path_parameter("contact_id", "Contact id.")],
            request_body: None,
            request_media: &["application/json"],
            success_status: 204,
            response: json!({}),
            handler: delete(remove_contact_key),
        },
        ApiRoute {
            method: "get",
            path: "/users",
            operation_id: "listUsers",
            tag: "users",
            summary: "Users the caller may administer.",
            access: "platform administrators (all), organisation administrators (their organisation)",
            parameters: [vec![query_parameter("org_id", "Organisation id."), query_parameter("q", "E-mail contains.")], list_parameters()]
                .concat(),
            request_body: None,
            request_media: &["application/json"],
            success_status: 200,
            response: list_of("User"),
            handler: get(list_users),
        },
        ApiRoute {
            method: "post",
            path: "/users",
            operation_id: "createUser",
            tag: "users",
            summary: "Create a user.",
            access: "platform administrators, organisation administrators (in their organisation)",
            parameters: vec![],
            request_body: Some(schema_ref("NewUser")),
            request_media: &["application/json"],
            success_status: 201,
            response: schema_ref("User"),
            handler: post(create_user),
        },
        ApiRoute {
            method: "get",
            path: "/users/{id}",
            operation_id: "getUser",
            tag: "users",
            summary: "One user with their roles.",
            access: "the user, and their administrators; others get 404",
            parameters: vec![path_parameter("id", "User id.")],
            request_body: None,
            request_media: &["application/json"],
            success_status: 200,
            response: schema_ref("User"),
            handler: get(get_user),
        },
        ApiRoute {
            method: "post",
            path: "/users/{id}/roles",
            operation_id: "grantRole",
            tag: "users",
            summary: "Grant a role to a user.",
            access: "platform administrators; organisation administrators within their organisation",
            parameters: vec![path_parameter("id", "User id.")],
            request_body: Some(schema_ref("NewRoleGrant")),
            request_media: &["application/json"],
            success_status: 201,
            response: schema_ref("RoleGrant"),
            handler: post(grant_role),
        },
        ApiRoute {
            method: "delete",
            path: "/users/{id}/roles/{grant_id}",
            operation_id: "revokeRole",
            tag: "users",
            summary: "Revoke a role grant.",
            access: "as for granting",
            parameters: vec![path_parameter("id", "User id."), path_parameter("grant_id", "Grant id.")],
            request_body: None,
            request_media: &["application/json"],
            success_status: 204,
            response: json!({}),
            handler: delete(revoke_role),
        },
        ApiRoute {
            method: "get",
            path: "/me",
            operation_id: "whoAmI",
            tag: "users",
            summary: "The caller: user, organisation and the roles in force for this request.",
            access: "any authenticated caller",
            parameters: vec![],
            request_body: None,
            request_media: &["application/json"],
            success_status: 200,
            response: schema_ref("Me"),
            handler: get(me),
        },
        ApiRoute {
            method: "get",
            path: "/tokens",
            operation_id: "listTokens",
            tag: "tokens",
            summary: "The caller's API tokens (never the secrets).",
            access: "any authenticated caller, own tokens",
            parameters: vec![],
            request_body: None,
            request_media: &["application/json"],
            success_status: 200,
            response: list_of("ApiToken"),
            handler: get(list_tokens),
        },
        ApiRoute {
            method: "post",
            path: "/tokens",
            operation_id: "createToken",
            tag: "tokens",
            summary: "Create a personal API token limited to some of the caller's roles.",
            access: "any authenticated caller",
            parameters: vec![],
            request_body: Some(schema_ref("NewApiToken")),
            request_media: &["application/json"],
            success_status: 201,
            response: schema_ref("CreatedApiToken"),
            handler: post(create_token),
        },
        ApiRoute {
            method: "delete",
            path: "/tokens/{id}",
            operation_id: "revokeToken",
            tag: "tokens",
            summary: "Revoke a token.",
            access: "the token's owner and their administrators",
            parameters: vec![path_parameter("id", "Token id.")],
            request_body: None,
            request_media: &["application/json"],
            success_status: 204,
            response: json!({}),
            handler: delete(revoke_token),
        },
        ApiRoute {
            method: "get",
            path: "/audit",
            operation_id: "listAudit",
            tag: "audit",
            summary: "Audit entries, newest first.",
            access: "platform administrators (all), organisation administrators (their people's entries)",
            parameters: [
                vec![
                    query_parameter("action", "Action prefix, e.g. `platform.user`."),
                    query_parameter("entity_type", "Record type."),
                    query_parameter("entity_id", "Record id."),
                    query_parameter("actor_id", "User id."),
                ],
                list_parameters(),
            ]
            .concat(),
            request_body: None,
            request_media: &["application/json"],
            success_status: 200,
            response: list_of("AuditEntry"),
            handler: get(list_audit),
        },
        ApiRoute {
            method: "get",
            path: "/audit/verify",
            operation_id: "verifyAudit",
            tag: "audit",
            summary: "Walk the hash chain and report the first problem, if any.",
            access: "platform administrators",
            parameters: vec![],
            request_body: None,
            request_media: &["application/json"],
            success_status: 200,
            response: schema_ref("AuditVerification"),
            handler: get(verify_audit),
        },
    ]
}

// ----- countries ----------------------------------------------------------

#[derive(Deserialize, Default)]
struct CountryQuery {
    region: Option<String>,
    q: Option<String>,
    format: Option<String>,
}

async fn list_countries(caller: ApiCaller, ApiQuery(query): ApiQuery<CountryQuery>) -> ApiResult {
    require(&caller.principal, Permission::DirectoryRead)?;
    let matching = directory::filter_countries(query.region.as_deref(), query.q.as_deref())?;
    let format = ListParams { format: query.format, ..Default::default() }.format()?;
    let items = matching.iter().map(|c| serde_json::to_value(c).unwrap_or_default()).collect();
    Ok(listing::render(items, None, format, &["alpha2", "alpha3", "numeric", "name", "region"], "countries"))
}

async fn get_country(caller: ApiCaller, Path(code): Path<String>) -> ApiResult {
    require(&caller.principal, Permission::DirectoryRead)?;
    let found = country::find(&code).ok_or(ApiError(WebError::NotFound("country")))?;
    Ok(Json(found).into_response())
}

// ----- organisations ------------------------------------------------------

#[derive(Deserialize, Default)]
struct OrgQuery {
    country: Option<String>,
    kind: Option<String>,
    q: Option<String>,
    #[serde(flatten)]
    list: ListParams,
}

async fn list_orgs(State(state): State<AppState>, caller: ApiCaller, ApiQuery(query): ApiQuery<OrgQuery>) -> ApiResult {
    require(&caller.principal, Permission::DirectoryRead)?;
    let filter = directory::org_filter(query.country.as_deref(), query.kind.as_deref(), query.q.as_deref())?;
    let page = state.store().org_list(&filter, &query.list.page(50)?).await?;
    let items = page.items.iter().map(directory::org_json).collect();
    Ok(listing::render(items, page.next_cursor, query.list.format()?, &directory::ORG_COLUMNS, "organisations"))
}

async fn get_org(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> ApiResult {
    require(&caller.principal, Permission::DirectoryRead)?;
    let org = state.store().org_get(&id).await?;
    Ok(Json(directory::org_json(&org)).into_response())
}

#[derive(Deserialize)]
struct NewOrgBody {
    name: String,
    kind: String,
    sector: Option<String>,
    country: Option<String>,
    short_name: Option<String>,
    parent_id: Option<String>,
    website: Option<String>,
}

async fn create_org(State(state): State<AppState>, caller: ApiCaller, body: axum::body::Bytes) -> ApiResult {
    if !caller.principal.allows(Permission::OrgCreate, Target::Platform) {
        return Err(ApiError(WebError::Forbidden));
    }
    let body: NewOrgBody = parse_body(&body)?;
    let org = NewOrg {
        name: body.name,
        short_name: body.short_name,
        kind: body.kind,
        sector: body.sector,
        country: body.country,
        parent_id: body.parent_id,
        website: body.website,
        mfa_required: false,
    };
    let created = state.auth().create_org(&caller.actor(), &org).await?;
    Ok((StatusCode::CREATED, Json(directory::org_json(&created))).into_response())
}

/// Contacts are for the organisation's members, its managers and user
/// administrators; the directory shows everyone the organisation itself.
fn may_read_contacts(principal: &Principal, org: &rampart_store::Organisation) -> bool {
    principal.org_id == org.id
        || principal.allows(Permission::OrgManage, Target::Org { id: &org.id, country: org.country.as_deref() })
        || principal.allows(Permission::UserRead, Target::Org { id: &org.id, country: org.country.as_deref() })
}

#[derive(Deserialize)]
struct KeyBody {
    key: String,
}

async fn set_contact_key(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, contact_id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> ApiResult {
    let body: KeyBody = parse_body(&body)?;
    if body.key.trim().is_empty() {
        return Err(ApiError(WebError::invalid("key", "must not be empty; DELETE removes a key")));
    }
    let info = state.desk().set_contact_key(&caller.actor(), &id, &contact_id, Some(&body.key)).await?;
    let (fingerprint, user_ids) = info.map(|i| (i.fingerprint, i.user_ids)).unwrap_or_default();
    Ok(Json(json!({"fingerprint": fingerprint, "user_ids": user_ids})).into_response())
}

async fn remove_contact_key(State(state): State<AppState>, caller: ApiCaller, Path((id, contact_id)): Path<(String, String)>) -> ApiResult {
    state.desk().set_contact_key(&caller.actor(), &id, &contact_id, None).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_contacts(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> ApiResult {
    require(&caller.principal, Permission::DirectoryRead)?;
    let org = state.store().org_get(&id).await?;
    if !may_read_contacts(&caller.principal, &org) {
        return Err(ApiError(WebError::Forbidden));
    }
    let contacts = state.store().contacts_of(&org.id).await?;
    Ok(Json(json!({"items": contacts, "next_cursor": null})).into_response())
}

#[derive(Deserialize)]
struct ContactBody {
    role: String,
    name: Option<String>,
    email: String,
    phone: Option<String>,
}

async fn add_contact(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, body: axum::body::Bytes) -> ApiResult {
    let body: ContactBody = parse_body(&body)?;
    let contact =
        state.auth().add_contact(&caller.actor(), &id, &body.role, body.name.as_deref(), &body.email, body.phone.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(contact)).into_response())
}

async fn remove_contact(State(state): State<AppState>, caller: ApiCaller, Path((id, contact_id)): Path<(String, String)>) -> ApiResult {
    state.auth().remove_contact(&caller.actor(), &id, &contact_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ----- users --------------------------------------------------------------

async fn user_with_roles(state: &AppState, user: &rampart_store::UserRow) -> Result<Value, ApiError> {
    let org = state.store().org_get(&user.org_id).await?;
    let mut value = admin::user_json(user, Some(&org.name));
    value["roles"] = serde_json::to_value(state.store().grants_of(&user.id).await?).unwrap_or_default();
    Ok(value)
}

/// Loads a user the caller may see; anyone else is "not found".
async fn visible_user(state: &AppState, principal: &Principal, id: &str) -> Result<rampart_store::UserRow, ApiError> {
    let user = state.store().user_get(id).await?;
    if !state.auth().can_read_user(principal, &user).await? {
        return Err(ApiError(WebError::NotFound("user")));
    }
    Ok(user)
}

#[derive(Deserialize, Default)]
struct UserQuery {
    org_id: Option<String>,
    q: Option<String>,
    #[serde(flatten)]
    list: ListParams,
}

async fn list_users(State(state): State<AppState>, caller: ApiCaller, ApiQuery(query): ApiQuery<UserQuery>) -> ApiResult {
    require(&caller.principal, Permission::UserRead)?;
    let wanted = query.org_id.clone().filter(|id| !id.is_empty());
    let org_id = match caller.principal.org_ids_for(Permission::UserRead) {
        None => wanted,
        Some(allowed) => match wanted.as_deref() {
            Some(wanted) if allowed.iter().any(|a| a == wanted) => Some(wanted.to_owned()),
            Some(_) => return Err(ApiError(WebError::Forbidden)),
            None => Some(allowed.first().cloned().ok_or(ApiError(WebError::Forbidden))?),
        },
    };
    let filter = UserFilter { org_id, email_contains: query.q.clone() };
    let page = state.store().user_list(&filter, &query.list.page(50)?).await?;
    let mut items = Vec::with_capacity(page.items.len());
    for user in &page.items {
        let org = state.store().org_get(&user.org_id).await?;
        items.push(admin::user_json(user, Some(&org.name)));
    }
    Ok(listing::render(items, page.next_cursor, query.list.format()?, &admin::USER_COLUMNS, "users"))
}

#[derive(Deserialize)]
struct NewUserBody {
    org_id: String,
    email: String,
    display_name: String,
    password: String,
    language: Option<String>,
    must_change_password: Option<bool>,
}

async fn create_user(State(state): State<AppState>, caller: ApiCaller, body: axum::body::Bytes) -> ApiResult {
    require(&caller.principal, Permission::UserManage)?;
    let body: NewUserBody = parse_body(&body)?;
    let request = NewUserRequest {
        org_id: body.org_id,
        email: body.email,
        display_name: body.display_name,
        password: body.password,
        language: body.language.unwrap_or_else(|| "en".into()),
        must_change_password: body.must_change_password.unwrap_or(true),
    };
    let id = state.auth().create_user(&caller.actor(), &request).await?;
    let user = state.store().user_get(&id).await?;
    Ok((StatusCode::CREATED, Json(user_with_roles(&state, &user).await?)).into_response())
}

async fn get_user(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> ApiResult {
    let user = visible_user(&state, &caller.principal, &id).await?;
    Ok(Json(user_with_roles(&state, &user).await?).into_response())
}

#[derive(Deserialize)]
struct GrantBody {
    role: String,
    scope: String,
    org_id: Option<String>,
    country: Option<String>,
}

async fn grant_role(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, body: axum::body::Bytes) -> ApiResult {
    require(&caller.principal, Permission::RoleGrant)?;
    let user = visible_user(&state, &caller.principal, &id).await?;
    let body: GrantBody = parse_body(&body)?;
    let role = body.role.parse::<Role>().map_err(|_| WebError::invalid("role", format!("unknown role `{}`", body.role)))?;
    let scope = match body.scope.as_str() {
        "global" => Scope::Global,
        "org" => Scope::Org(body.org_id.unwrap_or(user.org_id)),
        "country" => {
            Scope::Country(body.country.ok_or_else(|| WebError::invalid("country", "required for scope `country`"))?.to_ascii_uppercase())
        }
        other => return Err(WebError::invalid("scope", format!("unknown scope `{other}`")).into()),
    };
    let grant = state.auth().grant_role(&caller.actor(), &id, role, scope).await?;
    Ok((StatusCode::CREATED, Json(grant)).into_response())
}

async fn revoke_role(State(state): State<AppState>, caller: ApiCaller, Path((id, grant_id)): Path<(String, String)>) -> ApiResult {
    require(&caller.principal, Permission::RoleGrant)?;
    visible_user(&state, &caller.principal, &id).await?;
    let grant = state.store().grant_get(&grant_id).await?;
    if grant.user_id != id {
        return Err(ApiError(WebError::NotFound("role grant")));
    }
    state.auth().revoke_role(&caller.actor(), &grant_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn me(caller: ApiCaller) -> ApiResult {
    Ok(Json(&caller.principal).into_response())
}

// ----- tokens -------------------------------------------------------------

async fn list_tokens(State(state): State<AppState>, caller: ApiCaller) -> ApiResult {
    let tokens = state.store().tokens_of(&caller.principal.user_id).await?;
    Ok(Json(json!({"items": tokens, "next_cursor": null})).into_response())
}

#[derive(Deserialize)]
struct TokenBody {
    name: String,
    roles: Vec<String>,
    valid_days: Option<u32>,
}

async fn create_token(State(state): State<AppState>, caller: ApiCaller, body: axum::body::Bytes) -> ApiResult {
    let body: TokenBody = parse_body(&body)?;
    let roles = body
        .roles
        .iter()
        .map(|r| r.parse::<Role>().map_err(|_| WebError::invalid("roles", format!("unknown role `{r}`"))))
        .collect::<Result<Vec<_>, _>>()?;
    let (token, row) = state.auth().create_token(&caller.actor(), &body.name, &roles, body.valid_days).await?;
    Ok((StatusCode::CREATED, Json(json!({"token": token, "details": row}))).into_response())
}

async fn revoke_token(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> ApiResult {
    state.auth().revoke_token(&caller.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ----- audit --------------------------------------------------------------

#[derive(Deserialize, Default)]
struct AuditQuery {
    action: Option<String>,
    entity_type: Option<String>,
    entity_id: Option<String>,
    actor_id: Option<String>,
    #[serde(flatten)]
    list: ListParams,
}

async fn list_audit(State(state): State<AppState>, caller: ApiCaller, ApiQuery(query): ApiQuery<AuditQuery>) -> ApiResult {
    let filter = admin::scoped_audit_filter(
        &caller.principal,
        AuditFilter {
            action_prefix: query.action,
            entity_type: query.entity_type,
            entity_id: query.entity_id,
            actor_id: query.actor_id,
            actor_org_id: None,
        },
    )?;
    let page = state.store().audit_list(&filter, &query.list.page(100)?).await?;
    let items = page.items.iter().map(|r| serde_json::to_value(r).unwrap_or_default()).collect();
    Ok(listing::render(items, page.next_cursor, query.list.format()?, &admin::AUDIT_COLUMNS, "audit"))
}

async fn verify_audit(State(state): State<AppState>, caller: ApiCaller) -> ApiResult {
    if !caller.principal.is_platform_admin() {
        return Err(ApiError(WebError::Forbidden));
    }
    Ok(Json(state.store().audit_verify().await?).into_response())
}
