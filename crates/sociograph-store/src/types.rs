//! Plain data exchanged with the store.

use serde::{Deserialize, Serialize};

/// Everything one document contributes, written in one transaction by [`crate::Store::insert_document`].
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub id: String,
    pub content_hash: String,
    pub title: String,
    pub source: String,
    pub media_type: String,
    pub pages: u32,
    pub bytes: u64,
    pub chunks: Vec<NewChunk>,
    pub entities: Vec<NewEntity>,
    pub mentions: Vec<NewMention>,
    pub relations: Vec<NewRelation>,
}

#[derive(Debug, Clone)]
pub struct NewChunk {
    pub ordinal: u32,
    pub page: Option<u32>,
    pub byte_start: usize,
    pub byte_end: usize,
    pub text: String,
    pub embedding: Vec<f32>,
}

/// An entity as extracted; merged with an existing entity of the same (key, type).
#[derive(Debug, Clone)]
pub struct NewEntity {
    pub name: String,
    pub entity_type: String,
    pub description: String,
    pub aliases: Vec<String>,
}

/// Entity `entity` (index into `NewDocument::entities`) appears `count` times in chunk `chunk`.
#[derive(Debug, Clone)]
pub struct NewMention {
    pub entity: usize,
    pub chunk: u32,
    pub count: u32,
}

/// A relation between two entities of this document, evidenced by chunk `chunk` (an ordinal).
#[derive(Debug, Clone)]
pub struct NewRelation {
    pub source: usize,
    pub target: usize,
    pub relation_type: String,
    pub description: String,
    pub chunk: u32,
}

/// What `insert_document` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    /// Written; the new chunk ids in ordinal order.
    Inserted { chunk_ids: Vec<i64> },
    /// A document with the same content already exists.
    AlreadyPresent,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct DocumentRecord {
    pub id: String,
    pub content_hash: String,
    pub title: String,
    pub source: String,
    pub media_type: String,
    pub pages: u32,
    pub bytes: u64,
    pub created_at: String,
    pub chunks: u64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct DocumentRef {
    pub id: String,
    pub title: String,
    pub source: String,
}

#[derive(Debug, Clone)]
pub struct ChunkRecord {
    pub id: i64,
    pub document: DocumentRef,
    pub ordinal: u32,
    pub page: Option<u32>,
    pub byte_start: usize,
    pub byte_end: usize,
    pub text: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct EntityRecord {
    pub id: i64,
    pub name: String,
    #[serde(rename = "type")]
    pub entity_type: String,
    pub description: String,
    pub aliases: Vec<String>,
    pub mentions: u64,
    pub documents: u64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EntitySummary {
    pub id: i64,
    pub name: String,
    #[serde(rename = "type")]
    pub entity_type: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct RelationRecord {
    pub id: i64,
    pub source: EntitySummary,
    pub target: EntitySummary,
    #[serde(rename = "type")]
    pub relation_type: String,
    pub description: String,
    pub weight: u64,
    pub evidence: Vec<Evidence>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    pub chunk_id: i64,
    pub document: DocumentRef,
    pub page: Option<u32>,
    pub description: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub documents: u64,
    pub chunks: u64,
    pub entities: u64,
    pub relations: u64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => JobStatus::Queued,
            "running" => JobStatus::Running,
            "done" => JobStatus::Done,
            "failed" => JobStatus::Failed,
            _ => return None,
        })
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobRecord {
    pub id: String,
    pub status: JobStatus,
    pub source: String,
    pub content_hash: String,
    pub document_id: String,
    pub stage: String,
    pub progress: f64,
    pub error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}
