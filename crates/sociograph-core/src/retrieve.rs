//! Retrieval: keyword (FTS5 BM25), vector (ANN) and graph rankings, fused by reciprocal rank.
//!
//! Graph retrieval finds the entities a query names (by name or alias, longest match first),
//! then ranks the chunks that evidence their relations, mention them, or evidence their
//! neighbours' relations. Hybrid fuses the three lists with RRF (k = 60), so a chunk that only
//! the graph can reach ("who is connected to X?") still surfaces.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use sociograph_llm::{Embedder, Reranker};
use sociograph_store::textnorm;
use sociograph_store::{DocumentRef, EntitySummary, Store};
use sociograph_telemetry::record;

use crate::Result;
use crate::types::{Mode, Query, TopK};

/// The RRF constant from Cormack et al.; dampens the weight of top ranks.
const RRF_K: f64 = 60.0;

const STOPWORDS: &[&str] = &[
    "a", "an", "the", "of", "to", "in", "on", "at", "for", "and", "or", "is", "are", "was", "were",
    "be", "been", "who", "whom", "what", "which", "how", "why", "when", "where", "did", "does",
    "do", "with", "by", "from", "as", "that", "this", "it", "its", "his", "her", "their", "about",
    "into", "between", "has", "have", "had", "any", "there", "he", "she", "they", "them", "me",
    "tell", "show", "find", "list", "give", "all", "some", "not", "no",
];

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub chunk_id: i64,
    pub text: String,
    pub score: f64,
    pub document: DocumentRef,
    pub page: Option<u32>,
    pub entities: Vec<EntitySummary>,
    /// 1-based rank of this chunk in each list that found it.
    pub ranks: Ranks,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Ranks {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyword: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graph: Option<usize>,
}

/// Milliseconds spent per stage.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Timings {
    pub vector_ms: f64,
    pub keyword_ms: f64,
    pub graph_ms: f64,
    /// Zero unless a reranker is configured.
    pub rerank_ms: f64,
    pub total_ms: f64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct SearchResult {
    pub hits: Vec<Hit>,
    pub mode: Mode,
    /// Entities recognised in the query (the graph's starting points).
    pub matched_entities: Vec<EntitySummary>,
    /// The hits were reordered by the reranker (false when none is configured or it failed;
    /// a failure is logged and the fused order kept).
    pub reranked: bool,
    pub timings: Timings,
}

/// The optional cross-encoder stage after fusion.
pub struct Rerank {
    pub reranker: Reranker,
    /// Runs the async client from the blocking retrieval thread.
    pub runtime: tokio::runtime::Handle,
    /// How many fused candidates the reranker scores (at least `k`).
    pub candidates: usize,
}

/// One retriever's output: its name, its weight in the fusion, and (chunk, native score) best
/// first.
type RankedList = (&'static str, f64, Vec<(i64, f64)>);

pub struct Retriever {
    pub store: Arc<Store>,
    pub embedder: Arc<dyn Embedder>,
    pub rerank: Option<Rerank>,
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// Keyword terms of a query: normalised words without stopwords (all words if only stopwords).
pub fn keyword_terms(query: &str) -> Vec<String> {
    let words = textnorm::words(query);
    let mut terms: Vec<String> = words
        .iter()
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .cloned()
        .collect();
    if terms.is_empty() {
        terms = words;
    }
    terms.dedup();
    terms.truncate(64);
    terms
}

/// Candidate entity keys in a query: word n-grams (1–5 words), unigrams only if not stopwords.
fn entity_keys(query: &str) -> Vec<(usize, usize, String)> {
    let words = textnorm::words(query);
    let mut keys = Vec::new();
    for n in (1..=5usize).rev() {
        for start in 0..words.len().saturating_sub(n - 1) {
            let gram = &words[start..start + n];
            if n == 1 && (STOPWORDS.contains(&gram[0].as_str()) || gram[0].chars().count() < 3) {
                continue;
            }
            keys.push((start, start + n, gram.join(" ")));
        }
    }
    keys.truncate(200);
    keys
}

impl Retriever {
    /// Entities the query names; a longer match hides the shorter ones inside it.
    pub fn query_entities(&self, query: &str) -> Result<Vec<EntitySummary>> {
        let mut covered: Vec<(usize, usize)> = Vec::new();
        let mut found: Vec<EntitySummary> = Vec::new();
        for (start, end, key) in entity_keys(query) {
            if covered.iter().any(|(s, e)| *s <= start && end <= *e) {
                continue;
            }
            let entities = self.store.entities_by_keys(std::slice::from_ref(&key))?;
            if !entities.is_empty() {
                covered.push((start, end));
                for e in entities {
                    if !found.iter().any(|f| f.id == e.id) {
                        found.push(e);
                    }
                }
            }
        }
        Ok(found)
    }

    /// Order graph candidates by structure and meaning together: half the normalised graph
    /// score, half the cosine between the query and the chunk. The graph decides which chunks
    /// are relevant to the named entities; the query decides which of them answer it.
    fn order_neighbourhood(
        &self,
        candidates: Vec<(i64, f64)>,
        query: Option<&[f32]>,
    ) -> Result<Vec<(i64, f64)>> {
        let (Some(query), Some(max)) = (query, candidates.first().map(|c| c.1)) else {
            return Ok(candidates);
        };
        if max <= 0.0 {
            return Ok(candidates);
        }
        let ids: Vec<i64> = candidates.iter().map(|c| c.0).collect();
        let vectors: HashMap<i64, Vec<f32>> =
            self.store.chunk_embeddings(&ids)?.into_iter().collect();
        let mut scored: Vec<(i64, f64)> = candidates
            .into_iter()
            .map(|(id, g)| {
                let cos = vectors
                    .get(&id)
                    .map(|v| {
                        v.iter()
                            .zip(query)
                            .map(|(a, b)| f64::from(a * b))
                            .sum::<f64>()
                    })
                    .unwrap_or(0.0);
                (id, 0.7 * (g / max) + 0.3 * cos.max(0.0))
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(scored)
    }

    pub fn search(&self, query: &Query, k: TopK, mode: Mode) -> Result<SearchResult> {
        let _span = tracing::info_span!("retrieve", mode = mode.as_str(), k = k.get()).entered();
        let started = Instant::now();
        let k = k.get();
        let depth = (k * 3).max(30);
        let mut timings = Timings::default();
        let mut lists: Vec<RankedList> = Vec::new();

        // The query vector serves the vector list and orders the graph neighbourhood.
        let query_vector = if mode == Mode::Keyword {
            None
        } else {
            let t = Instant::now();
            let v = self.embedder.embed(&[query.as_str()])?.into_iter().next();
            timings.vector_ms += ms(t);
            record::retrieval_stage("embed", t.elapsed());
            v
        };

        if matches!(mode, Mode::Naive | Mode::Hybrid) {
            let t = Instant::now();
            let _s = tracing::info_span!("retrieve.vector").entered();
            let hits = match &query_vector {
                Some(v) => self.store.vector_search(v, depth)?,
                None => Vec::new(),
            };
            // The vector index query alone: the dashboard's "vector-DB query time".
            record::retrieval_stage("vector", t.elapsed());
            lists.push((
                "vector",
                1.0,
                hits.into_iter()
                    .map(|h| (h.key, f64::from(h.similarity)))
                    .collect(),
            ));
            timings.vector_ms += ms(t);
        }
        if matches!(mode, Mode::Keyword | Mode::Hybrid) {
            let t = Instant::now();
            let _s = tracing::info_span!("retrieve.keyword").entered();
            let terms = keyword_terms(query.as_str());
            lists.push(("keyword", 1.0, self.store.keyword_search(&terms, depth)?));
            timings.keyword_ms = ms(t);
            record::retrieval_stage("keyword", t.elapsed());
        }
        let mut matched_entities = Vec::new();
        if matches!(mode, Mode::Local | Mode::Hybrid) {
            let t = Instant::now();
            let _s = tracing::info_span!("retrieve.graph").entered();
            matched_entities = self.query_entities(query.as_str())?;
            let seeds: Vec<i64> = matched_entities.iter().map(|e| e.id).collect();
            let focus = crate::extract::relation_types_in(query.as_str());
            let neighbourhood = self.store.graph_chunks(&seeds, &focus, depth)?;
            // A question that names entities *and* asks about a kind of relation ("who funded
            // X?") is the graph's home ground: its ranking counts double in the fusion.
            let weight = if focus.is_empty() { 1.0 } else { 2.0 };
            lists.push((
                "graph",
                weight,
                self.order_neighbourhood(neighbourhood, query_vector.as_deref())?,
            ));
            timings.graph_ms = ms(t);
            record::retrieval_stage("graph", t.elapsed());
        }

        let mut ranks: HashMap<i64, Ranks> = HashMap::new();
        let mut scores: HashMap<i64, f64> = HashMap::new();
        let fuse = lists.len() > 1;
        for (name, weight, list) in &lists {
            for (i, (chunk, native)) in list.iter().enumerate() {
                let rank = i + 1;
                let r = ranks.entry(*chunk).or_default();
                match *name {
                    "vector" => r.vector = Some(rank),
                    "keyword" => r.keyword = Some(rank),
                    _ => r.graph = Some(rank),
                }
                let contribution = if fuse {
                    weight / (RRF_K + rank as f64)
                } else {
                    *native
                };
                *scores.entry(*chunk).or_default() += contribution;
            }
        }
        let mut ranked: Vec<(i64, f64)> = scores.into_iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut reranked = false;
        if let Some(rerank) = &self.rerank {
            let t = Instant::now();
            let _s = tracing::info_span!("rerank").entered();
            ranked.truncate(rerank.candidates.max(k));
            match self.rerank(rerank, query.as_str(), &ranked) {
                Ok(order) => {
                    ranked = order;
                    reranked = true;
                }
                Err(e) => tracing::warn!(error = %e, "reranker failed; keeping the fused order"),
            }
            timings.rerank_ms = ms(t);
            record::retrieval_stage("rerank", t.elapsed());
        }
        ranked.truncate(k);

        let ids: Vec<i64> = ranked.iter().map(|(id, _)| *id).collect();
        let fused: HashMap<i64, f64> = ranked.into_iter().collect();
        // Chunks deleted since the lists were built are skipped; scores follow their chunk.
        let records = self.store.chunks(&ids)?;
        let mut hits = Vec::with_capacity(records.len());
        for record in records {
            hits.push(Hit {
                entities: self.store.chunk_entities(record.id)?,
                ranks: ranks.get(&record.id).copied().unwrap_or_default(),
                score: fused.get(&record.id).copied().unwrap_or_default(),
                chunk_id: record.id,
                text: record.text,
                document: record.document,
                page: record.page,
            });
        }
        timings.total_ms = ms(started);
        record::retrieval_stage("total", started.elapsed());
        Ok(SearchResult {
            hits,
            mode,
            matched_entities,
            reranked,
            timings,
        })
    }

    /// `ranked` reordered by the cross-encoder, each with its relevance score.
    fn rerank(
        &self,
        rerank: &Rerank,
        query: &str,
        ranked: &[(i64, f64)],
    ) -> Result<Vec<(i64, f64)>> {
        let ids: Vec<i64> = ranked.iter().map(|(id, _)| *id).collect();
        let records = self.store.chunks(&ids)?;
        let texts: Vec<&str> = records.iter().map(|r| r.text.as_str()).collect();
        let order = rerank
            .runtime
            .block_on(rerank.reranker.rerank(query, &texts))?;
        Ok(order
            .into_iter()
            .filter_map(|(i, score)| records.get(i).map(|r| (r.id, score)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_terms_drop_stopwords_but_never_everything() {
        assert_eq!(
            keyword_terms("Who backed the Mayor?"),
            vec!["backed", "mayor"]
        );
        assert_eq!(keyword_terms("who is it"), vec!["who", "is", "it"]);
    }

    #[test]
    fn entity_keys_prefer_longer_ngrams_first() {
        let keys = entity_keys("How is Ingrid Valtersen linked");
        assert_eq!(keys.first().map(|k| k.2.split(' ').count()), Some(5));
        assert!(keys.iter().any(|k| k.2 == "ingrid valtersen"));
        assert!(!keys.iter().any(|k| k.2 == "is"));
    }
}
