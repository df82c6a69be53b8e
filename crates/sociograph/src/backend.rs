//! Building the services from settings: embedder, store, extractor, pipeline, retriever,
//! reranker and answer generator.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sociograph_core::answer::Generator;
use sociograph_core::chunk::ChunkOptions;
use sociograph_core::extract::{LlmExtractor, OfflineExtractor};
use sociograph_core::retrieve::Rerank;
use sociograph_llm::{
    ChatClient, ClientConfig, Embedder, EmbedderKind, HashingEmbedder, OpenAiEmbedder, Reranker,
};
use sociograph_server::{Backend, ExtractorFactory, Models};

use crate::config::{ExtractorKind, GeneratorKind, Settings};

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
    })?
    .with_prices(settings.llm.prices.clone())
    .with_headers(sociograph_telemetry::trace::header_hook()))
}

/// Load the configured embedder. Blocking (model load or a probe request).
pub fn embedder(
    settings: &Settings,
    llm: Option<&ChatClient>,
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
                llm.cloned().context("no LLM base URL configured")?,
                &settings.embedder.model,
                runtime.clone(),
            )
            .context("cannot reach the embeddings endpoint")?,
        ),
    })
}

/// The answer generator the settings ask for (`None`: extractive answers).
fn generator(settings: &Settings, llm: Option<&ChatClient>) -> anyhow::Result<Option<Generator>> {
    let use_llm = match settings.answer.generator {
        GeneratorKind::Extractive => false,
        GeneratorKind::Llm => true,
        GeneratorKind::Auto => settings.llm.base_url.is_some(),
    };
    if !use_llm {
        return Ok(None);
    }
    Ok(Some(Generator {
        client: llm.cloned().context("no LLM base URL configured")?,
        answer_model: settings.llm.answer_model.clone(),
        translate_model: settings.llm.translate_model.clone(),
        prices: settings.llm.prices.clone(),
        temperature: settings.answer.temperature,
        max_tokens: settings.answer.max_tokens,
        queue_wait: Duration::from_secs_f64(settings.llm.queue_wait_secs),
    }))
}

fn rerank(settings: &Settings, runtime: &tokio::runtime::Handle) -> anyhow::Result<Option<Rerank>> {
    let r = &settings.rerank;
    if !r.enabled {
        return Ok(None);
    }
    let client = ChatClient::new(ClientConfig {
        base_url: r.base_url.clone(),
        api_key: r.api_key.clone(),
        timeout: Duration::from_secs(r.timeout_secs),
        max_retries: 1,
        max_concurrency: settings.llm.max_concurrency.max(1),
    })?
    .with_headers(sociograph_telemetry::trace::header_hook());
    Ok(Some(Rerank {
        reranker: Reranker::new(client, r.model.clone()),
        runtime: runtime.clone(),
        candidates: r.candidates,
    }))
}

/// What stays loaded across data directories: the LLM client and the embedder.
pub struct Shared {
    llm: Option<ChatClient>,
    embedder: Arc<dyn Embedder>,
}

/// Load the LLM client and the embedder. Blocking.
pub fn shared(settings: &Settings, runtime: &tokio::runtime::Handle) -> anyhow::Result<Shared> {
    // One client, so extraction, embeddings and answers share one concurrency limit.
    let llm = match settings.llm.base_url {
        Some(_) => Some(chat_client(settings)?),
        None => None,
    };
    let embedder = embedder(settings, llm.as_ref(), runtime)?;
    Ok(Shared { llm, embedder })
}

/// Open everything a command needs. Blocking; call from a blocking thread.
pub fn open(settings: &Settings, runtime: &tokio::runtime::Handle) -> anyhow::Result<Backend> {
    let shared = shared(settings, runtime)?;
    open_dir(settings, runtime, &shared, &settings.data_dir)
}

/// Open the data directory `dir` with already loaded models. Blocking.
pub fn open_dir(
    settings: &Settings,
    runtime: &tokio::runtime::Handle,
    shared: &Shared,
    dir: &std::path::Path,
) -> anyhow::Result<Backend> {
    let llm = shared.llm.clone();
    let embedder = shared.embedder.clone();
    let extractor: ExtractorFactory = match settings.extractor.kind {
        ExtractorKind::Offline => Box::new(|_| Arc::new(OfflineExtractor)),
        ExtractorKind::Llm => {
            let client = llm.clone().context("no LLM base URL configured")?;
            let model = settings.llm.extract_model.clone();
            let runtime = runtime.clone();
            Box::new(move |cache| {
                Arc::new(LlmExtractor::new(client.with_cache(cache), &model, runtime))
            })
        }
    };
    let models = Models {
        embedder,
        extractor,
        rerank: rerank(settings, runtime)?,
        generator: generator(settings, llm.as_ref())?,
    };
    let chunking = ChunkOptions {
        target_chars: settings.ingest.chunk_target_chars,
        max_chars: settings.ingest.chunk_max_chars,
        overlap_chars: settings.ingest.chunk_overlap_chars,
        min_chars: settings.ingest.chunk_min_chars,
    };
    Backend::open(dir, models, chunking, settings.server.max_upload_bytes)
        .with_context(|| format!("cannot open the data directory {}", dir.display()))
}
