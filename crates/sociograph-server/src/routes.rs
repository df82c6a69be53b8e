//! The router and its handlers. Handlers parse input into `core` types, run blocking work on
//! the blocking pool, and map errors through [`ApiError`].

use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use serde::{Deserialize, Serialize};
use sociograph_core::retrieve::SearchResult;
use sociograph_core::types::{DocumentId, Mode, Query as SearchQuery, TopK};
use sociograph_store::{DocumentRecord, EntityRecord, JobRecord, JobStatus, RelationRecord, Store};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ErrorBody};
use crate::jobs::Job;
use crate::state::{AppState, Readiness, Writes};
use crate::{auth, graph, limits, observe, openapi, qa, ui};
use sociograph_backup::queue;

/// The response header naming the color that answered.
pub const COLOR_HEADER: &str = "x-sociograph-color";

/// Most files accepted in one upload request.
const MAX_FILES_PER_UPLOAD: usize = 10;

/// Build the whole HTTP surface.
pub fn router(state: AppState) -> Router {
    let settings = &state.settings;
    let body_limit = (settings.max_upload_bytes as usize)
        .saturating_mul(MAX_FILES_PER_UPLOAD)
        .saturating_add(1 << 20);

    let mutating = Router::new()
        .route("/api/documents", axum::routing::post(upload_documents))
        .route(
            "/api/documents/{id}",
            axum::routing::delete(delete_document),
        )
        .route("/api/history", axum::routing::delete(qa::clear_history))
        .route(
            "/api/history/{id}",
            axum::routing::delete(qa::delete_history),
        )
        .layer(DefaultBodyLimit::max(body_limit))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_key,
        ));

    // Answers are bounded by the model client's own timeout and retries (which give a 504),
    // not by the generic request timeout; a stream's body outlives any handler timeout anyway.
    let answers = Router::new()
        .route("/api/qa/ask", post(qa::ask))
        .route("/api/qa/ask/stream", post(qa::ask_stream));

    let api = Router::new()
        .route("/search", get(search).post(search_post))
        .route("/api/documents", get(list_documents))
        .route("/api/documents/{id}", get(get_document))
        .route("/api/jobs/{id}", get(get_job))
        .route("/api/graph/entities", get(search_entities))
        .route("/api/graph/entities/{id}", get(get_entity))
        .route("/api/graph/subgraph", get(graph::subgraph))
        .route("/api/graph/path", get(graph::path))
        .route("/api/graph/stats", get(graph::stats))
        .route("/api/settings", get(client_settings))
        .route("/api/history", get(qa::list_history))
        .route("/api/history/{id}", get(qa::get_history))
        .merge(mutating)
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            limits::timeout,
        ))
        .merge(answers)
        .route_layer(middleware::from_fn_with_state(state.clone(), limits::limit));

    Router::new()
        .route("/health", get(health))
        .route("/health/live", get(live))
        .route("/metrics", get(observe::metrics))
        .route("/openapi.json", get(openapi::spec))
        .route("/docs", get(docs))
        .route("/app", get(ui::serve))
        .route("/app/", get(ui::serve))
        .route("/app/{*path}", get(ui::serve))
        .merge(api)
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            deployment_headers,
        ))
        .layer(middleware::from_fn(observe::observe))
        .with_state(state)
}

/// Which color answered (`x-sociograph-color`), on every response; while draining, also
/// `Connection: close`, so keep-alive clients and proxies move to a fresh connection — one the
/// load balancer routes elsewhere — between requests instead of having it closed under them.
async fn deployment_headers(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: middleware::Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if let Ok(color) = HeaderValue::from_str(&state.settings.color) {
        headers.insert(COLOR_HEADER, color);
    }
    if state.readiness() == Readiness::Draining {
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such route; see /docs for the API".into())
}

async fn docs() -> Html<&'static str> {
    Html(include_str!("docs.html"))
}

/// Run blocking work (SQLite, the model) off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(f))
        .await
        .map_err(|e| ApiError::Internal(format!("blocking task failed: {e}")))?
}

// ------------------------------------------------------------------ health

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ready`, `starting` or `draining`.
    status: &'static str,
    version: String,
    color: String,
    /// The published snapshot version being served (API replicas), or the `graph.db` write
    /// generation when this process owns its data directory.
    snapshot: Option<u64>,
}

/// Readiness for the load balancer: 200 when serving, 503 while starting or draining.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn health(State(state): State<AppState>) -> Response {
    let readiness = state.readiness();
    let snapshot = state.services_if_loaded().map(|s| match &s.snapshot {
        Some(current) => current.version,
        None => s.store.generation(),
    });
    let body = Health {
        status: readiness.as_str(),
        version: state.settings.version.clone(),
        color: state.settings.color.clone(),
        snapshot,
    };
    let status = if readiness == Readiness::Ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

#[derive(Serialize, ToSchema)]
pub struct Live {
    status: &'static str,
}

/// Liveness: the process is up and answering.
#[utoipa::path(get, path = "/health/live", tag = "health", responses((status = 200, body = Live)))]
pub async fn live() -> Json<Live> {
    Json(Live { status: "alive" })
}

// ------------------------------------------------------------------ settings

#[derive(Serialize, ToSchema)]
pub struct TopKSettings {
    default: usize,
    max: usize,
}

/// What a client (the web UI) needs to offer sensible choices.
#[derive(Serialize, ToSchema)]
pub struct ClientSettings {
    version: String,
    /// How answers are written: `llm`, or `extractive` when no language model is configured.
    generator: sociograph_core::answer::AnswerMode,
    /// The answer model, when there is one.
    model: Option<String>,
    /// Retrieval modes accepted by `/search` and `/api/qa/ask`.
    modes: Vec<Mode>,
    default_mode: Mode,
    /// Sources per answer.
    top_k: TopKSettings,
    /// Whether answers can be translated (`language` in `/api/qa/ask`); needs a model.
    translation: bool,
    /// Whether uploads and deletes need `Authorization: Bearer <key>`.
    api_key_required: bool,
}

/// The server's defaults and capabilities, for clients.
#[utoipa::path(get, path = "/api/settings", tag = "health",
    responses((status = 200, body = ClientSettings), (status = 503, body = ErrorBody)))]
pub async fn client_settings(
    State(state): State<AppState>,
) -> Result<Json<ClientSettings>, ApiError> {
    let answerer = &state.services()?.answerer;
    let generator = answerer.generator.as_ref();
    Ok(Json(ClientSettings {
        version: state.settings.version.clone(),
        generator: answerer.mode(),
        model: generator.map(|g| g.answer_model.clone()),
        modes: vec![Mode::Hybrid, Mode::Naive, Mode::Keyword, Mode::Local],
        default_mode: Mode::default(),
        top_k: TopKSettings {
            default: sociograph_core::answer::AskRequest::DEFAULT_TOP_K,
            max: TopK::MAX,
        },
        translation: generator.is_some(),
        api_key_required: !state.settings.api_keys.is_empty(),
    }))
}

// ------------------------------------------------------------------ search

#[derive(Deserialize, IntoParams)]
pub struct SearchParams {
    /// What to search for (1–2000 characters).
    q: Option<String>,
    /// Number of hits, 1–100 (default 10).
    k: Option<String>,
    /// `hybrid` (default), `naive` (vector), `keyword` or `local` (graph).
    mode: Option<String>,
}

pub(crate) fn query_error(e: QueryRejection) -> ApiError {
    ApiError::BadRequest(format!("bad query string: {}", e.body_text()))
}

/// Retrieval only: ranked chunks with their document, page and entities.
#[utoipa::path(get, path = "/search", tag = "search", params(SearchParams),
    responses((status = 200, body = SearchResult), (status = 400, body = ErrorBody),
              (status = 414, description = "query string over 64 kB: use POST /search"), (status = 503, body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    params: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Json<SearchResult>, ApiError> {
    let Query(params) = params.map_err(query_error)?;
    let k =
        match params.k.as_deref() {
            None | Some("") => None,
            Some(raw) => Some(raw.trim().parse::<i64>().map_err(|_| {
                ApiError::BadRequest(format!("k must be a whole number, got {raw:?}"))
            })?),
        };
    run_search(
        &state,
        params.q.as_deref().unwrap_or(""),
        k,
        params.mode.as_deref(),
    )
    .await
}

#[derive(Deserialize, ToSchema)]
pub struct SearchBody {
    /// What to search for (1–2000 characters).
    q: String,
    /// Number of hits, 1–100 (default 10).
    k: Option<i64>,
    /// `hybrid` (default), `naive`, `keyword` or `local`.
    mode: Option<String>,
}

/// The same search with a JSON body, for long queries and clients that prefer POST.
#[utoipa::path(post, path = "/search", tag = "search", request_body = SearchBody,
    responses((status = 200, body = SearchResult), (status = 400, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn search_post(
    State(state): State<AppState>,
    body: Result<Json<SearchBody>, JsonRejection>,
) -> Result<Json<SearchResult>, ApiError> {
    let Json(body) =
        body.map_err(|e| ApiError::BadRequest(format!("bad JSON body: {}", e.body_text())))?;
    run_search(&state, &body.q, body.k, body.mode.as_deref()).await
}

async fn run_search(
    state: &AppState,
    q: &str,
    k: Option<i64>,
    mode: Option<&str>,
) -> Result<Json<SearchResult>, ApiError> {
    let query = SearchQuery::parse(q)?;
    let k = match k {
        None => TopK::DEFAULT,
        Some(k) => TopK::parse(k)?,
    };
    let mode = match mode {
        None | Some("") => Mode::default(),
        Some(raw) => Mode::parse(raw)?,
    };
    let retriever = state.services()?.retriever.clone();
    let result = blocking(move || Ok(retriever.search(&query, k, mode)?)).await?;
    Ok(Json(result))
}

// ------------------------------------------------------------------ documents

#[derive(Serialize, ToSchema)]
pub struct Accepted {
    document_id: String,
    /// The ingest job; poll `/api/jobs/{job_id}`. Absent for duplicates that were never queued.
    job_id: Option<String>,
    filename: String,
    /// The same content is already stored or queued; nothing new was queued.
    duplicate: bool,
}

#[derive(Serialize, ToSchema)]
pub struct UploadResponse {
    /// The first (often only) file's document id.
    document_id: String,
    job_id: Option<String>,
    /// Every accepted file, in upload order.
    documents: Vec<Accepted>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// One or more files (PDF, TXT, MD, HTML), repeated field name `file`.
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    file: Vec<u8>,
}

fn multipart_error(e: axum::extract::multipart::MultipartError, limit: u64) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge(format!("the upload is larger than the {limit}-byte limit"))
    } else {
        ApiError::BadRequest(format!("malformed multipart body: {}", e.body_text()))
    }
}

/// Upload documents (multipart field `file`, repeatable). Each file is validated and parsed
/// before anything is stored; if any file is refused, none is accepted.
#[utoipa::path(post, path = "/api/documents", tag = "documents",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 202, body = UploadResponse, description = "queued for ingest"),
              (status = 200, body = UploadResponse, description = "every file was already stored"),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 413, body = ErrorBody),
              (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn upload_documents(
    State(state): State<AppState>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let services = state.services()?;
    let limit = state.settings.max_upload_bytes;
    let mut multipart = multipart.map_err(|e| {
        ApiError::BadRequest(format!(
            "{}; send multipart/form-data with a `file` field",
            e.body_text()
        ))
    })?;

    let mut files: Vec<(String, bytes::Bytes)> = Vec::new();
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(e, limit))?
    {
        if field.name() != Some("file") {
            continue;
        }
        let filename = field
            .file_name()
            .map(str::to_owned)
            .ok_or_else(|| ApiError::BadRequest("the `file` field has no filename".into()))?;
        if files.len() == MAX_FILES_PER_UPLOAD {
            return Err(ApiError::BadRequest(format!(
                "at most {MAX_FILES_PER_UPLOAD} files per request"
            )));
        }
        let mut buf = bytes::BytesMut::new();
        while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(e, limit))? {
            if (buf.len() + chunk.len()) as u64 > limit {
                return Err(ApiError::Core(sociograph_core::Error::TooLarge {
                    name: filename,
                    limit,
                }));
            }
            buf.extend_from_slice(&chunk);
        }
        files.push((filename, buf.freeze()));
    }
    if files.is_empty() {
        return Err(ApiError::BadRequest(
            "no file in the request: send multipart/form-data with a `file` field".into(),
        ));
    }

    // Validate and parse every file first: a refusal leaves nothing behind.
    let pipeline = services.pipeline.clone();
    let prepared = blocking(move || {
        files
            .iter()
            .map(|(name, bytes)| pipeline.prepare(name, bytes).map(|p| (p, bytes.clone())))
            .collect::<Result<Vec<_>, _>>()
            .map_err(ApiError::from)
    })
    .await?;

    let store = services.store.clone();
    let accepted = match services.jobs.clone() {
        Writes::Local(queue) => blocking(move || {
            let mut accepted = Vec::with_capacity(prepared.len());
            for (prepared, bytes) in prepared {
                let document_id = prepared.id.to_string();
                if store.document(&document_id)?.is_some() {
                    let job_id = store.job_for_document(&document_id)?.map(|j| j.id);
                    accepted.push(Accepted { document_id, job_id, filename: prepared.filename, duplicate: true });
                    continue;
                }
                if let Some(job) = store.job_for_document(&document_id)?
                    && matches!(job.status, JobStatus::Queued | JobStatus::Running)
                {
                    accepted.push(Accepted { document_id, job_id: Some(job.id), filename: prepared.filename, duplicate: true });
                    continue;
                }
                store.save_upload(&prepared.content_hash, &bytes)?;
                let job_id = new_job_id();
                store.create_job(&job_id, &prepared.filename, &prepared.content_hash, &document_id)?;
                let filename = prepared.filename.clone();
                if !queue.enqueue(Job { id: job_id.clone(), prepared }) {
                    store.update_job(&job_id, JobStatus::Queued, "queued", 0.0, None)?;
                    return Err(ApiError::NotReady("the ingest worker is stopping; the file is kept and will be ingested after restart".into()));
                }
                accepted.push(Accepted { document_id, job_id: Some(job_id), filename, duplicate: false });
            }
            Ok(accepted)
        })
        .await?,
        Writes::Remote(location) => {
            let mut accepted = Vec::with_capacity(prepared.len());
            for (prepared, bytes) in prepared {
                let document_id = prepared.id.to_string();
                if has_document(&store, &document_id).await? {
                    accepted.push(Accepted { document_id, job_id: None, filename: prepared.filename, duplicate: true });
                    continue;
                }
                let job_id = new_job_id();
                let job = queue::RemoteJob::new(&job_id, queue::JobKind::Ingest, &prepared.filename, &prepared.content_hash, &document_id);
                if let Err(e) = queue::submit(&location, &job, Some(bytes)).await {
                    // Files before this one are queued and will be ingested: say which.
                    let queued: Vec<String> = accepted
                        .iter()
                        .filter_map(|a: &Accepted| Some(format!("{} (job {})", a.filename, a.job_id.as_deref()?)))
                        .collect();
                    let mut err = queue_error(e);
                    if let ApiError::NotReady(message) = &mut err && !queued.is_empty() {
                        message.push_str(&format!("; already queued from this request: {}", queued.join(", ")));
                    }
                    return Err(err);
                }
                accepted.push(Accepted { document_id, job_id: Some(job_id), filename: prepared.filename, duplicate: false });
            }
            accepted
        }
    };

    let status = if accepted.iter().all(|a| a.duplicate) {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let first = &accepted[0];
    let body = UploadResponse {
        document_id: first.document_id.clone(),
        job_id: first.job_id.clone(),
        documents: accepted,
    };
    Ok((status, Json(body)).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct DocumentList {
    documents: Vec<DocumentRecord>,
    total: usize,
}

/// Every stored document.
#[utoipa::path(get, path = "/api/documents", tag = "documents", responses((status = 200, body = DocumentList)))]
pub async fn list_documents(State(state): State<AppState>) -> Result<Json<DocumentList>, ApiError> {
    let store = state.services()?.store.clone();
    let documents = blocking(move || Ok(store.documents()?)).await?;
    Ok(Json(DocumentList {
        total: documents.len(),
        documents,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct DocumentStatus {
    id: String,
    /// `ready` once stored; else the ingest job's status (`queued`, `running`, `failed`).
    status: String,
    document: Option<DocumentRecord>,
    job: Option<JobRecord>,
}

/// One document, or the state of its ingest if it is not stored yet.
#[utoipa::path(get, path = "/api/documents/{id}", tag = "documents",
    params(("id" = String, Path, description = "document id, e.g. doc_0123456789abcdef")),
    responses((status = 200, body = DocumentStatus), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_document(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<DocumentStatus>, ApiError> {
    let id = DocumentId::parse(&id)?;
    let store = state.services()?.store.clone();
    blocking(move || {
        let document = store.document(id.as_str())?;
        let job = store.job_for_document(id.as_str())?;
        let status = match (&document, &job) {
            (Some(_), _) => "ready".to_owned(),
            (None, Some(job)) if job.status != JobStatus::Done => job.status.as_str().to_owned(),
            _ => return Err(ApiError::NotFound(format!("no document {id}"))),
        };
        Ok(Json(DocumentStatus {
            id: id.to_string(),
            status,
            document,
            job,
        }))
    })
    .await
}

#[derive(Serialize, ToSchema)]
pub struct Deleted {
    deleted: String,
    /// On an API replica: the delete job that removes it from the next snapshot.
    #[serde(skip_serializing_if = "Option::is_none")]
    job_id: Option<String>,
}

/// Delete a document with its chunks, vectors, mentions, and the entities and relations that
/// no other document supports. On an API replica (`serve --role api`) the delete is queued
/// for the worker (202 with its job); it is gone once a snapshot with the job's effect is served.
#[utoipa::path(delete, path = "/api/documents/{id}", tag = "documents",
    params(("id" = String, Path, description = "document id")),
    responses((status = 200, body = Deleted), (status = 202, body = Deleted, description = "queued for the worker (API replicas)"),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn delete_document(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = DocumentId::parse(&id)?;
    let services = state.services()?;
    let store = services.store.clone();
    if let Writes::Remote(location) = services.jobs.clone() {
        if !has_document(&store, id.as_str()).await? {
            return Err(ApiError::NotFound(format!("no document {id}")));
        }
        let job_id = new_job_id();
        let job = queue::RemoteJob::new(&job_id, queue::JobKind::Delete, "", "", id.as_str());
        queue::submit(&location, &job, None)
            .await
            .map_err(queue_error)?;
        let body = Deleted {
            deleted: id.to_string(),
            job_id: Some(job_id),
        };
        return Ok((StatusCode::ACCEPTED, Json(body)).into_response());
    }
    blocking(move || {
        if let Some(job) = store.job_for_document(id.as_str())?
            && matches!(job.status, JobStatus::Queued | JobStatus::Running)
        {
            return Err(ApiError::Conflict(format!(
                "{id} is still being ingested (job {}); delete it once the job is done",
                job.id
            )));
        }
        if store.delete_document(id.as_str())? {
            sociograph_core::ingest::publish_corpus(&store);
            Ok(Json(Deleted {
                deleted: id.to_string(),
                job_id: None,
            })
            .into_response())
        } else {
            Err(ApiError::NotFound(format!("no document {id}")))
        }
    })
    .await
}

/// Progress of an ingest (or, on API replicas, delete) job. On a replica the job lives in the
/// shared queue, so every replica answers the same; `snapshot` is the version carrying its
/// effect once done.
#[utoipa::path(get, path = "/api/jobs/{id}", tag = "documents",
    params(("id" = String, Path, description = "job id")),
    responses((status = 200, body = JobRecord), (status = 404, body = ErrorBody)))]
pub async fn get_job(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(ApiError::BadRequest(format!("{id:?} is not a job id")));
    }
    let services = state.services()?;
    if let Writes::Remote(location) = &services.jobs {
        return match queue::job(location, &id).await.map_err(queue_error)? {
            Some(job) => Ok(Json(job).into_response()),
            None => Err(ApiError::NotFound(format!("no job {id}"))),
        };
    }
    let store = services.store.clone();
    blocking(move || {
        store
            .job(&id)?
            .map(|job| Json(job).into_response())
            .ok_or_else(|| ApiError::NotFound(format!("no job {id}")))
    })
    .await
}

/// Whether the served store holds document `id` (off the async threads).
async fn has_document(store: &Arc<Store>, id: &str) -> Result<bool, ApiError> {
    let (store, id) = (store.clone(), id.to_owned());
    blocking(move || Ok(store.document(&id)?.is_some())).await
}

fn new_job_id() -> String {
    format!("job_{}", uuid::Uuid::now_v7().simple())
}

/// The shared queue could not be reached: the client may retry (details go to the log only:
/// they name buckets and keys).
fn queue_error(e: sociograph_backup::Error) -> ApiError {
    tracing::error!(error = %e, "job queue unavailable");
    ApiError::NotReady(
        "the shared job store is unavailable; this request was not accepted, try again".into(),
    )
}

// ------------------------------------------------------------------ graph

#[derive(Deserialize, IntoParams)]
pub struct EntityParams {
    /// Part of a name or alias.
    q: Option<String>,
    /// person, organization, location, group, event, …
    #[serde(rename = "type")]
    #[param(rename = "type")]
    entity_type: Option<String>,
    /// 1–500 (default 50).
    limit: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct EntityList {
    entities: Vec<EntityRecord>,
}

/// Search entities by name and type, most mentioned first.
#[utoipa::path(get, path = "/api/graph/entities", tag = "graph", params(EntityParams),
    responses((status = 200, body = EntityList), (status = 400, body = ErrorBody)))]
pub async fn search_entities(
    State(state): State<AppState>,
    params: Result<Query<EntityParams>, QueryRejection>,
) -> Result<Json<EntityList>, ApiError> {
    let Query(params) = params.map_err(query_error)?;
    let limit = graph::bounded("limit", params.limit.as_deref(), 50, 1..=500)?;
    if params.q.as_deref().is_some_and(|q| q.chars().count() > 200) {
        return Err(ApiError::BadRequest(
            "q is longer than 200 characters".into(),
        ));
    }
    let store = state.services()?.store.clone();
    blocking(move || {
        let ty = params
            .entity_type
            .as_deref()
            .map(sociograph_core::extract::canonical_type);
        let entities = store.search_entities(params.q.as_deref(), ty.as_deref(), limit)?;
        Ok(Json(EntityList { entities }))
    })
    .await
}

#[derive(Serialize, ToSchema)]
pub struct EntityDetail {
    entity: EntityRecord,
    /// Relations in which the entity is source or target, strongest first, with evidence.
    relations: Vec<RelationRecord>,
}

/// One entity with its relations and the chunks that evidence them.
#[utoipa::path(get, path = "/api/graph/entities/{id}", tag = "graph",
    params(("id" = i64, Path, description = "entity id")),
    responses((status = 200, body = EntityDetail), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_entity(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<EntityDetail>, ApiError> {
    let id: i64 = id.parse().map_err(|_| {
        ApiError::BadRequest(format!("{id:?} is not an entity id (a whole number)"))
    })?;
    let store = state.services()?.store.clone();
    blocking(move || {
        let entity = store
            .entity(id)?
            .ok_or_else(|| ApiError::NotFound(format!("no entity {id}")))?;
        let relations = store.relations_of(id, 200)?;
        Ok(Json(EntityDetail { entity, relations }))
    })
    .await
}
