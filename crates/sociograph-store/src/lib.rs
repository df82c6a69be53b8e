//! Storage for SocioGraph: the data directory (`graph.db`, `vector_store/`, `uploads/`).
//!
//! `graph.db` is the source of truth: documents, chunks (with their embeddings), entities,
//! aliases, mentions, relations with evidence, ingest jobs, question history and the LLM
//! response cache. `vector_store/` is an ANN index
//! derived from the embeddings in `graph.db`; it is rebuilt whenever its manifest does not match
//! the database, so a crash between the SQLite commit and the index save loses nothing.
//!
//! This crate knows nothing about HTTP, models or extraction: it stores what `core` hands it.

mod db;
mod error;
mod graph;
mod history;
mod lock;
mod migrations;
pub mod snapshot;
pub mod textnorm;
mod types;
mod vector;

pub use db::{Store, StoreOptions};
/// The `graph.db` schema version (migration level) this build writes and the newest it reads.
pub const SCHEMA_VERSION: i64 = migrations::LATEST;
pub use error::{Error, Result};
pub use graph::{GraphData, GraphEntity, GraphRelation, PathStep};
pub use history::{HistoryPage, HistoryRecord, NewHistory};
pub use lock::DataDirLock;
pub use types::*;
pub use vector::{VectorHit, VectorIndex};
