//! The [`Embedder`] trait: text in, unit vectors out.

use crate::Result;

/// Which embedder to use; chosen by `--embedder`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EmbedderKind {
    /// all-MiniLM-L6-v2 in-process (candle).
    Local,
    /// Any OpenAI-compatible `/v1/embeddings` endpoint.
    Openai,
    /// Model-free feature hashing; for tests and as a last resort.
    Hashing,
}

impl EmbedderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EmbedderKind::Local => "local",
            EmbedderKind::Openai => "openai",
            EmbedderKind::Hashing => "hashing",
        }
    }
}

/// Turns texts into L2-normalised vectors of a fixed dimension.
///
/// Blocking: call from a blocking thread (`spawn_blocking`) when inside an async runtime.
pub trait Embedder: Send + Sync {
    /// Stable identity of the model, recorded with the index so vectors are never mixed.
    fn id(&self) -> &str;
    fn dimensions(&self) -> usize;
    /// One vector per input, in order.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>>;
}

/// Scale `v` to unit length (left as is when it is all zeros).
pub fn l2_normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for x in v.iter_mut() {
            *x /= norm;
        }
    }
}
