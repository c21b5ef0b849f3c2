//! Guidance pages for each audience of the ITU COP Guidelines, public and
//! in the visitor's language; administrators edit them in Markdown.

use super::{Ctx, flash_text, render, render_status};
use crate::AppState;
use crate::error::{PageError, WebError};
use crate::viewer::Viewer;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use rampart_cop::guidance::{AUDIENCES, Guidance};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/guidance", get(index))
        .route("/guidance/{audience}", get(page))
        .route("/guidance/{audience}/edit", get(edit_form).post(save))
}

#[derive(Template)]
#[template(path = "guidance_index.html")]
struct IndexPage {
    c: Ctx,
    /// (audience, title, summary)
    audiences: Vec<(String, String, String)>,
}

async fn index(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    let c = Ctx::new(&state, &viewer, "cop.guidance.title", "guidance");
    let mut audiences = Vec::new();
    for audience in AUDIENCES {
        let page = state.guidance().page(audience, c.lang).await?;
        let summary = page.markdown.split("\n\n").map(str::trim).find(|p| !p.is_empty() && !p.starts_with('#')).unwrap_or("").to_owned();
        audiences.push((audience.to_owned(), page.title, summary));
    }
    render(&IndexPage { c, audiences })
}

#[derive(Template)]
#[template(path = "guidance_page.html")]
struct GuidancePage {
    c: Ctx,
    audience: String,
    title: String,
    html: String,
    /// The text is in another language than the page (no translation yet).
    fallback: bool,
    text_lang: String,
    may_edit: bool,
}

#[derive(Deserialize, Default)]
struct DoneQuery {
    done: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(audience): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let c = Ctx::new(&state, &viewer, "cop.guidance.title", "guidance");
    let c = Ctx { flash: flash_text(&c.t, query.done.as_deref()), ..c };
    let found = state.guidance().page(&audience, c.lang).await?;
    let may_edit = viewer.principal.as_ref().is_some_and(Guidance::may_edit);
    let page = GuidancePage {
        fallback: found.language != c.lang,
        text_lang: found.language.clone(),
        html: crate::markdown::to_html(&found.markdown),
        title: found.title,
        audience,
        may_edit,
        c,
    };
    render(&page)
}

#[derive(Template)]
#[template(path = "guidance_edit.html")]
struct EditPage {
    c: Ctx,
    audience: String,
    edit_lang: String,
    languages: Vec<(&'static str, &'static str)>,
    title: String,
    body: String,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
struct EditQuery {
    lang: Option<String>,
}

async fn edit_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(audience): Path<String>,
    Query(query): Query<EditQuery>,
) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    if !Guidance::may_edit(principal) {
        return Err(WebError::Forbidden.into());
    }
    let lang = crate::i18n::supported(query.lang.as_deref().unwrap_or(viewer.lang)).unwrap_or("en");
    let found = state.guidance().page(&audience, lang).await?;
    let c = Ctx::new(&state, &viewer, "cop.guidance.edit", "guidance");
    let page = EditPage {
        c,
        audience,
        edit_lang: lang.to_owned(),
        languages: crate::i18n::LANGUAGES.to_vec(),
        title: found.title,
        body: found.markdown,
        error: None,
    };
    render(&page)
}

#[derive(Deserialize)]
struct EditForm {
    csrf: String,
    lang: String,
    title: String,
    body: String,
}

async fn save(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(audience): Path<String>,
    Form(form): Form<EditForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    match state.guidance().save(&actor, &audience, &form.lang, &form.title, &form.body).await {
        Ok(()) => Ok(Redirect::to(&format!("/guidance/{audience}?done=cop.guidance.saved")).into_response()),
        Err(err) => match WebError::from(err) {
            err @ WebError::Invalid { .. } => {
                let c = Ctx::new(&state, &viewer, "cop.guidance.edit", "guidance");
                let page = EditPage {
                    c,
                    audience,
                    edit_lang: form.lang,
                    languages: crate::i18n::LANGUAGES.to_vec(),
                    title: form.title,
                    body: form.body,
                    error: Some(err.public_message()),
                };
                render_status(&page, Some(err.status()))
            }
            err => Err(err.into()),
        },
    }
}
