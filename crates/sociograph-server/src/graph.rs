//! Graph analytics over HTTP: an entity's neighbourhood, paths between two entities with the
//! evidence of every hop, and whole-graph statistics (central actors, communities).
//!
//! All three read the in-memory [`Graph`] of the current write generation, so they are cheap
//! after the first call that follows a change.
//!
//! [`Graph`]: sociograph_core::graph::Graph

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use sociograph_core::graph::{Graph, GraphStats, Subgraph};
use sociograph_store::{EntitySummary, PathStep};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ErrorBody};
use crate::routes::{blocking, query_error};
use crate::state::AppState;

/// Parse an optional whole-number parameter within `range`, or take its default.
pub(crate) fn bounded(
    name: &str,
    raw: Option<&str>,
    default: usize,
    range: std::ops::RangeInclusive<usize>,
) -> Result<usize, ApiError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(default),
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(ApiError::BadRequest(format!(
                "{name} must be a whole number from {} to {}, got {raw:?}",
                range.start(),
                range.end()
            ))),
        },
    }
}

fn entity_id(name: &str, raw: Option<&str>) -> Result<i64, ApiError> {
    let raw = raw.map(str::trim).unwrap_or("");
    if raw.is_empty() {
        return Err(ApiError::BadRequest(format!(
            "{name} is required: an entity id from /api/graph/entities"
        )));
    }
    raw.parse().map_err(|_| {
        ApiError::BadRequest(format!(
            "{name} must be an entity id (a whole number), got {raw:?}"
        ))
    })
}

fn known(graph: &Graph, id: i64) -> Result<EntitySummary, ApiError> {
    graph
        .entity(id)
        .ok_or_else(|| ApiError::NotFound(format!("no entity {id}")))
}

async fn current_graph(state: &AppState) -> Result<Arc<Graph>, ApiError> {
    let cache = state.services()?.graph.clone();
    blocking(move || Ok(cache.get()?)).await
}

#[derive(Deserialize, IntoParams)]
pub struct SubgraphParams {
    /// The entity at the center (an id from `/api/graph/entities`).
    entity: Option<String>,
    /// Hops from the center, 1–3 (default 1).
    depth: Option<String>,
    /// Most nodes, 1–300 (default 60); the strongest ties are kept.
    limit: Option<String>,
}

/// The neighbourhood of an entity: nodes (with degree, PageRank and community) and the
/// relations among them, breadth-first and capped.
#[utoipa::path(get, path = "/api/graph/subgraph", tag = "graph", params(SubgraphParams),
    responses((status = 200, body = Subgraph), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn subgraph(
    State(state): State<AppState>,
    params: Result<Query<SubgraphParams>, QueryRejection>,
) -> Result<Json<Subgraph>, ApiError> {
    let Query(params) = params.map_err(query_error)?;
    let center = entity_id("entity", params.entity.as_deref())?;
    let depth = bounded("depth", params.depth.as_deref(), 1, 1..=3)?;
    let limit = bounded("limit", params.limit.as_deref(), 60, 1..=300)?;
    let graph = current_graph(&state).await?;
    blocking(move || {
        graph
            .subgraph(center, depth, limit)
            .map(Json)
            .ok_or_else(|| ApiError::NotFound(format!("no entity {center}")))
    })
    .await
}

#[derive(Deserialize, IntoParams)]
pub struct PathParams {
    /// Entity id where the path starts.
    from: Option<String>,
    /// Entity id where it ends.
    to: Option<String>,
    /// Most relations in a path, 1–6 (default 4).
    max_hops: Option<String>,
    /// Most paths, 1–10 (default 3).
    limit: Option<String>,
}

/// The chunk that evidences a hop.
#[derive(Clone, Serialize, ToSchema)]
pub struct HopEvidence {
    chunk_id: i64,
    document_id: String,
    title: String,
    source: String,
    page: Option<u32>,
    text: String,
}

#[derive(Serialize, ToSchema)]
pub struct Hop {
    #[serde(flatten)]
    step: PathStep,
    evidence: Option<HopEvidence>,
}

#[derive(Serialize, ToSchema)]
pub struct GraphPath {
    hops: Vec<Hop>,
}

#[derive(Serialize, ToSchema)]
pub struct PathResponse {
    from: EntitySummary,
    to: EntitySummary,
    /// Shortest paths, strongest ties first; empty when the two are not connected within
    /// `max_hops`. Stated relations are preferred: co-occurrence links appear only when no
    /// stated path exists.
    paths: Vec<GraphPath>,
}

/// How two entities are connected: the shortest paths between them, with the text that
/// evidences every hop.
#[utoipa::path(get, path = "/api/graph/path", tag = "graph", params(PathParams),
    responses((status = 200, body = PathResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn path(
    State(state): State<AppState>,
    params: Result<Query<PathParams>, QueryRejection>,
) -> Result<Json<PathResponse>, ApiError> {
    let Query(params) = params.map_err(query_error)?;
    let from = entity_id("from", params.from.as_deref())?;
    let to = entity_id("to", params.to.as_deref())?;
    if from == to {
        return Err(ApiError::BadRequest(
            "from and to are the same entity".into(),
        ));
    }
    let max_hops = bounded("max_hops", params.max_hops.as_deref(), 4, 1..=6)?;
    let limit = bounded("limit", params.limit.as_deref(), 3, 1..=10)?;
    let graph = current_graph(&state).await?;
    let store = state.services()?.store.clone();
    blocking(move || {
        let (from_entity, to_entity) = (known(&graph, from)?, known(&graph, to)?);
        let paths = graph.paths(from, to, max_hops, limit);
        let mut chunk_ids: Vec<i64> = paths
            .iter()
            .flatten()
            .filter_map(|s| s.evidence_chunk)
            .collect();
        chunk_ids.sort_unstable();
        chunk_ids.dedup();
        let chunks: HashMap<i64, HopEvidence> = store
            .chunks(&chunk_ids)?
            .into_iter()
            .map(|c| {
                (
                    c.id,
                    HopEvidence {
                        chunk_id: c.id,
                        document_id: c.document.id,
                        title: c.document.title,
                        source: c.document.source,
                        page: c.page,
                        text: c.text,
                    },
                )
            })
            .collect();
        let paths = paths
            .into_iter()
            .map(|steps| GraphPath {
                hops: steps
                    .into_iter()
                    .map(|step| Hop {
                        evidence: step.evidence_chunk.and_then(|c| chunks.get(&c).cloned()),
                        step,
                    })
                    .collect(),
            })
            .collect();
        Ok(Json(PathResponse {
            from: from_entity,
            to: to_entity,
            paths,
        }))
    })
    .await
}

#[derive(Deserialize, IntoParams)]
pub struct StatsParams {
    /// Length of each list (top actors, communities), 1–100 (default 10).
    top: Option<String>,
    /// Rank only actors of this type (person, organization, …).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    entity_type: Option<String>,
}

/// Counts, the most central actors (PageRank and degree) and the communities (Louvain) of
/// the whole graph. Computed once per change of the graph, then cached.
#[utoipa::path(get, path = "/api/graph/stats", tag = "graph", params(StatsParams),
    responses((status = 200, body = GraphStats), (status = 400, body = ErrorBody)))]
pub async fn stats(
    State(state): State<AppState>,
    params: Result<Query<StatsParams>, QueryRejection>,
) -> Result<Json<GraphStats>, ApiError> {
    let Query(params) = params.map_err(query_error)?;
    let top = bounded("top", params.top.as_deref(), 10, 1..=100)?;
    let entity_type = params
        .entity_type
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(sociograph_core::extract::canonical_type);
    let graph = current_graph(&state).await?;
    blocking(move || Ok(Json(graph.stats(top, entity_type.as_deref())))).await
}
