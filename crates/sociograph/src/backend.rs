//! Building the services from settings: embedder, store, extractor, pipeline, retriever.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sociograph_core::chunk::ChunkOptions;
use sociograph_core::extract::{Extractor, LlmExtractor, OfflineExtractor};
use sociograph_llm::{
    ChatClient, ClientConfig, Embedder, EmbedderKind, HashingEmbedder, OpenAiEmbedder,
};
use sociograph_server::Backend;

use crate::config::{ExtractorKind, Settings};

fn chat_client(settings: &Settings) -> anyhow::Result<ChatClient> {
    let base_url = settings
        .llm
        .base_url
        .clone()
        .context("no LLM base URL configured")?;
    Ok(ChatClient::new(ClientConfig {
        base_url,
        api_key: settings.llm.api_key.clone(),
        timeout: Duration::from_secs(settings.llm.timeout_secs.max(1)),
        max_retries: settings.llm.max_retries,
        max_concurrency: settings.llm.max_concurrency.max(1),
    })?)
}

/// Load the configured embedder. Blocking (model load or a probe request).
pub fn embedder(
    settings: &Settings,
    runtime: &tokio::runtime::Handle,
) -> anyhow::Result<Arc<dyn Embedder>> {
    Ok(match settings.embedder.kind {
        EmbedderKind::Local => Arc::from(
            sociograph_llm::local_embedder(&settings.embedder.model_dir)
                .context("cannot load the local embedder (or pass --embedder hashing)")?,
        ),
        EmbedderKind::Hashing => Arc::new(HashingEmbedder::new(settings.embedder.dimensions)),
        EmbedderKind::Openai => Arc::new(
            OpenAiEmbedder::connect(
                chat_client(settings)?,
                &settings.embedder.model,
                runtime.clone(),
            )
            .context("cannot reach the embeddings endpoint")?,
        ),
    })
}

/// Open everything a command needs. Blocking; call from a blocking thread.
pub fn open(settings: &Settings, runtime: &tokio::runtime::Handle) -> anyhow::Result<Backend> {
    let embedder = embedder(settings, runtime)?;
    let extractor: Arc<dyn Extractor> = match settings.extractor.kind {
        ExtractorKind::Offline => Arc::new(OfflineExtractor),
        ExtractorKind::Llm => Arc::new(LlmExtractor::new(
            chat_client(settings)?,
            &settings.llm.extract_model,
            runtime.clone(),
        )),
    };
    let chunking = ChunkOptions {
        target_chars: settings.ingest.chunk_target_chars,
        max_chars: settings.ingest.chunk_max_chars,
        overlap_chars: settings.ingest.chunk_overlap_chars,
        min_chars: settings.ingest.chunk_min_chars,
    };
    Backend::open(
        &settings.data_dir,
        embedder,
        extractor,
        chunking,
        settings.server.max_upload_bytes,
    )
    .with_context(|| {
        format!(
            "cannot open the data directory {}",
            settings.data_dir.display()
        )
    })
}
