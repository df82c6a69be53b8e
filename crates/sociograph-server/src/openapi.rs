//! The OpenAPI document, generated from the handlers' annotations and served at `/openapi.json`.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{graph, qa, routes};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "SocioGraph API", description = "Knowledge graph and hybrid search over a corpus about people and power."),
    paths(
        routes::health, routes::live, routes::search, routes::search_post,
        routes::upload_documents, routes::list_documents, routes::get_document, routes::delete_document,
        routes::get_job, routes::search_entities, routes::get_entity, routes::client_settings,
        graph::subgraph, graph::path, graph::stats,
        qa::ask, qa::ask_stream, qa::list_history, qa::get_history, qa::delete_history,
        qa::clear_history,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "health", description = "Readiness and liveness"),
        (name = "search", description = "Retrieval"),
        (name = "documents", description = "Upload, list, delete; ingest jobs"),
        (name = "graph", description = "Entities and relations; neighbourhoods, paths, central actors, communities"),
        (name = "answers", description = "Questions answered with cited sources; answer history"),
    )
)]
pub struct ApiDoc;

pub async fn spec() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
