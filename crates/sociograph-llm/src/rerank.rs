//! Reranking through a Cohere- or TEI-compatible `/rerank` endpoint (TEI serves the
//! cross-encoders the prototype used, e.g. `BAAI/bge-reranker-base`).
//!
//! Both request shapes are sent in one body (`texts` for TEI, `documents` for Cohere and its
//! clones); both reply shapes are understood (`[{index, score}]` and
//! `{results: [{index, relevance_score}]}`).

use serde::Deserialize;

use crate::chat::ChatClient;
use crate::{Error, Result};

/// A cross-encoder behind HTTP.
#[derive(Clone)]
pub struct Reranker {
    client: ChatClient,
    model: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RerankBody {
    Tei(Vec<Scored>),
    Cohere { results: Vec<Scored> },
}

#[derive(Deserialize)]
struct Scored {
    index: usize,
    #[serde(alias = "relevance_score")]
    score: f64,
}

impl Reranker {
    /// `client`'s base URL is the server root the `/rerank` path hangs off
    /// (`http://127.0.0.1:8081` for TEI, `https://api.cohere.com/v2` for Cohere).
    pub fn new(client: ChatClient, model: Option<String>) -> Self {
        Reranker { client, model }
    }

    /// Relevance of each text to `query`: `(index into texts, score)`, best first. Every text is
    /// scored exactly once, or the reply is refused.
    pub async fn rerank(&self, query: &str, texts: &[&str]) -> Result<Vec<(usize, f64)>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let mut body = serde_json::json!({
            "query": query,
            "texts": texts,
            "documents": texts,
            "top_n": texts.len(),
            "truncate": true,
        });
        if let Some(model) = &self.model {
            body["model"] = serde_json::json!(model);
        }
        let value = self.client.post_json("rerank", "rerank", &body).await?;
        let scored = match serde_json::from_value::<RerankBody>(value)
            .map_err(|e| Error::BadReply(format!("rerank reply: {e}")))?
        {
            RerankBody::Tei(s) | RerankBody::Cohere { results: s } => s,
        };
        let mut seen = vec![false; texts.len()];
        for s in &scored {
            match seen.get_mut(s.index) {
                Some(slot) if !*slot && s.score.is_finite() => *slot = true,
                _ => {
                    return Err(Error::BadReply(format!(
                        "rerank reply has a bad or repeated index {} for {} texts",
                        s.index,
                        texts.len()
                    )));
                }
            }
        }
        if seen.iter().any(|s| !s) {
            return Err(Error::BadReply(format!(
                "rerank reply scored {} of {} texts",
                scored.len(),
                texts.len()
            )));
        }
        let mut out: Vec<(usize, f64)> = scored.into_iter().map(|s| (s.index, s.score)).collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(out)
    }
}
