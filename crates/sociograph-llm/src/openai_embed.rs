//! Embeddings from any OpenAI-compatible `/embeddings` endpoint (TEI, vLLM, Ollama, OpenAI).

use serde::Deserialize;

use crate::chat::ChatClient;
use crate::embed::{Embedder, l2_normalize};
use crate::{Error, Result};

const BATCH: usize = 64;

/// Remote embedder; blocking calls run on the runtime captured at construction.
pub struct OpenAiEmbedder {
    client: ChatClient,
    model: String,
    id: String,
    dimensions: usize,
    runtime: tokio::runtime::Handle,
}

#[derive(Deserialize)]
struct EmbeddingsBody {
    data: Vec<EmbeddingItem>,
}

#[derive(Deserialize)]
struct EmbeddingItem {
    #[serde(default)]
    index: Option<usize>,
    embedding: Vec<f32>,
}

impl OpenAiEmbedder {
    /// Connects once to learn the dimension (so a wrong URL or model fails at startup).
    /// Must be called inside a tokio runtime, from a thread that may block.
    pub fn connect(
        client: ChatClient,
        model: &str,
        runtime: tokio::runtime::Handle,
    ) -> Result<Self> {
        let mut embedder = OpenAiEmbedder {
            client,
            model: model.to_owned(),
            id: format!("openai:{model}"),
            dimensions: 0,
            runtime,
        };
        let probe = embedder.request(&["dimension probe"])?;
        embedder.dimensions = probe.first().map(Vec::len).unwrap_or(0);
        if embedder.dimensions == 0 {
            return Err(Error::BadReply(
                "the embeddings endpoint returned an empty vector".into(),
            ));
        }
        Ok(embedder)
    }

    fn request(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let body = serde_json::json!({"model": self.model, "input": texts});
        let value = self
            .runtime
            .block_on(self.client.post_json("embed", "embeddings", &body))?;
        let parsed: EmbeddingsBody =
            serde_json::from_value(value).map_err(|e| Error::BadReply(e.to_string()))?;
        if parsed.data.len() != texts.len() {
            return Err(Error::BadReply(format!(
                "asked for {} embeddings, got {}",
                texts.len(),
                parsed.data.len()
            )));
        }
        let mut items = parsed.data;
        if items.iter().all(|i| i.index.is_some()) {
            items.sort_by_key(|i| i.index);
        }
        Ok(items
            .into_iter()
            .map(|i| {
                let mut v = i.embedding;
                l2_normalize(&mut v);
                v
            })
            .collect())
    }
}

impl Embedder for OpenAiEmbedder {
    fn id(&self) -> &str {
        &self.id
    }

    fn dimensions(&self) -> usize {
        self.dimensions
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(BATCH) {
            let vectors = self.request(batch)?;
            if let Some(bad) = vectors.iter().find(|v| v.len() != self.dimensions) {
                return Err(Error::BadReply(format!(
                    "embedding of {} dimensions, expected {}",
                    bad.len(),
                    self.dimensions
                )));
            }
            out.extend(vectors);
        }
        Ok(out)
    }
}
