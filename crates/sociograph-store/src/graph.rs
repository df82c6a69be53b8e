//! The relation graph as one consistent read, for the in-memory analytics in `core::graph`
//! (neighbourhoods, paths, centrality, communities), and the path step type answers carry.

use rusqlite::params;
use serde::Serialize;

use crate::db::read_generation;
use crate::{EntitySummary, Result, Store};

/// One hop of a path: `from` → `to` through a relation (which may point either way).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PathStep {
    pub relation_id: i64,
    pub from: EntitySummary,
    pub to: EntitySummary,
    #[serde(rename = "type")]
    pub relation_type: String,
    pub description: String,
    /// True when the relation's source is `from` (e.g. `from` funds `to`).
    pub forward: bool,
    /// A chunk that evidences the relation.
    pub evidence_chunk: Option<i64>,
}

/// An entity as a graph node.
#[derive(Debug, Clone)]
pub struct GraphEntity {
    pub id: i64,
    pub name: String,
    pub entity_type: String,
    /// Mentions across all chunks.
    pub mentions: u64,
}

/// A relation as a graph edge.
#[derive(Debug, Clone)]
pub struct GraphRelation {
    pub id: i64,
    pub source: i64,
    pub target: i64,
    pub relation_type: String,
    pub description: String,
    /// Evidence count: the chunks that state the relation.
    pub weight: u64,
    /// The first chunk that evidences it.
    pub evidence_chunk: Option<i64>,
}

/// Every entity and relation as of one write generation.
#[derive(Debug, Clone, Default)]
pub struct GraphData {
    pub generation: u64,
    pub entities: Vec<GraphEntity>,
    pub relations: Vec<GraphRelation>,
}

impl Store {
    /// Read the whole graph in one read transaction, so entities, relations and the
    /// generation agree even while a document is being written. Ordered by id.
    pub fn graph_data(&self) -> Result<GraphData> {
        self.read(|c| {
            let tx = c.unchecked_transaction()?;
            let generation = read_generation(&tx)?;
            let entities = tx
                .prepare(
                    "SELECT e.id, e.name, e.type,
                            (SELECT coalesce(sum(m.count), 0) FROM mentions m WHERE m.entity_id = e.id)
                     FROM entities e ORDER BY e.id",
                )?
                .query_map([], |r| {
                    Ok(GraphEntity {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        entity_type: r.get(2)?,
                        mentions: r.get::<_, i64>(3)?.max(0) as u64,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let relations = tx
                .prepare(
                    "SELECT r.id, r.source_id, r.target_id, r.type, r.description,
                            count(ev.chunk_id), min(ev.chunk_id)
                     FROM relations r LEFT JOIN relation_evidence ev ON ev.relation_id = r.id
                     GROUP BY r.id ORDER BY r.id",
                )?
                .query_map(params![], |r| {
                    Ok(GraphRelation {
                        id: r.get(0)?,
                        source: r.get(1)?,
                        target: r.get(2)?,
                        relation_type: r.get(3)?,
                        description: r.get(4)?,
                        weight: r.get::<_, i64>(5)?.max(0) as u64,
                        evidence_chunk: r.get(6)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            tx.finish()?;
            Ok(GraphData {
                generation,
                entities,
                relations,
            })
        })
    }
}
