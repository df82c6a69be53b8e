//! Settings: compiled-in defaults → optional `sociograph.toml` → `SOCIOGRAPH__…` environment
//! variables → command-line flags (which also read their own `SOCIOGRAPH_*` variables).
//!
//! Environment keys map onto the file's structure with `__` between levels:
//! `SOCIOGRAPH__SERVER__MAX_IN_FLIGHT=256` sets `[server] max_in_flight = 256`. Values are
//! read as TOML when they parse as TOML (numbers, booleans, arrays) and as strings otherwise.
//! Unknown keys and bad values are errors that name the key. Secrets (API keys) are wrapped so
//! they never print.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use secrecy::SecretString;
use serde::Deserialize;
use sociograph_llm::{EmbedderKind, Price, PriceTable};

/// Where OpenRouter lives; used when only `OPENROUTER_API_KEY` is given.
pub const OPENROUTER_BASE_URL: &str = "https://openrouter.ai/api/v1";

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ExtractorKind {
    /// Model-free rules: names by capitalisation and cue words, relations by verb phrases.
    Offline,
    /// JSON extraction through the configured OpenAI-compatible chat model.
    Llm,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, clap::ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub server: Server,
    pub embedder: Embedder,
    pub extractor: Extractor,
    pub llm: Llm,
    pub answer: AnswerSettings,
    pub rerank: RerankSettings,
    pub ingest: Ingest,
    pub log: Log,
    pub backup: Backup,
    pub scale: Scale,
}

/// Which part of the scale-out topology this process plays.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, clap::ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// One process owns its data directory: reads, writes and ingest (a single box).
    #[default]
    All,
    /// A stateless API replica: serves the worker's published snapshots and queues uploads
    /// and deletes in the shared store for the worker.
    Api,
}

/// The scale-out topology: API replicas and one worker sharing an object store.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Scale {
    pub role: Role,
    /// `s3://bucket/prefix` (or any S3-compatible server through `AWS_ENDPOINT_URL`): where
    /// snapshots, the job queue, uploaded originals and the writer lease live.
    pub store_url: Option<String>,
    /// How often replicas look for a newer snapshot and the worker for new jobs.
    pub poll_secs: f64,
    /// The writer lease's time to live; renewed every third of it. A dead worker's lease is
    /// taken over after at most this long.
    pub lease_secs: f64,
    /// Jobs per published snapshot, at most.
    pub batch: usize,
    /// Snapshot versions kept in the store (older ones are deleted after each publish).
    pub keep_snapshots: usize,
}

impl Default for Scale {
    fn default() -> Self {
        Scale {
            role: Role::All,
            store_url: None,
            poll_secs: 2.0,
            lease_secs: 30.0,
            batch: 16,
            keep_snapshots: 5,
        }
    }
}

/// Backups made and watched by `serve` (the `backup` command takes its target as a flag).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Backup {
    /// `s3://bucket/prefix` or `file:///path`. Set: the server reports the target's newest and
    /// newest verified backup times as metrics, and makes backups if `every_hours` is set.
    pub to: Option<String>,
    /// Back up (and verify) when the target's newest backup is older than this; 0 = never
    /// (a scheduled task or an operator makes them).
    pub every_hours: f64,
    /// With `every_hours`: delete dated backups older than this many days after each backup
    /// (for directories; S3 uses the lifecycle rule); 0 = keep all.
    pub retention_days: u32,
    /// How often the server reads the target's backup times (and decides whether one is due).
    pub check_secs: f64,
    /// At startup, restore the latest backup from here into an empty data directory.
    pub restore_from: Option<String>,
}

impl Default for Backup {
    fn default() -> Self {
        Backup {
            to: None,
            every_hours: 0.0,
            retention_days: 0,
            check_secs: 300.0,
            restore_from: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Server {
    pub listen: String,
    pub color: String,
    pub max_upload_bytes: u64,
    pub max_in_flight: usize,
    pub request_timeout_secs: u64,
    pub drain_secs: f64,
    pub drain_timeout_secs: f64,
    pub api_keys: Vec<SecretString>,
    pub trusted_proxies: Vec<IpAddr>,
    pub rate_limit: RateLimit,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimit {
    pub enabled: bool,
    pub per_second: f64,
    pub burst: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Embedder {
    pub kind: EmbedderKind,
    /// Directory with `config.json`, `tokenizer.json`, `model.safetensors` (kind = local).
    pub model_dir: PathBuf,
    /// Model name for kind = openai.
    pub model: String,
    /// Vector size for kind = hashing.
    pub dimensions: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Extractor {
    pub kind: ExtractorKind,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Llm {
    pub base_url: Option<String>,
    pub api_key: Option<SecretString>,
    pub extract_model: String,
    pub answer_model: String,
    pub translate_model: String,
    pub timeout_secs: u64,
    pub max_retries: u32,
    pub max_concurrency: usize,
    /// How long a question waits for a free model slot before it gets 429.
    pub queue_wait_secs: f64,
    /// USD per million input/output tokens, per model name as configured.
    pub prices: PriceTable,
}

/// Who writes answers.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, clap::ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum GeneratorKind {
    /// The language model when `llm.base_url` is set, extractive otherwise.
    #[default]
    Auto,
    /// Always the language model (startup fails without one).
    Llm,
    /// Always quote the sources; never call a model.
    Extractive,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnswerSettings {
    pub generator: GeneratorKind,
    pub temperature: f32,
    pub max_tokens: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RerankSettings {
    pub enabled: bool,
    /// Root of a TEI or Cohere-compatible server; `/rerank` is appended.
    pub base_url: String,
    pub api_key: Option<SecretString>,
    /// Sent as `model` (Cohere needs it; TEI ignores it).
    pub model: Option<String>,
    /// Fused candidates scored per query.
    pub candidates: usize,
    pub timeout_secs: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Ingest {
    pub chunk_target_chars: usize,
    pub chunk_max_chars: usize,
    pub chunk_overlap_chars: usize,
    pub chunk_min_chars: usize,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Log {
    pub format: LogFormat,
    /// OTLP/HTTP collector root (e.g. `http://127.0.0.1:4318`); traces go to `…/v1/traces`.
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` win. Unset: no export.
    pub otlp_endpoint: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            data_dir: PathBuf::from("./data"),
            server: Server::default(),
            embedder: Embedder::default(),
            extractor: Extractor::default(),
            llm: Llm::default(),
            answer: AnswerSettings::default(),
            rerank: RerankSettings::default(),
            ingest: Ingest::default(),
            log: Log::default(),
            backup: Backup::default(),
            scale: Scale::default(),
        }
    }
}

impl Default for Server {
    fn default() -> Self {
        Server {
            listen: "127.0.0.1:8000".into(),
            color: "blue".into(),
            max_upload_bytes: 50 * 1024 * 1024,
            max_in_flight: 1024,
            request_timeout_secs: 60,
            drain_secs: 3.0,
            drain_timeout_secs: 25.0,
            api_keys: Vec::new(),
            trusted_proxies: Vec::new(),
            rate_limit: RateLimit::default(),
        }
    }
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            enabled: false,
            per_second: 20.0,
            burst: 40,
        }
    }
}

impl Default for Embedder {
    fn default() -> Self {
        Embedder {
            kind: EmbedderKind::Local,
            model_dir: PathBuf::from("./models/all-MiniLM-L6-v2"),
            model: "text-embedding-3-small".into(),
            dimensions: 384,
        }
    }
}

impl Default for Extractor {
    fn default() -> Self {
        Extractor {
            kind: ExtractorKind::Offline,
        }
    }
}

impl Default for Llm {
    fn default() -> Self {
        Llm {
            base_url: None,
            api_key: None,
            extract_model: "openai/gpt-4o-mini".into(),
            answer_model: "openai/gpt-4o-mini".into(),
            translate_model: "openai/gpt-4o-mini".into(),
            timeout_secs: 60,
            max_retries: 3,
            max_concurrency: 8,
            queue_wait_secs: 5.0,
            prices: default_prices(),
        }
    }
}

/// Prices of the default model (OpenAI's list price for gpt-4o-mini, also charged through
/// OpenRouter). Providers change prices: set `[llm.prices]` for the models you use.
fn default_prices() -> PriceTable {
    let mini = Price {
        input_per_million: 0.15,
        output_per_million: 0.60,
    };
    PriceTable(
        [("openai/gpt-4o-mini", mini), ("gpt-4o-mini", mini)]
            .into_iter()
            .map(|(m, p)| (m.to_owned(), p))
            .collect(),
    )
}

impl Default for AnswerSettings {
    fn default() -> Self {
        AnswerSettings {
            generator: GeneratorKind::Auto,
            temperature: 0.2,
            max_tokens: 800,
        }
    }
}

impl Default for RerankSettings {
    fn default() -> Self {
        RerankSettings {
            enabled: false,
            base_url: "http://127.0.0.1:8081".into(),
            api_key: None,
            model: None,
            candidates: 30,
            timeout_secs: 10,
        }
    }
}

impl Default for Ingest {
    fn default() -> Self {
        let d = sociograph_core::chunk::ChunkOptions::default();
        Ingest {
            chunk_target_chars: d.target_chars,
            chunk_max_chars: d.max_chars,
            chunk_overlap_chars: d.overlap_chars,
            chunk_min_chars: d.min_chars,
        }
    }
}

/// Parse an environment value: TOML if it is a TOML value, else a plain string.
fn env_value(raw: &str) -> toml::Value {
    let doc = format!("v = {raw}");
    match toml::from_str::<toml::Table>(&doc) {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(raw.to_owned())),
        Err(_) => toml::Value::String(raw.to_owned()),
    }
}

/// Overlay `SOCIOGRAPH__A__B=value` variables onto `table`.
fn overlay_env(
    table: &mut toml::Table,
    vars: impl Iterator<Item = (String, String)>,
) -> anyhow::Result<()> {
    for (name, value) in vars {
        let Some(path) = name.strip_prefix("SOCIOGRAPH__") else {
            continue;
        };
        let keys: Vec<String> = path.split("__").map(str::to_lowercase).collect();
        if keys.iter().any(String::is_empty) {
            bail!("environment variable {name} has an empty key segment");
        }
        let mut node = &mut *table;
        for key in &keys[..keys.len() - 1] {
            let entry = node
                .entry(key.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            node = entry.as_table_mut().with_context(|| {
                format!("environment variable {name}: `{key}` is not a section")
            })?;
        }
        let last = keys[keys.len() - 1].clone();
        node.insert(last, env_value(&value));
    }
    Ok(())
}

impl Settings {
    /// Defaults, then `file` (if given, it must exist; else `./sociograph.toml` if present),
    /// then `SOCIOGRAPH__…` variables.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Settings> {
        Self::load_from(file, std::env::vars())
    }

    pub fn load_from(
        file: Option<&Path>,
        env: impl Iterator<Item = (String, String)>,
    ) -> anyhow::Result<Settings> {
        let mut table = toml::Table::new();
        let path = match file {
            Some(p) => Some(p.to_path_buf()),
            None => Some(PathBuf::from("sociograph.toml")).filter(|p| p.is_file()),
        };
        if let Some(path) = &path {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read config file {}", path.display()))?;
            table = toml::from_str(&text)
                .with_context(|| format!("config file {} is not valid TOML", path.display()))?;
        }
        overlay_env(&mut table, env)?;
        let settings: Settings = serde_path_to_error::deserialize(toml::Value::Table(table))
            .map_err(|e| {
                // toml appends the location on later lines; the key path already says where.
                let inner = e.inner().to_string();
                let path = e.path().to_string();
                // Never echo a secret's value back, even a malformed one.
                let reason = if path.contains("api_key") {
                    "malformed value (not shown: it is a secret); api_keys is a list of strings"
                        .to_owned()
                } else {
                    inner.lines().next().unwrap_or_default().trim().to_owned()
                };
                anyhow::anyhow!("invalid setting `{}`: {reason}", e.path())
            })?;
        Ok(settings)
    }

    /// Cross-field checks, with the offending key in every message.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.server.listen.parse::<SocketAddr>().map_err(|_| {
            anyhow::anyhow!(
                "invalid setting `server.listen`: {:?} is not HOST:PORT (e.g. 127.0.0.1:8000)",
                self.server.listen
            )
        })?;
        if !matches!(self.server.color.as_str(), "blue" | "green") {
            bail!(
                "invalid setting `server.color`: {:?} (use blue or green)",
                self.server.color
            );
        }
        if self.server.max_upload_bytes == 0 || self.server.max_upload_bytes > 1 << 30 {
            bail!("invalid setting `server.max_upload_bytes`: must be between 1 and 1073741824");
        }
        if self.server.max_in_flight == 0 {
            bail!("invalid setting `server.max_in_flight`: must be at least 1");
        }
        if self.server.request_timeout_secs == 0 {
            bail!("invalid setting `server.request_timeout_secs`: must be at least 1");
        }
        if !(0.0..=300.0).contains(&self.server.drain_secs) {
            bail!("invalid setting `server.drain_secs`: must be between 0 and 300");
        }
        if !(self.server.drain_secs..=3600.0).contains(&self.server.drain_timeout_secs) {
            bail!(
                "invalid setting `server.drain_timeout_secs`: must be between `server.drain_secs` ({}) and 3600",
                self.server.drain_secs
            );
        }
        if !(0.0..=24.0 * 366.0).contains(&self.backup.every_hours) {
            bail!("invalid setting `backup.every_hours`: must be between 0 and 8784");
        }
        if !(1.0..=86_400.0).contains(&self.backup.check_secs) {
            bail!("invalid setting `backup.check_secs`: must be between 1 and 86400");
        }
        if self.backup.every_hours > 0.0 && self.backup.to.is_none() {
            bail!("invalid setting `backup.every_hours`: set `backup.to` (or --backup-to) too");
        }
        if !(0.1..=3600.0).contains(&self.scale.poll_secs) {
            bail!("invalid setting `scale.poll_secs`: must be between 0.1 and 3600");
        }
        if !(1.0..=3600.0).contains(&self.scale.lease_secs) {
            bail!("invalid setting `scale.lease_secs`: must be between 1 and 3600");
        }
        if self.scale.batch == 0 || self.scale.keep_snapshots == 0 {
            bail!("invalid setting `scale.batch` / `scale.keep_snapshots`: must be at least 1");
        }
        if let Some(url) = &self.scale.store_url
            && !url.starts_with("s3://")
        {
            bail!(
                "invalid setting `scale.store_url`: {url:?}: the shared store must be s3://bucket/prefix \
                 (S3 or an S3-compatible server through AWS_ENDPOINT_URL): the writer lease needs conditional writes"
            );
        }
        if self.scale.role == Role::Api && self.scale.store_url.is_none() {
            bail!(
                "`--role api` needs --store-url (or SOCIOGRAPH_STORE_URL): the shared store the worker publishes to"
            );
        }
        if self.scale.role == Role::Api && self.backup.restore_from.is_some() {
            bail!(
                "`--role api` serves the worker's snapshots; --restore-from applies to `--role all` only"
            );
        }
        if self.server.rate_limit.enabled
            && (self.server.rate_limit.per_second <= 0.0 || self.server.rate_limit.burst == 0)
        {
            bail!(
                "invalid setting `server.rate_limit`: per_second and burst must be positive when enabled"
            );
        }
        let i = &self.ingest;
        if i.chunk_target_chars < 100
            || i.chunk_max_chars < i.chunk_target_chars
            || i.chunk_overlap_chars >= i.chunk_target_chars
        {
            bail!(
                "invalid setting `ingest`: need chunk_target_chars >= 100, chunk_max_chars >= chunk_target_chars and chunk_overlap_chars < chunk_target_chars"
            );
        }
        if self.embedder.kind == EmbedderKind::Hashing
            && !(8..=4096).contains(&self.embedder.dimensions)
        {
            bail!("invalid setting `embedder.dimensions`: must be between 8 and 4096");
        }
        let needs_llm =
            self.extractor.kind == ExtractorKind::Llm || self.embedder.kind == EmbedderKind::Openai;
        if needs_llm && self.llm.base_url.is_none() {
            bail!(
                "invalid setting `llm.base_url`: required by --extractor llm and --embedder openai \
                 (set SOCIOGRAPH_LLM_BASE_URL, or OPENROUTER_API_KEY to use OpenRouter)"
            );
        }
        if let Some(url) = &self.llm.base_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            bail!("invalid setting `llm.base_url`: {url:?} must start with http:// or https://");
        }
        if let Some(url) = &self.log.otlp_endpoint
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            bail!(
                "invalid setting `log.otlp_endpoint`: {url:?} must start with http:// or https://"
            );
        }
        if self.answer.generator == GeneratorKind::Llm && self.llm.base_url.is_none() {
            bail!(
                "invalid setting `answer.generator`: llm needs `llm.base_url` (or OPENROUTER_API_KEY)"
            );
        }
        if !(0.0..=300.0).contains(&self.llm.queue_wait_secs) {
            bail!("invalid setting `llm.queue_wait_secs`: must be between 0 and 300");
        }
        if self.llm.max_retries > 10 {
            bail!("invalid setting `llm.max_retries`: at most 10");
        }
        if self.llm.timeout_secs == 0 {
            bail!("invalid setting `llm.timeout_secs`: must be at least 1");
        }
        self.llm
            .prices
            .validate()
            .map_err(|e| anyhow::anyhow!("invalid setting `llm.prices`: {e}"))?;
        if !(0.0..=2.0).contains(&self.answer.temperature) {
            bail!("invalid setting `answer.temperature`: must be between 0 and 2");
        }
        if !(1..=32_768).contains(&self.answer.max_tokens) {
            bail!("invalid setting `answer.max_tokens`: must be between 1 and 32768");
        }
        if self.rerank.enabled {
            let url = &self.rerank.base_url;
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                bail!(
                    "invalid setting `rerank.base_url`: {url:?} must start with http:// or https://"
                );
            }
            if !(1..=1000).contains(&self.rerank.candidates) || self.rerank.timeout_secs == 0 {
                bail!(
                    "invalid setting `rerank`: candidates must be 1–1000 and timeout_secs at least 1"
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn defaults_are_valid() -> anyhow::Result<()> {
        let s = Settings::load_from(None, env(&[]))?;
        s.validate()?;
        assert_eq!(s.server.listen, "127.0.0.1:8000");
        Ok(())
    }

    #[test]
    fn the_api_role_needs_a_store_and_sane_scale_settings() -> anyhow::Result<()> {
        let s = Settings::load_from(None, env(&[("SOCIOGRAPH__SCALE__ROLE", "api")]))?;
        let err = s.validate().expect_err("no store url").to_string();
        assert!(err.contains("--store-url"), "{err}");
        let s = Settings::load_from(
            None,
            env(&[
                ("SOCIOGRAPH__SCALE__ROLE", "api"),
                ("SOCIOGRAPH__SCALE__STORE_URL", "s3://b/p"),
            ]),
        )?;
        s.validate()?;
        assert_eq!(s.scale.role, Role::Api);
        let s = Settings::load_from(None, env(&[("SOCIOGRAPH__SCALE__LEASE_SECS", "0")]))?;
        let err = s.validate().expect_err("zero lease").to_string();
        assert!(err.contains("scale.lease_secs"), "{err}");
        assert!(Settings::load_from(None, env(&[("SOCIOGRAPH__SCALE__ROLE", "writer")])).is_err());
        Ok(())
    }

    #[test]
    fn env_overrides_file_and_types_are_parsed() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("s.toml");
        std::fs::write(&file, "[server]\nmax_in_flight = 10\ncolor = \"green\"\n")?;
        let s = Settings::load_from(
            Some(&file),
            env(&[
                ("SOCIOGRAPH__SERVER__MAX_IN_FLIGHT", "99"),
                ("SOCIOGRAPH__LOG__FORMAT", "json"),
            ]),
        )?;
        assert_eq!(s.server.max_in_flight, 99);
        assert_eq!(s.server.color, "green");
        assert_eq!(s.log.format, LogFormat::Json);
        Ok(())
    }

    #[test]
    fn bad_values_name_the_key() {
        let err = Settings::load_from(None, env(&[("SOCIOGRAPH__SERVER__MAX_IN_FLIGHT", "lots")]))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("server.max_in_flight"), "{err}");
        let err = Settings::load_from(None, env(&[("SOCIOGRAPH__SERVER__NO_SUCH_KEY", "1")]))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("no_such_key"), "{err}");
    }

    #[test]
    fn secrets_do_not_print() -> anyhow::Result<()> {
        let s = Settings::load_from(None, env(&[("SOCIOGRAPH__LLM__API_KEY", "sk-very-secret")]))?;
        assert!(!format!("{s:?}").contains("sk-very-secret"));
        Ok(())
    }

    #[test]
    fn a_malformed_secret_is_not_echoed_in_the_error() {
        let err = Settings::load_from(
            None,
            env(&[("SOCIOGRAPH__SERVER__API_KEYS", "sk-live-123")]),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.contains("server.api_keys"), "{err}");
        assert!(!err.contains("sk-live-123"), "{err}");
    }

    #[test]
    fn validation_names_the_key() -> anyhow::Result<()> {
        let s = Settings::load_from(None, env(&[("SOCIOGRAPH__SERVER__COLOR", "red")]))?;
        let err = s
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("server.color"), "{err}");
        Ok(())
    }
}
