//! Questions and answers: `POST /api/qa/ask`, `POST /api/qa/ask/stream` (Server-Sent Events)
//! and the answer history under `/api/history`.
//!
//! Handlers validate the body into an [`AskRequest`] and hand it to the core [`Answerer`];
//! model failures become 502/504 (or 429 when every model slot is busy), never a 200 whose
//! "answer" is an error message. A stream that fails after it has started ends with an `error`
//! event carrying the same `{error, error_type}` body.
//!
//! [`Answerer`]: sociograph_core::answer::Answerer

use std::convert::Infallible;

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use sociograph_core::answer::{Answer, AskEvent, AskRequest};
use sociograph_core::types::{Language, Mode, Query as Question, TopK};
use sociograph_store::{HistoryPage, HistoryRecord};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ErrorBody};
use crate::routes::{blocking, query_error};
use crate::state::AppState;

/// A question.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AskBody {
    /// The question (1–2000 characters).
    query: String,
    /// Retrieval mode: `hybrid` (default), `naive`, `keyword` or `local`.
    mode: Option<String>,
    /// Sources to retrieve, 1–100 (default 6).
    top_k: Option<i64>,
    /// Sampling temperature, 0–2 (default from the configuration).
    temperature: Option<f64>,
    /// Longest answer in tokens, 1–32768 (default from the configuration).
    max_tokens: Option<i64>,
    /// Answer with this model instead of the configured one.
    model: Option<String>,
    /// Translate the answer into this language (`ar`, `fr`, …) with the translation model.
    language: Option<String>,
}

fn parse_body(body: Result<Json<AskBody>, JsonRejection>) -> Result<AskRequest, ApiError> {
    let Json(body) =
        body.map_err(|e| ApiError::BadRequest(format!("bad JSON body: {}", e.body_text())))?;
    let mut request = AskRequest::new(Question::parse(&body.query)?);
    if let Some(mode) = body.mode.as_deref().filter(|m| !m.is_empty()) {
        request.mode = Mode::parse(mode)?;
    }
    if let Some(k) = body.top_k {
        request.top_k = TopK::parse(k)?;
    }
    request.temperature = body
        .temperature
        .map(AskRequest::parse_temperature)
        .transpose()?;
    request.max_tokens = body
        .max_tokens
        .map(AskRequest::parse_max_tokens)
        .transpose()?;
    request.model = body
        .model
        .as_deref()
        .map(AskRequest::parse_model)
        .transpose()?;
    request.language = body
        .language
        .as_deref()
        .filter(|l| !l.trim().is_empty())
        .map(Language::parse)
        .transpose()?;
    Ok(request)
}

/// Answer a question from the corpus, citing sources as `[n]`. With no language model
/// configured the answer is extractive (`mode: "extractive"`).
#[utoipa::path(post, path = "/api/qa/ask", tag = "answers", request_body = AskBody,
    responses((status = 200, body = Answer), (status = 400, body = ErrorBody),
              (status = 429, description = "every model slot is busy", body = ErrorBody),
              (status = 502, description = "the model provider failed", body = ErrorBody),
              (status = 504, description = "the model provider timed out", body = ErrorBody)))]
pub async fn ask(
    State(state): State<AppState>,
    body: Result<Json<AskBody>, JsonRejection>,
) -> Result<Json<Answer>, ApiError> {
    let request = parse_body(body)?;
    let answerer = state.services()?.answerer.clone();
    Ok(Json(answerer.ask(request).await?))
}

#[derive(Serialize)]
struct DeltaBody<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct SourcesBody<'a> {
    sources: &'a [sociograph_core::answer::Source],
    graph_path: &'a Option<Vec<sociograph_store::PathStep>>,
    mode: sociograph_core::answer::AnswerMode,
    retrieval_mode: Mode,
}

fn sse_event(name: &str, data: &impl Serialize) -> Event {
    Event::default()
        .event(name)
        .json_data(data)
        .unwrap_or_else(|e| {
            Event::default()
                .event("error")
                .data(format!(r#"{{"error":"{e}","error_type":"internal"}}"#))
        })
}

fn to_sse(event: AskEvent) -> Event {
    match event {
        AskEvent::Sources {
            sources,
            graph_path,
            mode,
            retrieval_mode,
        } => sse_event(
            "sources",
            &SourcesBody {
                sources: &sources,
                graph_path: &graph_path,
                mode,
                retrieval_mode,
            },
        ),
        AskEvent::Delta(text) => sse_event("delta", &DeltaBody { text: &text }),
        AskEvent::Done(answer) => sse_event("done", &answer),
        AskEvent::Error(e) => sse_event("error", &ApiError::from(e).to_body().1),
    }
}

/// The same answer as Server-Sent Events: `sources` first, then `delta` events (`{text}`),
/// then `done` (the whole answer with `query_id`, citations and usage) — or `error`
/// (`{error, error_type}`) if the model fails mid-answer. Failures before the stream starts are
/// ordinary HTTP errors.
#[utoipa::path(post, path = "/api/qa/ask/stream", tag = "answers", request_body = AskBody,
    responses((status = 200, content_type = "text/event-stream", description = "events: sources, delta…, done | error"),
              (status = 400, body = ErrorBody), (status = 429, body = ErrorBody),
              (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
pub async fn ask_stream(
    State(state): State<AppState>,
    body: Result<Json<AskBody>, JsonRejection>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let request = parse_body(body)?;
    let answerer = state.services()?.answerer.clone();
    let events = answerer.ask_stream(request).await?;
    Ok(Sse::new(events.map(|e| Ok(to_sse(e)))).keep_alive(KeepAlive::default()))
}

// ------------------------------------------------------------------ history

#[derive(Deserialize, IntoParams)]
pub struct HistoryParams {
    /// Page number, from 1 (default 1).
    page: Option<String>,
    /// Entries per page, 1–100 (default 20).
    per_page: Option<String>,
    /// Only entries whose question or answer contains this text.
    q: Option<String>,
}

fn bounded(raw: Option<&str>, name: &str, default: u32, max: u32) -> Result<u32, ApiError> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(default),
        Some(r) => match r.parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::BadRequest(format!(
                "{name} must be a whole number between 1 and {max}, got {r:?}"
            ))),
        },
    }
}

fn history_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "{raw:?} is not a history id (a positive whole number)"
        ))
    })
}

/// Past answers, newest first.
#[utoipa::path(get, path = "/api/history", tag = "answers", params(HistoryParams),
    responses((status = 200, body = HistoryPage), (status = 400, body = ErrorBody)))]
pub async fn list_history(
    State(state): State<AppState>,
    params: Result<Query<HistoryParams>, QueryRejection>,
) -> Result<Json<HistoryPage>, ApiError> {
    let Query(params) = params.map_err(query_error)?;
    let page = bounded(params.page.as_deref(), "page", 1, 1_000_000)?;
    let per_page = bounded(params.per_page.as_deref(), "per_page", 20, 100)?;
    let filter = params.q.filter(|q| !q.trim().is_empty());
    if filter.as_ref().is_some_and(|q| q.chars().count() > 500) {
        return Err(ApiError::BadRequest(
            "q is longer than 500 characters".into(),
        ));
    }
    let store = state.services()?.store.clone();
    blocking(move || Ok(Json(store.history(page, per_page, filter.as_deref())?))).await
}

/// One past answer.
#[utoipa::path(get, path = "/api/history/{id}", tag = "answers",
    params(("id" = i64, Path, description = "history id (the answer's query_id)")),
    responses((status = 200, body = HistoryRecord), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_history(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<HistoryRecord>, ApiError> {
    let id = history_id(&id)?;
    let store = state.services()?.store.clone();
    blocking(move || {
        store
            .history_entry(id)?
            .map(Json)
            .ok_or_else(|| ApiError::NotFound(format!("no history entry {id}")))
    })
    .await
}

/// Forget one past answer. Its id is never given to another.
#[utoipa::path(delete, path = "/api/history/{id}", tag = "answers",
    params(("id" = i64, Path, description = "history id")),
    security(("api_key" = [])),
    responses((status = 204, description = "deleted"), (status = 404, body = ErrorBody)))]
pub async fn delete_history(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = history_id(&id)?;
    let store = state.services()?.store.clone();
    blocking(move || {
        if store.delete_history_entry(id)? {
            Ok(StatusCode::NO_CONTENT)
        } else {
            Err(ApiError::NotFound(format!("no history entry {id}")))
        }
    })
    .await
}

#[derive(Serialize, ToSchema)]
pub struct Cleared {
    /// How many entries were deleted.
    deleted: u64,
}

/// Forget every past answer.
#[utoipa::path(delete, path = "/api/history", tag = "answers", security(("api_key" = [])),
    responses((status = 200, body = Cleared)))]
pub async fn clear_history(State(state): State<AppState>) -> Result<Json<Cleared>, ApiError> {
    let store = state.services()?.store.clone();
    blocking(move || {
        Ok(Json(Cleared {
            deleted: store.clear_history()?,
        }))
    })
    .await
}
