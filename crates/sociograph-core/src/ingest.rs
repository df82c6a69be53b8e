//! The ingest pipeline: bytes → load → chunk → embed → extract → one store transaction.
//!
//! [`Pipeline::prepare`] does everything that can reject the input (name, size, type, parse),
//! so callers can refuse bad uploads synchronously; [`Pipeline::ingest`] does the expensive
//! work and writes the document atomically. Both are blocking (CPU and model bound): call them
//! from `spawn_blocking` inside async code.

use std::sync::Arc;
use std::time::Instant;

use sha2::{Digest, Sha256};
use sociograph_llm::Embedder;
use sociograph_store::{InsertOutcome, NewChunk, NewDocument, Store};
use sociograph_telemetry::record;

use crate::chunk::{ChunkOptions, chunk_pages};
use crate::extract::{Extractor, resolve};
use crate::load::{self, LoadedDocument};
use crate::types::DocumentId;
use crate::{Error, Result};

/// Pipeline stages, as reported to progress callbacks and traced as spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Load,
    Chunk,
    Embed,
    Extract,
    Index,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Load => "load",
            Stage::Chunk => "chunk",
            Stage::Embed => "embed",
            Stage::Extract => "extract",
            Stage::Index => "index",
        }
    }
}

/// A validated, parsed file waiting to be ingested.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub id: DocumentId,
    pub content_hash: String,
    pub filename: String,
    pub bytes: u64,
    pub loaded: LoadedDocument,
}

/// What one ingest did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IngestReport {
    pub document_id: String,
    pub title: String,
    pub chunks: usize,
    pub entities: usize,
    pub relations: usize,
    /// The same content was already stored; nothing was written.
    pub duplicate: bool,
    pub seconds: f64,
}

/// Shared ingest machinery: one per process.
pub struct Pipeline {
    pub store: Arc<Store>,
    pub embedder: Arc<dyn Embedder>,
    pub extractor: Arc<dyn Extractor>,
    pub chunking: ChunkOptions,
    pub max_bytes: u64,
}

const EMBED_BATCH: usize = 32;

/// Publish what the data directory holds (the corpus gauges). Best effort: a failed count is
/// logged, not an error of the caller.
pub fn publish_corpus(store: &Store) {
    match store.counts() {
        Ok(c) => record::corpus(
            c.documents,
            c.chunks,
            c.entities,
            c.relations,
            store.vector_count() as u64,
        ),
        Err(e) => tracing::warn!(error = %e, "cannot count the corpus for the metrics"),
    }
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn content_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Pipeline {
    /// Validate and parse; every rejection is an input error naming the file and the reason.
    pub fn prepare(&self, filename: &str, bytes: &[u8]) -> Result<Prepared> {
        let filename = load::validate_filename(filename)?;
        if bytes.len() as u64 > self.max_bytes {
            return Err(Error::TooLarge {
                name: filename,
                limit: self.max_bytes,
            });
        }
        let loaded = {
            let _span = tracing::info_span!("load", file = %filename).entered();
            let started = Instant::now();
            let loaded = load::load(&filename, bytes);
            record::ingest_stage("load", started.elapsed());
            loaded.inspect_err(|_| record::ingest_document("rejected"))?
        };
        let content_hash = content_hash(bytes);
        Ok(Prepared {
            id: DocumentId::from_hash(&content_hash),
            content_hash,
            filename,
            bytes: bytes.len() as u64,
            loaded,
        })
    }

    /// Chunk, embed, extract and store `prepared` in one transaction. `progress` hears each
    /// stage with the overall fraction done (0.0–1.0).
    pub fn ingest(
        &self,
        prepared: &Prepared,
        progress: &mut dyn FnMut(Stage, f64),
    ) -> Result<IngestReport> {
        let result = self.ingest_inner(prepared, progress);
        record::ingest_document(match &result {
            Ok(report) if report.duplicate => "duplicate",
            Ok(_) => "ingested",
            Err(_) => "failed",
        });
        if matches!(&result, Ok(report) if !report.duplicate) {
            publish_corpus(&self.store);
        }
        result
    }

    fn ingest_inner(
        &self,
        prepared: &Prepared,
        progress: &mut dyn FnMut(Stage, f64),
    ) -> Result<IngestReport> {
        let span = tracing::info_span!("ingest.document", document_id = %prepared.id, file = %prepared.filename);
        let _entered = span.enter();
        let started = Instant::now();
        if let Some(existing) = self.store.document_id_for_hash(&prepared.content_hash)? {
            return Ok(IngestReport {
                document_id: existing,
                title: prepared.loaded.title.clone(),
                chunks: 0,
                entities: 0,
                relations: 0,
                duplicate: true,
                seconds: started.elapsed().as_secs_f64(),
            });
        }

        progress(Stage::Chunk, 0.05);
        let chunks = {
            let _s = tracing::info_span!("chunk").entered();
            let t = Instant::now();
            let chunks = chunk_pages(&prepared.loaded.pages, &self.chunking);
            record::ingest_stage("chunk", t.elapsed());
            chunks
        };
        if chunks.is_empty() {
            return Err(Error::NoText {
                name: prepared.filename.clone(),
                hint: "",
            });
        }

        let texts: Vec<&str> = chunks.iter().map(|c| c.text.as_str()).collect();
        let mut embeddings = Vec::with_capacity(texts.len());
        {
            let _s = tracing::info_span!("embed", chunks = texts.len()).entered();
            let t = Instant::now();
            for (i, batch) in texts.chunks(EMBED_BATCH).enumerate() {
                embeddings.extend(self.embedder.embed(batch)?);
                let done = ((i + 1) * EMBED_BATCH).min(texts.len()) as f64 / texts.len() as f64;
                progress(Stage::Embed, 0.1 + 0.5 * done);
            }
            record::ingest_stage("embed", t.elapsed());
        }
        if embeddings.len() != chunks.len() {
            return Err(Error::Internal(format!(
                "embedder returned {} vectors for {} chunks",
                embeddings.len(),
                chunks.len()
            )));
        }

        progress(Stage::Extract, 0.6);
        let resolved = {
            let _s = tracing::info_span!("extract", extractor = self.extractor.name()).entered();
            let t = Instant::now();
            let extractions = self.extractor.extract(&texts)?;
            record::ingest_stage("extract", t.elapsed());
            if extractions.len() != chunks.len() {
                return Err(Error::Internal(format!(
                    "extractor returned {} results for {} chunks",
                    extractions.len(),
                    chunks.len()
                )));
            }
            resolve(&extractions)
        };

        progress(Stage::Index, 0.9);
        let entity_count = resolved.entities.len();
        let relation_count = resolved.relations.len();
        let chunk_count = chunks.len();
        let doc = NewDocument {
            id: prepared.id.to_string(),
            content_hash: prepared.content_hash.clone(),
            title: prepared.loaded.title.clone(),
            source: prepared.filename.clone(),
            media_type: prepared.loaded.media_type.as_str().to_owned(),
            pages: prepared.loaded.pages.len() as u32,
            bytes: prepared.bytes,
            chunks: chunks
                .into_iter()
                .zip(embeddings)
                .map(|(c, embedding)| NewChunk {
                    ordinal: c.ordinal,
                    page: c.page,
                    byte_start: c.byte_start,
                    byte_end: c.byte_end,
                    text: c.text,
                    embedding,
                })
                .collect(),
            entities: resolved.entities,
            mentions: resolved.mentions,
            relations: resolved.relations,
        };
        let outcome = {
            let _s = tracing::info_span!("index").entered();
            let t = Instant::now();
            let outcome = self.store.insert_document(&doc)?;
            record::ingest_stage("index", t.elapsed());
            outcome
        };
        progress(Stage::Index, 1.0);
        Ok(IngestReport {
            document_id: prepared.id.to_string(),
            title: prepared.loaded.title.clone(),
            chunks: chunk_count,
            entities: entity_count,
            relations: relation_count,
            duplicate: outcome == InsertOutcome::AlreadyPresent,
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}
