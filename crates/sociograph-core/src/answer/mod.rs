//! Answers with cited evidence: retrieve → numbered sources (plus the graph path between two
//! entities the question names) → a language model, plain or streamed, or, with no model
//! configured, an extractive answer → checked citations → history.
//!
//! Citations are checked on the way out ([`citations`]): a number that matches no source is
//! removed, never invented. Failures of the model are errors (the HTTP layer turns them into
//! 502/504/429), never an "answer" that is really an error message.

pub mod citations;
pub mod extractive;
mod prompt;

use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};
use serde::Serialize;
use sociograph_llm::{ChatClient, ChatMessage, ChatOptions, PriceTable, StreamChunk, Usage};
use sociograph_store::{DocumentRef, NewHistory, PathStep, Store};
use tokio::sync::mpsc;
use tracing::Instrument;

use crate::graph::GraphCache;
use crate::retrieve::{Retriever, Timings};
use crate::types::{Language, Mode, Query, TopK};
use crate::{Error, Result};

pub use citations::CitationFilter;

/// Longest path between two named entities shown to the model.
const MAX_PATH_HOPS: usize = 4;

/// One numbered source of an answer.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct Source {
    /// The number the answer cites, `[n]`.
    pub n: usize,
    pub chunk_id: i64,
    pub document: DocumentRef,
    pub page: Option<u32>,
    pub text: String,
}

/// How the answer was made.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AnswerMode {
    /// Written by the language model from the sources.
    Llm,
    /// Quoted from the sources; no language model is configured.
    Extractive,
}

impl AnswerMode {
    pub fn as_str(self) -> &'static str {
        match self {
            AnswerMode::Llm => "llm",
            AnswerMode::Extractive => "extractive",
        }
    }
}

/// Tokens and cost of one model call.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CallUsage {
    /// `answer` or `translate`.
    pub operation: &'static str,
    pub model: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// USD from the price table; `null` when the model has no price.
    pub cost_usd: Option<f64>,
    /// The provider reported no usage; tokens are estimated at four characters each.
    pub estimated: bool,
}

/// Tokens and cost of an answer, in total and per call.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct AnswerUsage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Sum of the calls' costs; `null` if any call's model has no price.
    pub cost_usd: Option<f64>,
    pub calls: Vec<CallUsage>,
}

impl AnswerUsage {
    fn add(&mut self, call: CallUsage) {
        self.prompt_tokens += call.prompt_tokens;
        self.completion_tokens += call.completion_tokens;
        self.cost_usd = if self.calls.is_empty() {
            call.cost_usd
        } else {
            self.cost_usd.zip(call.cost_usd).map(|(a, b)| a + b)
        };
        self.calls.push(call);
    }
}

/// Milliseconds per step.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct AnswerTimings {
    pub retrieval: Timings,
    pub generation_ms: f64,
    pub translation_ms: f64,
    pub total_ms: f64,
}

/// A finished answer.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// The history id of this answer; stable, never reused.
    pub query_id: i64,
    pub query: String,
    pub answer: String,
    pub mode: AnswerMode,
    pub retrieval_mode: Mode,
    /// The model that wrote the answer (`null` for extractive answers).
    pub model: Option<String>,
    /// The language the answer was translated into, if one was asked for.
    pub language: Option<String>,
    /// The sources the answer cites, by number.
    pub citations: Vec<Source>,
    /// Every source the answer was given.
    pub sources: Vec<Source>,
    /// How the first two entities the question names are connected, if they are.
    pub graph_path: Option<Vec<PathStep>>,
    /// Something the reader should know about how the answer was made.
    pub notice: Option<String>,
    pub timings: AnswerTimings,
    /// Tokens and cost (`null` for extractive answers).
    pub usage: Option<AnswerUsage>,
}

/// A validated question.
#[derive(Debug, Clone)]
pub struct AskRequest {
    pub query: Query,
    pub mode: Mode,
    /// Number of sources retrieved.
    pub top_k: TopK,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    /// Overrides the configured answer model.
    pub model: Option<String>,
    /// Translate the answer into this language.
    pub language: Option<Language>,
}

impl AskRequest {
    /// Sources per answer unless the request says otherwise.
    pub const DEFAULT_TOP_K: usize = 6;

    pub fn new(query: Query) -> Self {
        AskRequest {
            query,
            mode: Mode::Hybrid,
            top_k: TopK::parse(Self::DEFAULT_TOP_K as i64).unwrap_or(TopK::DEFAULT),
            temperature: None,
            max_tokens: None,
            model: None,
            language: None,
        }
    }

    pub fn parse_temperature(t: f64) -> Result<f32> {
        if !(0.0..=2.0).contains(&t) {
            return Err(Error::InvalidInput(format!(
                "temperature must be between 0 and 2, got {t}"
            )));
        }
        Ok(t as f32)
    }

    pub fn parse_max_tokens(n: i64) -> Result<u32> {
        if !(1..=32_768).contains(&n) {
            return Err(Error::InvalidInput(format!(
                "max_tokens must be between 1 and 32768, got {n}"
            )));
        }
        Ok(n as u32)
    }

    pub fn parse_model(raw: &str) -> Result<String> {
        let m = raw.trim();
        if m.is_empty() || m.len() > 200 || m.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(Error::InvalidInput(format!(
                "model {raw:?} is not a model name (1–200 characters, no spaces)"
            )));
        }
        Ok(m.to_owned())
    }
}

/// The language model side of answering.
#[derive(Clone)]
pub struct Generator {
    pub client: ChatClient,
    pub answer_model: String,
    pub translate_model: String,
    pub prices: PriceTable,
    pub temperature: f32,
    pub max_tokens: u32,
    /// How long a question waits for a free model slot before it is refused (429).
    pub queue_wait: Duration,
}

/// What a streamed answer sends, in order: `Sources`, any number of `Delta`s, then `Done` or
/// `Error`.
#[derive(Debug)]
pub enum AskEvent {
    Sources {
        sources: Vec<Source>,
        graph_path: Option<Vec<PathStep>>,
        mode: AnswerMode,
        retrieval_mode: Mode,
    },
    Delta(String),
    Done(Box<Answer>),
    Error(Error),
}

pub type AskEvents = Pin<Box<dyn Stream<Item = AskEvent> + Send>>;

/// Retrieval and sources for one question, before any text is generated.
struct Prepared {
    request: AskRequest,
    sources: Vec<Source>,
    /// Names (and aliases) of the entities the question names.
    entity_names: Vec<String>,
    path: Option<Vec<PathStep>>,
    retrieval: Timings,
    started: Instant,
}

/// What produced the answer text, for [`Answerer::finish`].
struct Generated {
    text: String,
    /// Citations already known (extractive answers); `None`: check the text for them.
    cited: Option<Vec<usize>>,
    mode: AnswerMode,
    model: Option<String>,
    usage: Option<AnswerUsage>,
    generation_ms: f64,
    translation_ms: f64,
    notice: Option<String>,
}

impl Generated {
    /// A model's answer, whose citations are still to be checked.
    fn llm(
        text: String,
        model: String,
        usage: AnswerUsage,
        generation_ms: f64,
        translation_ms: f64,
    ) -> Self {
        Generated {
            text,
            cited: None,
            mode: AnswerMode::Llm,
            model: Some(model),
            usage: Some(usage),
            generation_ms,
            translation_ms,
            notice: None,
        }
    }
}

/// Answers questions; one per process.
pub struct Answerer {
    pub retriever: Arc<Retriever>,
    pub store: Arc<Store>,
    /// The relation graph, for "how is A connected to B?".
    pub graph: Arc<GraphCache>,
    /// `None`: answers are extractive.
    pub generator: Option<Generator>,
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// Rough token count when a provider reports none.
fn estimate_tokens(chars: usize) -> u64 {
    chars.div_ceil(4) as u64
}

const EXTRACTIVE_NOTICE: &str = "No language model is configured, so this answer quotes the \
retrieved passages that best match the question.";

const NO_TRANSLATION_NOTICE: &str = "Translation needs a language model, and none is \
configured; the answer is in the language of the sources.";

impl Answerer {
    pub fn mode(&self) -> AnswerMode {
        if self.generator.is_some() {
            AnswerMode::Llm
        } else {
            AnswerMode::Extractive
        }
    }

    /// Retrieve sources and the graph path. Blocking.
    fn prepare(&self, request: AskRequest) -> Result<Prepared> {
        let started = Instant::now();
        let result = self
            .retriever
            .search(&request.query, request.top_k, request.mode)?;
        let mut sources: Vec<Source> = result
            .hits
            .into_iter()
            .enumerate()
            .map(|(i, hit)| Source {
                n: i + 1,
                chunk_id: hit.chunk_id,
                document: hit.document,
                page: hit.page,
                text: hit.text,
            })
            .collect();
        let mut entity_names = Vec::new();
        for entity in &result.matched_entities {
            entity_names.push(entity.name.clone());
            if let Some(record) = self.store.entity(entity.id)? {
                entity_names.extend(record.aliases);
            }
        }
        let path = match result.matched_entities.as_slice() {
            [a, b, ..] => self
                .graph
                .get()?
                .paths(a.id, b.id, MAX_PATH_HOPS, 1)
                .into_iter()
                .next(),
            _ => None,
        }
        .filter(|p| !p.is_empty());
        // The path's evidence becomes citable too.
        if let Some(path) = &path {
            let missing: Vec<i64> = path
                .iter()
                .filter_map(|s| s.evidence_chunk)
                .filter(|c| !sources.iter().any(|s| s.chunk_id == *c))
                .collect();
            for chunk in self.store.chunks(&missing)? {
                if sources.iter().any(|s| s.chunk_id == chunk.id) {
                    continue;
                }
                sources.push(Source {
                    n: sources.len() + 1,
                    chunk_id: chunk.id,
                    document: chunk.document,
                    page: chunk.page,
                    text: chunk.text,
                });
            }
        }
        Ok(Prepared {
            request,
            sources,
            entity_names,
            path,
            retrieval: result.timings,
            started,
        })
    }

    async fn prepare_async(self: &Arc<Self>, request: AskRequest) -> Result<Prepared> {
        let this = self.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(|| this.prepare(request)))
            .await
            .map_err(|e| Error::Internal(format!("retrieval task failed: {e}")))?
    }

    fn call_usage(
        generator: &Generator,
        operation: &'static str,
        model: &str,
        reported: Option<Usage>,
        prompt: &[ChatMessage],
        completion: &str,
    ) -> CallUsage {
        let (usage, estimated) = match reported {
            Some(u) => (u, false),
            None => (
                Usage {
                    prompt_tokens: estimate_tokens(prompt.iter().map(|m| m.content.len()).sum()),
                    completion_tokens: estimate_tokens(completion.len()),
                },
                true,
            ),
        };
        CallUsage {
            operation,
            model: model.to_owned(),
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            cost_usd: generator.prices.cost(model, usage),
            estimated,
        }
    }

    fn options(
        generator: &Generator,
        request: &AskRequest,
        operation: &'static str,
    ) -> ChatOptions {
        ChatOptions {
            temperature: Some(request.temperature.unwrap_or(generator.temperature)),
            max_tokens: Some(request.max_tokens.unwrap_or(generator.max_tokens)),
            json: false,
            cache: false,
            queue_wait: Some(generator.queue_wait),
            retry_timeouts: false,
            operation,
        }
    }

    /// Whether `text` still needs translating into `language`.
    fn needs_translation(text: &str, language: &Language) -> bool {
        let arabic = prompt::arabic_share(text);
        match language.primary().as_str() {
            "ar" => arabic < 0.5,
            // Only Arabic is recognised by script; any other target is translated.
            _ => true,
        }
    }

    /// The whole answer in one reply.
    pub async fn ask(self: &Arc<Self>, request: AskRequest) -> Result<Answer> {
        let prepared = self.prepare_async(request).await?;
        let span = tracing::info_span!("answer", mode = self.mode().as_str());
        match &self.generator {
            None => self.finish_extractive(prepared).instrument(span).await,
            Some(generator) => self.generate(prepared, generator).instrument(span).await,
        }
    }

    /// Write the answer (and its translation) with the model.
    async fn generate(
        self: &Arc<Self>,
        prepared: Prepared,
        generator: &Generator,
    ) -> Result<Answer> {
        let request = &prepared.request;
        let model = request
            .model
            .clone()
            .unwrap_or_else(|| generator.answer_model.clone());
        let messages = prompt::answer_messages(
            request.query.as_str(),
            &prepared.sources,
            prepared.path.as_deref(),
        );
        let t = Instant::now();
        let reply = generator
            .client
            .chat(
                &model,
                &messages,
                &Self::options(generator, request, "answer"),
            )
            .await?;
        let generation_ms = ms(t);
        let mut usage = AnswerUsage::default();
        usage.add(Self::call_usage(
            generator,
            "answer",
            &model,
            reply.usage,
            &messages,
            &reply.content,
        ));
        let (mut text, _) = citations::check(&reply.content, prepared.sources.len());
        let mut translation_ms = 0.0;
        if let Some(language) = &request.language
            && Self::needs_translation(&text, language)
        {
            let t = Instant::now();
            let messages = prompt::translation_messages(&text, language);
            let reply = generator
                .client
                .chat(
                    &generator.translate_model,
                    &messages,
                    &Self::options(generator, request, "translate"),
                )
                .await?;
            usage.add(Self::call_usage(
                generator,
                "translate",
                &generator.translate_model,
                reply.usage,
                &messages,
                &reply.content,
            ));
            text = citations::check(&reply.content, prepared.sources.len()).0;
            translation_ms = ms(t);
        }
        self.finish(
            prepared,
            Generated::llm(text, model, usage, generation_ms, translation_ms),
        )
        .await
    }

    async fn finish_extractive(self: &Arc<Self>, prepared: Prepared) -> Result<Answer> {
        let t = Instant::now();
        let passages: Vec<extractive::Passage<'_>> = prepared
            .sources
            .iter()
            .map(|s| extractive::Passage {
                n: s.n,
                text: &s.text,
            })
            .collect();
        let source_of = |chunk: i64| {
            prepared
                .sources
                .iter()
                .find(|s| s.chunk_id == chunk)
                .map(|s| s.n)
        };
        // "How is A connected to B?": the graph path, hop by hop, is the answer.
        let path_text = prepared
            .path
            .as_deref()
            .and_then(|p| extractive::path_answer(p, source_of));
        let extracted = if let Some(answer) = path_text {
            answer
        } else if passages.is_empty() {
            extractive::Extractive {
                text: "The corpus holds nothing that matches this question.".to_owned(),
                matched: false,
                cited: Vec::new(),
            }
        } else {
            extractive::answer(
                prepared.request.query.as_str(),
                &passages,
                &prepared.entity_names,
            )
        };
        let (text, cited) = (extracted.text, extracted.cited);
        let generation_ms = ms(t);
        let notice = match &prepared.request.language {
            Some(language) if Self::needs_translation(&text, language) => {
                format!("{EXTRACTIVE_NOTICE} {NO_TRANSLATION_NOTICE}")
            }
            _ => EXTRACTIVE_NOTICE.to_owned(),
        };
        self.finish(
            prepared,
            Generated {
                text,
                cited: Some(cited),
                mode: AnswerMode::Extractive,
                model: None,
                usage: None,
                generation_ms,
                translation_ms: 0.0,
                notice: Some(notice),
            },
        )
        .await
    }

    /// Check citations, record the answer in the history, and assemble it.
    async fn finish(self: &Arc<Self>, prepared: Prepared, generated: Generated) -> Result<Answer> {
        let Generated {
            text,
            cited,
            mode,
            model,
            usage,
            generation_ms,
            translation_ms,
            notice,
        } = generated;
        // A model's answer is checked; an extractive answer is verbatim quotes whose own
        // footnote marks must not be mistaken for citations.
        let (text, cited) = match cited {
            Some(cited) => (text, cited),
            None => citations::check(&text, prepared.sources.len()),
        };
        if text.trim().is_empty() {
            return Err(Error::Model(sociograph_llm::Error::BadReply(
                "the model returned an empty answer".into(),
            )));
        }
        let citations: Vec<Source> = cited
            .iter()
            .filter_map(|n| prepared.sources.get(n - 1).cloned())
            .collect();
        let language = prepared
            .request
            .language
            .as_ref()
            .filter(|_| mode == AnswerMode::Llm)
            .map(|l| l.as_str().to_owned());
        let mut answer = Answer {
            query_id: 0,
            query: prepared.request.query.as_str().to_owned(),
            answer: text,
            mode,
            retrieval_mode: prepared.request.mode,
            model,
            language,
            citations,
            sources: prepared.sources,
            graph_path: prepared.path,
            notice,
            timings: AnswerTimings {
                retrieval: prepared.retrieval,
                generation_ms,
                translation_ms,
                total_ms: 0.0,
            },
            usage,
        };
        let entry = NewHistory {
            query: answer.query.clone(),
            answer: answer.answer.clone(),
            mode: mode.as_str().to_owned(),
            retrieval_mode: answer.retrieval_mode.as_str().to_owned(),
            model: answer.model.clone(),
            language: answer.language.clone(),
            citations: serde_json::to_value(&answer.citations)
                .map_err(|e| Error::Internal(e.to_string()))?,
            timings: serde_json::Value::Null,
            usage: answer
                .usage
                .as_ref()
                .map(serde_json::to_value)
                .transpose()
                .map_err(|e| Error::Internal(e.to_string()))?,
        };
        answer.timings.total_ms = ms(prepared.started);
        let entry = NewHistory {
            timings: serde_json::to_value(answer.timings)
                .map_err(|e| Error::Internal(e.to_string()))?,
            ..entry
        };
        let store = self.store.clone();
        answer.query_id = tokio::task::spawn_blocking(move || store.add_history(&entry))
            .await
            .map_err(|e| Error::Internal(format!("history task failed: {e}")))??;
        Ok(answer)
    }

    /// The answer as a stream of events. Errors before any text is generated (retrieval, the
    /// model refusing the request, no free model slot) are returned here, so they can become
    /// HTTP statuses; later failures arrive as an [`AskEvent::Error`].
    pub async fn ask_stream(self: &Arc<Self>, request: AskRequest) -> Result<AskEvents> {
        let prepared = self.prepare_async(request).await?;
        let span = tracing::info_span!("answer", mode = self.mode().as_str());
        self.stream_answer(prepared).instrument(span).await
    }

    async fn stream_answer(self: &Arc<Self>, prepared: Prepared) -> Result<AskEvents> {
        let sources_event = AskEvent::Sources {
            sources: prepared.sources.clone(),
            graph_path: prepared.path.clone(),
            mode: self.mode(),
            retrieval_mode: prepared.request.mode,
        };
        let Some(generator) = self.generator.clone() else {
            let answer = self.finish_extractive(prepared).await?;
            let events = vec![
                sources_event,
                AskEvent::Delta(answer.answer.clone()),
                AskEvent::Done(Box::new(answer)),
            ];
            return Ok(Box::pin(futures::stream::iter(events)));
        };
        let request = prepared.request.clone();
        let model = request
            .model
            .clone()
            .unwrap_or_else(|| generator.answer_model.clone());
        let answer_messages = prompt::answer_messages(
            request.query.as_str(),
            &prepared.sources,
            prepared.path.as_deref(),
        );
        let mut usage = AnswerUsage::default();
        // With a translation, the answer is written in full first and the translation streams.
        let t = Instant::now();
        let (stream_model, stream_operation, stream_messages, generation_ms) =
            match &request.language {
                None => (model.clone(), "answer", answer_messages, None),
                Some(language) => {
                    let reply = generator
                        .client
                        .chat(
                            &model,
                            &answer_messages,
                            &Self::options(&generator, &request, "answer"),
                        )
                        .await?;
                    usage.add(Self::call_usage(
                        &generator,
                        "answer",
                        &model,
                        reply.usage,
                        &answer_messages,
                        &reply.content,
                    ));
                    let (text, _) = citations::check(&reply.content, prepared.sources.len());
                    if Self::needs_translation(&text, language) {
                        let messages = prompt::translation_messages(&text, language);
                        (
                            generator.translate_model.clone(),
                            "translate",
                            messages,
                            Some(ms(t)),
                        )
                    } else {
                        // Already in the language asked for: send it as it is.
                        let answer = self
                            .finish(prepared, Generated::llm(text, model, usage, ms(t), 0.0))
                            .await?;
                        let events = vec![
                            sources_event,
                            AskEvent::Delta(answer.answer.clone()),
                            AskEvent::Done(Box::new(answer)),
                        ];
                        return Ok(Box::pin(futures::stream::iter(events)));
                    }
                }
            };
        let upstream = generator
            .client
            .chat_stream(
                &stream_model,
                &stream_messages,
                &Self::options(&generator, &request, stream_operation),
            )
            .await?;

        let (tx, rx) = mpsc::channel::<AskEvent>(64);
        let this = self.clone();
        let task_span = tracing::Span::current();
        tokio::spawn(
            async move {
                if tx.send(sources_event).await.is_err() {
                    return;
                }
                let started = Instant::now();
                let mut upstream = upstream;
                let mut filter = CitationFilter::new(prepared.sources.len());
                let mut raw = String::new();
                let mut reported: Option<Usage> = None;
                loop {
                    // A client that goes away frees the model slot at once, even while the
                    // provider is silent.
                    let chunk = tokio::select! {
                        _ = tx.closed() => return,
                        chunk = upstream.next() => chunk,
                    };
                    let Some(chunk) = chunk else { break };
                    match chunk {
                        Ok(StreamChunk::Delta(text)) => {
                            raw.push_str(&text);
                            let shown = filter.push(&text);
                            if !shown.is_empty() && tx.send(AskEvent::Delta(shown)).await.is_err() {
                                return; // the client went away; dropping the stream frees the slot
                            }
                        }
                        Ok(StreamChunk::Usage(u)) => reported = Some(u),
                        Err(e) => {
                            let _ = tx.send(AskEvent::Error(e.into())).await;
                            return;
                        }
                    }
                }
                drop(upstream);
                let tail = filter.finish();
                if !tail.is_empty() && tx.send(AskEvent::Delta(tail)).await.is_err() {
                    return;
                }
                usage.add(Self::call_usage(
                    &generator,
                    stream_operation,
                    &stream_model,
                    reported,
                    &stream_messages,
                    &raw,
                ));
                let (generation_ms, translation_ms) = match generation_ms {
                    Some(g) => (g, ms(started)),
                    None => (ms(started), 0.0),
                };
                let event = match this
                    .finish(
                        prepared,
                        Generated::llm(raw, model, usage, generation_ms, translation_ms),
                    )
                    .await
                {
                    Ok(answer) => AskEvent::Done(Box::new(answer)),
                    Err(e) => AskEvent::Error(e),
                };
                let _ = tx.send(event).await;
            }
            .instrument(task_span),
        );
        Ok(Box::pin(futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|event| (event, rx))
        })))
    }
}
