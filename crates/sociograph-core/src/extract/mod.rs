//! Entity and relation extraction behind the [`Extractor`] trait, and entity resolution.
//!
//! Extractors report what each chunk names and how the names relate; [`resolve`] turns that
//! into the store's document-scoped entity list. Identity is (normalised name, type): two
//! entities that share a name but not a type stay apart, and a relation whose endpoint is
//! ambiguous is dropped rather than attached to whichever same-named entity came first (the
//! prototype's bug).

mod llm;
mod offline;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sociograph_store::textnorm::name_key;
use sociograph_store::{NewEntity, NewMention, NewRelation};

use crate::Result;

pub use llm::LlmExtractor;
pub use offline::{OfflineExtractor, relation_types_in};

/// An entity named in one chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtractedEntity {
    pub name: String,
    #[serde(rename = "type")]
    pub entity_type: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Occurrences in the chunk (at least 1).
    #[serde(default = "one")]
    pub count: u32,
}

fn one() -> u32 {
    1
}

/// A relation stated in one chunk. Endpoints are names; the types disambiguate same-named
/// entities and should be given whenever the extractor knows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtractedRelation {
    pub source: String,
    #[serde(default)]
    pub source_type: Option<String>,
    pub target: String,
    #[serde(default)]
    pub target_type: Option<String>,
    #[serde(rename = "type")]
    pub relation_type: String,
    #[serde(default)]
    pub description: String,
}

/// Everything extracted from one chunk.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChunkExtraction {
    #[serde(default)]
    pub entities: Vec<ExtractedEntity>,
    #[serde(default)]
    pub relations: Vec<ExtractedRelation>,
}

/// Finds entities and relations in a document's chunks.
///
/// Blocking: call from a blocking thread inside an async runtime.
pub trait Extractor: Send + Sync {
    fn name(&self) -> &str;
    /// One extraction per chunk, in order. The whole document is passed so an extractor can
    /// resolve short references ("Lund") to names given earlier ("Victoria Lund").
    fn extract(&self, chunks: &[&str]) -> Result<Vec<ChunkExtraction>>;
}

/// The canonical spelling of an entity type; unknown types are kept, lower-cased.
pub fn canonical_type(raw: &str) -> String {
    let t = raw.trim().to_lowercase();
    match t.as_str() {
        "person" | "people" | "per" | "individual" | "politician" => "person".into(),
        "organization" | "organisation" | "org" | "company" | "party" | "institution"
        | "agency" | "union" | "business" => "organization".into(),
        "location" | "place" | "loc" | "gpe" | "city" | "district" | "country" | "facility" => {
            "location".into()
        }
        "group" | "family" | "faction" | "clan" => "group".into(),
        "event" => "event".into(),
        "" => "other".into(),
        other => other.replace(' ', "_"),
    }
}

/// The canonical spelling of a relation type: lower snake case.
pub fn canonical_relation(raw: &str) -> String {
    let t: String = raw
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '_' })
        .collect();
    let t = t.trim_matches('_').to_owned();
    if t.is_empty() { "related_to".into() } else { t }
}

/// Document-scoped entities, mentions and relations, ready for the store.
#[derive(Debug, Default)]
pub struct Resolved {
    pub entities: Vec<NewEntity>,
    pub mentions: Vec<NewMention>,
    pub relations: Vec<NewRelation>,
    /// Relations dropped because an endpoint was unknown or ambiguous.
    pub dropped_relations: usize,
}

/// Merge per-chunk extractions into document-scoped entities (by (key, type)), mentions
/// (chunk ordinal = index in `extractions`) and relations with resolved endpoints.
pub fn resolve(extractions: &[ChunkExtraction]) -> Resolved {
    let mut out = Resolved::default();
    let mut index: HashMap<(String, String), usize> = HashMap::new();

    // Pass 1: entities and mentions.
    let mut chunk_entities: Vec<Vec<usize>> = Vec::with_capacity(extractions.len());
    for (ordinal, extraction) in extractions.iter().enumerate() {
        let mut here = Vec::new();
        let mut counts: HashMap<usize, u32> = HashMap::new();
        for e in &extraction.entities {
            let key = name_key(&e.name);
            if key.is_empty() {
                continue;
            }
            let ty = canonical_type(&e.entity_type);
            let i = *index.entry((key, ty.clone())).or_insert_with(|| {
                out.entities.push(NewEntity {
                    name: e.name.trim().to_owned(),
                    entity_type: ty,
                    description: String::new(),
                    aliases: Vec::new(),
                });
                out.entities.len() - 1
            });
            let entity = &mut out.entities[i];
            if entity.description.is_empty() && !e.description.trim().is_empty() {
                entity.description = e.description.trim().to_owned();
            }
            for alias in &e.aliases {
                if !alias.trim().is_empty() && !entity.aliases.iter().any(|a| a == alias.trim()) {
                    entity.aliases.push(alias.trim().to_owned());
                }
            }
            *counts.entry(i).or_default() += e.count.max(1);
            if !here.contains(&i) {
                here.push(i);
            }
        }
        for (entity, count) in counts {
            out.mentions.push(NewMention {
                entity,
                chunk: ordinal as u32,
                count,
            });
        }
        chunk_entities.push(here);
    }

    // Pass 2: relations, endpoints resolved by (key, type), never by name alone when ambiguous.
    let matches_name = |i: usize, key: &str| -> bool {
        let e = &out.entities[i];
        name_key(&e.name) == key || e.aliases.iter().any(|a| name_key(a) == key)
    };
    let find = |here: &[usize], name: &str, ty: Option<&str>| -> Option<usize> {
        let key = name_key(name);
        if key.is_empty() {
            return None;
        }
        let ty = ty.map(canonical_type).filter(|t| t != "other");
        let type_ok = |i: &usize| {
            ty.as_deref()
                .is_none_or(|t| out.entities[*i].entity_type == t)
        };
        let local: Vec<usize> = here
            .iter()
            .copied()
            .filter(|i| matches_name(*i, &key))
            .filter(type_ok)
            .collect();
        match local.as_slice() {
            [one] => return Some(*one),
            [] => {}
            _ => return None, // ambiguous within the chunk
        }
        let global: Vec<usize> = (0..out.entities.len())
            .filter(|i| matches_name(*i, &key))
            .filter(type_ok)
            .collect();
        match global.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    };
    let mut extra_mentions: Vec<NewMention> = Vec::new();
    for (ordinal, extraction) in extractions.iter().enumerate() {
        let here = &chunk_entities[ordinal];
        for r in &extraction.relations {
            let source = find(here, &r.source, r.source_type.as_deref());
            let target = find(here, &r.target, r.target_type.as_deref());
            let (Some(source), Some(target)) = (source, target) else {
                tracing::debug!(source = %r.source, target = %r.target, "relation endpoint unknown or ambiguous; dropped");
                out.dropped_relations += 1;
                continue;
            };
            if source == target {
                continue;
            }
            for endpoint in [source, target] {
                if !here.contains(&endpoint)
                    && !extra_mentions
                        .iter()
                        .any(|m| m.entity == endpoint && m.chunk == ordinal as u32)
                {
                    extra_mentions.push(NewMention {
                        entity: endpoint,
                        chunk: ordinal as u32,
                        count: 1,
                    });
                }
            }
            out.relations.push(NewRelation {
                source,
                target,
                relation_type: canonical_relation(&r.relation_type),
                description: r.description.trim().to_owned(),
                chunk: ordinal as u32,
            });
        }
    }
    out.mentions.extend(extra_mentions);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entity(name: &str, ty: &str) -> ExtractedEntity {
        ExtractedEntity {
            name: name.into(),
            entity_type: ty.into(),
            description: String::new(),
            aliases: vec![],
            count: 1,
        }
    }

    fn relation(source: &str, source_type: Option<&str>, target: &str) -> ExtractedRelation {
        ExtractedRelation {
            source: source.into(),
            source_type: source_type.map(Into::into),
            target: target.into(),
            target_type: None,
            relation_type: "leads".into(),
            description: String::new(),
        }
    }

    /// Regression: the prototype attached relations to the first entity with a matching name,
    /// so "Victoria (person) chairs the Harbour Trust" landed on the district of Victoria.
    #[test]
    fn relation_attaches_to_the_entity_with_the_stated_type_not_the_first_same_name() {
        let extraction = ChunkExtraction {
            entities: vec![
                entity("Victoria", "location"),
                entity("Victoria", "person"),
                entity("Harbour Trust", "organization"),
            ],
            relations: vec![relation("Victoria", Some("person"), "Harbour Trust")],
        };
        let resolved = resolve(&[extraction]);
        assert_eq!(resolved.entities.len(), 3);
        let r = &resolved.relations[0];
        assert_eq!(resolved.entities[r.source].entity_type, "person");
        assert_eq!(resolved.entities[r.target].name, "Harbour Trust");
    }

    #[test]
    fn ambiguous_relation_endpoint_is_dropped_not_guessed() {
        let extraction = ChunkExtraction {
            entities: vec![
                entity("Victoria", "location"),
                entity("Victoria", "person"),
                entity("Harbour Trust", "organization"),
            ],
            relations: vec![relation("Victoria", None, "Harbour Trust")],
        };
        let resolved = resolve(&[extraction]);
        assert!(resolved.relations.is_empty());
        assert_eq!(resolved.dropped_relations, 1);
    }

    #[test]
    fn same_entity_across_chunks_merges_and_counts_mentions_per_chunk() {
        let a = ChunkExtraction {
            entities: vec![
                entity("Leila Haddad", "Person"),
                entity("leila  HADDAD", "person"),
            ],
            relations: vec![],
        };
        let b = ChunkExtraction {
            entities: vec![entity("Leila Haddad", "PER")],
            relations: vec![],
        };
        let resolved = resolve(&[a, b]);
        assert_eq!(resolved.entities.len(), 1);
        assert_eq!(resolved.mentions.len(), 2);
        assert_eq!(resolved.mentions.iter().map(|m| m.count).sum::<u32>(), 3);
    }

    #[test]
    fn relation_may_name_an_entity_introduced_in_an_earlier_chunk() {
        let a = ChunkExtraction {
            entities: vec![entity("Edward Marsh", "person")],
            relations: vec![],
        };
        let b = ChunkExtraction {
            entities: vec![entity("Marsh Holdings", "organization")],
            relations: vec![relation("Edward Marsh", Some("person"), "Marsh Holdings")],
        };
        let resolved = resolve(&[a, b]);
        assert_eq!(resolved.relations.len(), 1);
        // The endpoint gets a mention in the evidence chunk so graph search finds it there.
        assert!(
            resolved
                .mentions
                .iter()
                .any(|m| m.entity == 0 && m.chunk == 1)
        );
    }
}
