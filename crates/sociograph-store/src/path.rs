//! Shortest paths between two entities over the relation graph ("how is A connected to B?").
//!
//! Breadth-first, treating relations as undirected but reporting their real direction. Stated
//! relations are tried first; co-occurrence (`associated_with`) links are used only when no
//! stated path exists, so the answer prefers "A funds C, C supports B" to "A and B appear in
//! one sentence".

use std::collections::{HashMap, VecDeque};

use rusqlite::params;
use serde::Serialize;

use crate::db::entity_summary_row;
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

/// An edge as read for the search: relation id, the other end, type, forward?
type Edge = (i64, i64, String, bool);

/// Entities with more relations than this are passed through but not expanded: a hub (the
/// city everything happens in) would otherwise connect everyone in two hops.
const MAX_EXPANDED_DEGREE: usize = 400;

impl Store {
    /// The shortest path from `from` to `to` of at most `max_hops` relations, if any.
    pub fn shortest_path(
        &self,
        from: i64,
        to: i64,
        max_hops: usize,
    ) -> Result<Option<Vec<PathStep>>> {
        if from == to {
            return Ok(Some(Vec::new()));
        }
        self.read(|c| {
            let mut edges = c.prepare_cached(
                "SELECT id, target_id, type, 1 FROM relations WHERE source_id = ?1
                 UNION ALL
                 SELECT id, source_id, type, 0 FROM relations WHERE target_id = ?1",
            )?;
            let mut neighbours = |entity: i64| -> Result<Vec<Edge>> {
                Ok(edges
                    .query_map(params![entity], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, i64>(3)? == 1))
                    })?
                    .collect::<rusqlite::Result<_>>()?)
            };
            for allow_cooccurrence in [false, true] {
                // entity → (previous entity, edge used to reach it)
                let mut came_from: HashMap<i64, (i64, Edge)> = HashMap::new();
                let mut frontier = VecDeque::from([(from, 0usize)]);
                let mut found = false;
                while let Some((entity, hops)) = frontier.pop_front() {
                    if hops == max_hops {
                        continue;
                    }
                    let out = neighbours(entity)?;
                    if entity != from && out.len() > MAX_EXPANDED_DEGREE {
                        continue;
                    }
                    for edge in out {
                        if !allow_cooccurrence && edge.2 == "associated_with" {
                            continue;
                        }
                        let next = edge.1;
                        if next == from || came_from.contains_key(&next) {
                            continue;
                        }
                        came_from.insert(next, (entity, edge));
                        if next == to {
                            found = true;
                            break;
                        }
                        frontier.push_back((next, hops + 1));
                    }
                    if found {
                        break;
                    }
                }
                if found {
                    return Ok(Some(build_path(c, from, to, &came_from)?));
                }
            }
            Ok(None)
        })
    }
}

fn build_path(
    c: &rusqlite::Connection,
    from: i64,
    to: i64,
    came_from: &HashMap<i64, (i64, Edge)>,
) -> Result<Vec<PathStep>> {
    let mut summary = c.prepare_cached("SELECT id, name, type FROM entities WHERE id = ?1")?;
    let mut detail = c.prepare_cached(
        "SELECT r.description, (SELECT min(chunk_id) FROM relation_evidence ev
                                WHERE ev.relation_id = r.id)
         FROM relations r WHERE r.id = ?1",
    )?;
    let mut steps = Vec::new();
    let mut at = to;
    while at != from {
        let Some((prev, (relation_id, _, relation_type, forward))) = came_from.get(&at) else {
            return Err(crate::Error::Corrupt(format!(
                "path search lost its way at entity {at}"
            )));
        };
        let (description, evidence_chunk): (String, Option<i64>) =
            detail.query_row(params![relation_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        steps.push(PathStep {
            relation_id: *relation_id,
            from: summary.query_row(params![prev], entity_summary_row)?,
            to: summary.query_row(params![at], entity_summary_row)?,
            relation_type: relation_type.clone(),
            description,
            forward: *forward,
            evidence_chunk,
        });
        at = *prev;
    }
    steps.reverse();
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NewChunk, NewDocument, NewEntity, NewMention, NewRelation, StoreOptions};

    fn entity(name: &str) -> NewEntity {
        NewEntity {
            name: name.into(),
            entity_type: "person".into(),
            description: String::new(),
            aliases: Vec::new(),
        }
    }

    fn relation(source: usize, target: usize, ty: &str) -> NewRelation {
        NewRelation {
            source,
            target,
            relation_type: ty.into(),
            description: format!("{source} {ty} {target}"),
            chunk: 0,
        }
    }

    /// A(0) –associated_with– B(1); A –funds→ C(2); B –supports→ C; D(3) –associated_with– A;
    /// E(4) knows nobody.
    fn graph(dir: &std::path::Path) -> Result<(Store, Vec<i64>)> {
        let store = Store::open(&StoreOptions {
            data_dir: dir.to_path_buf(),
            embedder: "test".into(),
            dimensions: 2,
        })?;
        let names = ["Ann", "Bo", "Cy", "Di", "Ed"];
        store.insert_document(&NewDocument {
            id: "doc_0000000000000001".into(),
            content_hash: "h1".into(),
            title: "t".into(),
            source: "t.txt".into(),
            media_type: "txt".into(),
            pages: 1,
            bytes: 1,
            chunks: vec![NewChunk {
                ordinal: 0,
                page: None,
                byte_start: 0,
                byte_end: 1,
                text: "x".into(),
                embedding: vec![1.0, 0.0],
            }],
            entities: names.iter().map(|n| entity(n)).collect(),
            mentions: (0..names.len())
                .map(|i| NewMention {
                    entity: i,
                    chunk: 0,
                    count: 1,
                })
                .collect(),
            relations: vec![
                relation(0, 1, "associated_with"),
                relation(0, 2, "funds"),
                relation(1, 2, "supports"),
                relation(3, 0, "associated_with"),
            ],
        })?;
        let ids = names
            .iter()
            .map(|n| {
                store
                    .entities_by_keys(&[n.to_lowercase()])
                    .map(|e| e.first().map(|e| e.id).unwrap_or(-1))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((store, ids))
    }

    #[test]
    fn stated_relations_are_preferred_to_co_occurrence_and_directions_are_kept() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| crate::Error::io("tmp", e))?;
        let (store, id) = graph(dir.path())?;
        let path = store.shortest_path(id[0], id[1], 4)?.unwrap_or_default();
        let hops: Vec<(&str, &str, &str, bool)> = path
            .iter()
            .map(|s| {
                (
                    s.from.name.as_str(),
                    s.relation_type.as_str(),
                    s.to.name.as_str(),
                    s.forward,
                )
            })
            .collect();
        // Ann funds Cy; Bo supports Cy (so that hop runs against the relation's direction).
        assert_eq!(
            hops,
            vec![
                ("Ann", "funds", "Cy", true),
                ("Cy", "supports", "Bo", false)
            ]
        );
        assert!(path.iter().all(|s| s.evidence_chunk.is_some()));
        Ok(())
    }

    #[test]
    fn co_occurrence_is_used_when_nothing_else_connects_and_hops_are_bounded() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| crate::Error::io("tmp", e))?;
        let (store, id) = graph(dir.path())?;
        let path = store.shortest_path(id[3], id[2], 4)?.unwrap_or_default();
        assert_eq!(path.len(), 2, "{path:?}");
        assert_eq!(path[0].relation_type, "associated_with");
        assert_eq!(store.shortest_path(id[3], id[2], 1)?, None);
        assert_eq!(store.shortest_path(id[0], id[4], 4)?, None);
        assert_eq!(store.shortest_path(id[0], id[0], 4)?, Some(Vec::new()));
        Ok(())
    }
}
