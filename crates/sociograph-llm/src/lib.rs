//! Model access for SocioGraph: embedders, the OpenAI-compatible chat client (plain and
//! streamed, with retries, a concurrency limit and a response cache), the reranker, and the
//! price table that turns token usage into USD.
//!
//! Owns every call that leaves the process for a model, and the in-process MiniLM model.
//! It knows nothing of documents, storage or HTTP serving; `core` drives it.

mod chat;
mod embed;
mod error;
mod hashing;
#[cfg(feature = "local")]
mod local;
mod openai_embed;
mod price;
mod rerank;
mod stream;

pub use chat::{
    ChatClient, ChatMessage, ChatOptions, ChatReply, ChatStream, ClientConfig, HeaderHook,
    ResponseCache, StreamChunk, Usage,
};
pub use embed::{Embedder, EmbedderKind};
pub use error::{Error, Result};
pub use hashing::HashingEmbedder;
pub use openai_embed::OpenAiEmbedder;
pub use price::{Price, PriceTable};
pub use rerank::Reranker;
pub use stream::SseDecoder;

/// Load the local all-MiniLM-L6-v2 embedder from a model directory.
#[cfg(feature = "local")]
pub fn local_embedder(model_dir: &std::path::Path) -> Result<Box<dyn Embedder>> {
    Ok(Box::new(local::LocalEmbedder::load(model_dir)?))
}

/// Load the local all-MiniLM-L6-v2 embedder from a model directory.
#[cfg(not(feature = "local"))]
pub fn local_embedder(_model_dir: &std::path::Path) -> Result<Box<dyn Embedder>> {
    Err(Error::Config(
        "this binary was built without the `local` feature; use --embedder hashing or openai"
            .into(),
    ))
}
