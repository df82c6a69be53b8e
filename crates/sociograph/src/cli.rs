//! The command line. Every flag has a long name, an environment variable and help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use sociograph_llm::EmbedderKind;

use crate::config::{ExtractorKind, GeneratorKind, LogFormat, Role};

/// SocioGraph turns documents about people and power into a knowledge graph plus a hybrid
/// search index, and serves them over HTTP.
///
/// Settings come from compiled defaults, then `sociograph.toml` (or --config), then
/// SOCIOGRAPH__SECTION__KEY environment variables, then the flags below.
#[derive(Debug, Parser)]
#[command(
    name = "sociograph",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Settings file (TOML). Default: ./sociograph.toml when it exists.
    #[arg(long, env = "SOCIOGRAPH_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Log format on stderr.
    #[arg(long, env = "SOCIOGRAPH_LOG_FORMAT", global = true, value_enum)]
    pub log_format: Option<LogFormat>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API (search, documents, graph, health) on one port.
    Serve(ServeArgs),
    /// Ingest files or folders (PDF, TXT, MD, HTML) into the data directory.
    Ingest(IngestArgs),
    /// Search the data directory and print ranked hits.
    Search(SearchArgs),
    /// Answer a question from the data directory, citing the sources it uses.
    ///
    /// With a language model configured (SOCIOGRAPH_LLM_BASE_URL or OPENROUTER_API_KEY) the
    /// answer streams to the terminal as it is written; without one it quotes the passages
    /// that best match the question (an extractive answer).
    Ask(AskArgs),
    /// Back up the data directory (graph.db and the vector index) to S3 or a directory, or
    /// verify a backup.
    ///
    /// A consistent snapshot is taken while a server keeps serving and ingesting, compressed,
    /// and uploaded under backups/YYYY-MM-DD/<time>/; its manifest.json (checksums, counts,
    /// versions) is written last, then the backups/latest pointer. S3 credentials and region
    /// come from the standard AWS environment (or the task role); AWS_ENDPOINT_URL points at an
    /// S3-compatible server.
    Backup(BackupArgs),
    /// Restore a backup into the data directory, after checking every file.
    ///
    /// Downloads into a staging directory beside it, checks every size and SHA-256,
    /// PRAGMA integrity_check, the manifest's counts, opens the store and runs a smoke query;
    /// only then is the old directory moved aside (to DIR.before-restore-<time>) and the
    /// restored one put in its place. A bad backup is refused, naming the file and the reason,
    /// and nothing is changed. The directory must not be in use by a running server.
    Restore(RestoreArgs),
    /// The single writer of the scale-out topology: ingest and delete jobs from the shared
    /// store, published as snapshots for the API replicas.
    ///
    /// Takes the writer lease in --store-url (waiting while another worker holds it), restores
    /// the current snapshot into the data directory, then repeatedly takes a batch of queued
    /// jobs, applies them, publishes a new snapshot (files, manifest, then the
    /// snapshots/current pointer) and marks the jobs done. It stops writing the moment its
    /// lease is lost; on SIGTERM it finishes the document in hand, publishes and releases the
    /// lease so a waiting worker takes over at once.
    Worker(WorkerArgs),
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BackupArgs {
    #[command(subcommand)]
    pub action: Option<BackupAction>,

    /// Data directory to back up [default: ./data]
    #[arg(long, env = "SOCIOGRAPH_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Target: s3://bucket/prefix or file:///absolute/path
    #[arg(long, env = "SOCIOGRAPH_BACKUP_TO", value_name = "URL")]
    pub to: Option<String>,

    /// After the backup, delete dated backups older than this many days (never the latest).
    /// For directories; on S3 use `backup lifecycle`.
    #[arg(long, value_name = "DAYS")]
    pub retention_days: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum BackupAction {
    /// Restore a backup into a temporary directory and check it, touching no live data.
    Verify {
        /// s3://bucket/prefix or file:///path, optionally ending in /latest, /YYYY-MM-DD or
        /// /YYYY-MM-DD/<time> [default: latest]
        #[arg(value_name = "URL")]
        from: String,
    },
    /// Put the bucket lifecycle rule that expires backups/ under the prefix after --days
    /// (other rules are kept), then read it back and print it.
    Lifecycle {
        /// s3://bucket/prefix
        #[arg(value_name = "URL")]
        target: String,
        /// Days a backup is kept.
        #[arg(long, default_value_t = 30)]
        days: u32,
    },
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// Data directory to restore into [default: ./data]
    #[arg(long, env = "SOCIOGRAPH_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// s3://bucket/prefix or file:///path, optionally ending in /latest, /YYYY-MM-DD or
    /// /YYYY-MM-DD/<time> [default: latest]
    #[arg(long, value_name = "URL")]
    pub from: String,
}

/// Flags shared by every command that opens a data directory.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// Data directory holding graph.db, vector_store/ and uploads/ [default: ./data]
    #[arg(long, env = "SOCIOGRAPH_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Embedding model: local (all-MiniLM-L6-v2 in-process), openai (any OpenAI-compatible
    /// /v1/embeddings) or hashing (model-free). Must match the one the data was built with.
    #[arg(long, env = "SOCIOGRAPH_EMBEDDER", value_parser = parse_embedder, value_name = "KIND")]
    pub embedder: Option<EmbedderKind>,

    /// Directory with the local model's config.json, tokenizer.json, model.safetensors
    /// [default: ./models/all-MiniLM-L6-v2]
    #[arg(long, env = "SOCIOGRAPH_MODEL_DIR", value_name = "DIR")]
    pub model_dir: Option<PathBuf>,

    /// Entity/relation extractor used when ingesting.
    #[arg(long, env = "SOCIOGRAPH_EXTRACTOR", value_enum)]
    pub extractor: Option<ExtractorKind>,

    /// Base URL of an OpenAI-compatible API, e.g. http://127.0.0.1:8080/v1.
    #[arg(long, env = "SOCIOGRAPH_LLM_BASE_URL", value_name = "URL")]
    pub llm_base_url: Option<String>,

    /// API key for the LLM base URL (never printed).
    #[arg(
        long,
        env = "SOCIOGRAPH_LLM_API_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub llm_api_key: Option<String>,

    /// OpenRouter key; used (with OpenRouter's base URL) when no other LLM is configured.
    #[arg(
        long,
        env = "OPENROUTER_API_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub openrouter_api_key: Option<String>,
}

/// `24h`, `90m`, `3600s` or `1.5` (hours) → hours.
fn parse_hours(raw: &str) -> Result<f64, String> {
    let raw = raw.trim();
    let (number, per_hour) = match raw.chars().last() {
        Some('h') => (&raw[..raw.len() - 1], 1.0),
        Some('m') => (&raw[..raw.len() - 1], 60.0),
        Some('s') => (&raw[..raw.len() - 1], 3600.0),
        _ => (raw, 1.0),
    };
    match number.trim().parse::<f64>() {
        Ok(n) if n > 0.0 && n.is_finite() => Ok(n / per_hour),
        _ => Err(format!("{raw:?} is not a duration (e.g. 24h, 90m, 3600s)")),
    }
}

fn parse_embedder(raw: &str) -> Result<EmbedderKind, String> {
    match raw.to_ascii_lowercase().as_str() {
        "local" => Ok(EmbedderKind::Local),
        "openai" => Ok(EmbedderKind::Openai),
        "hashing" => Ok(EmbedderKind::Hashing),
        other => Err(format!(
            "unknown embedder {other:?}: use local, openai or hashing"
        )),
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub data: DataArgs,

    /// Address to listen on [default: 127.0.0.1:8000]
    #[arg(long, env = "SOCIOGRAPH_LISTEN", value_name = "HOST:PORT")]
    pub listen: Option<String>,

    /// Deployment color reported by /health (blue or green) [default: blue]
    #[arg(long, env = "SOCIOGRAPH_COLOR", value_parser = ["blue", "green"])]
    pub color: Option<String>,

    /// Backup target the server watches (and writes to with --backup-every): s3://bucket/prefix
    /// or file:///path. Its newest and newest verified backup times become metrics.
    #[arg(long, env = "SOCIOGRAPH_BACKUP_TO", value_name = "URL")]
    pub backup_to: Option<String>,

    /// Back up and verify whenever the target's newest backup is older than this (e.g. 24h,
    /// 90m); for single-box installs. Off by default.
    #[arg(long, env = "SOCIOGRAPH_BACKUP_EVERY", value_parser = parse_hours, value_name = "DURATION")]
    pub backup_every: Option<f64>,

    /// At startup, restore the latest backup from this URL into an empty data directory
    /// (stateless replicas). A data directory that already holds data is used as it is.
    #[arg(long, env = "SOCIOGRAPH_RESTORE_FROM", value_name = "URL")]
    pub restore_from: Option<String>,

    /// all: this process owns its data directory (a single box). api: a stateless replica
    /// serving the worker's snapshots from --store-url, queueing uploads and deletes there.
    #[arg(long, env = "SOCIOGRAPH_ROLE", value_enum)]
    pub role: Option<Role>,

    #[command(flatten)]
    pub scale: ScaleArgs,

    /// Comma-separated API keys required on mutating routes (never printed). None = open.
    #[arg(
        long,
        env = "SOCIOGRAPH_API_KEYS",
        hide_env_values = true,
        value_delimiter = ',',
        value_name = "KEYS"
    )]
    pub api_keys: Vec<String>,
}

/// The shared store of the scale-out topology.
#[derive(Debug, Args)]
pub struct ScaleArgs {
    /// Shared store for snapshots, jobs and the writer lease: s3://bucket/prefix (S3 settings
    /// from the AWS environment; AWS_ENDPOINT_URL for S3-compatible servers).
    #[arg(long, env = "SOCIOGRAPH_STORE_URL", value_name = "URL")]
    pub store_url: Option<String>,

    /// Seconds between looks for newer snapshots (replicas) or new jobs (worker) [default: 2]
    #[arg(long, env = "SOCIOGRAPH_POLL_SECS", value_name = "SECONDS")]
    pub poll_secs: Option<f64>,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub data: DataArgs,

    #[command(flatten)]
    pub scale: ScaleArgs,

    /// Writer lease time to live in seconds; a dead worker is replaced after at most this
    /// long [default: 30]
    #[arg(long, env = "SOCIOGRAPH_LEASE_SECS", value_name = "SECONDS")]
    pub lease_secs: Option<f64>,

    /// Data rollback: start from this backup (s3://…/prod[/latest|/YYYY-MM-DD|…]) instead of
    /// the current snapshot, and publish it as the next snapshot; run it once, then restart the
    /// worker without it.
    #[arg(long, value_name = "URL")]
    pub restore_from: Option<String>,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    #[command(flatten)]
    pub data: DataArgs,

    /// Files or folders (searched recursively; hidden files are skipped).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    #[command(flatten)]
    pub data: DataArgs,

    /// Retrieval mode: hybrid, naive (vector), keyword or local (graph).
    #[arg(long, env = "SOCIOGRAPH_SEARCH_MODE", default_value = "hybrid")]
    pub mode: String,

    /// Number of hits (1–100).
    #[arg(
        short = 'k',
        long = "top-k",
        env = "SOCIOGRAPH_TOP_K",
        default_value_t = 10
    )]
    pub k: i64,

    /// Print the result as JSON instead of text.
    #[arg(long, env = "SOCIOGRAPH_JSON")]
    pub json: bool,

    /// The query.
    #[arg(required = true, value_name = "QUERY", num_args = 1..)]
    pub query: Vec<String>,
}

#[derive(Debug, Args)]
pub struct AskArgs {
    #[command(flatten)]
    pub data: DataArgs,

    /// Retrieval mode for the sources: hybrid, naive (vector), keyword or local (graph).
    #[arg(long, env = "SOCIOGRAPH_SEARCH_MODE", default_value = "hybrid")]
    pub mode: String,

    /// Number of sources given to the answer (1–100).
    #[arg(
        short = 'k',
        long = "top-k",
        env = "SOCIOGRAPH_ANSWER_TOP_K",
        default_value_t = 6
    )]
    pub k: i64,

    /// Translate the answer into this language (e.g. ar, fr) with the translation model.
    #[arg(long, env = "SOCIOGRAPH_ANSWER_LANGUAGE", value_name = "TAG")]
    pub language: Option<String>,

    /// Answer with this model instead of the configured answer model.
    #[arg(long, env = "SOCIOGRAPH_ANSWER_MODEL", value_name = "MODEL")]
    pub model: Option<String>,

    /// Who writes the answer: auto (the model when one is configured), llm or extractive.
    #[arg(long, env = "SOCIOGRAPH_GENERATOR", value_enum)]
    pub generator: Option<GeneratorKind>,

    /// Print the whole answer as JSON (no streaming).
    #[arg(long, env = "SOCIOGRAPH_JSON")]
    pub json: bool,

    /// The question.
    #[arg(required = true, value_name = "QUESTION", num_args = 1..)]
    pub question: Vec<String>,
}
