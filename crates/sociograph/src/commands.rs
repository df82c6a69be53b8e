//! The commands: `serve`, `ingest`, `search`, `ask`, `backup`, `restore`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use secrecy::SecretString;
use sociograph_core::answer::{Answer, AnswerMode, AskEvent, AskRequest};
use sociograph_core::types::{Language, Mode, Query, TopK};
use sociograph_server::{Application, RateLimitSettings, ReplicaSource, ServerSettings};
use sociograph_store::DataDirLock;

use crate::backend;
use crate::cli::{
    AskArgs, BackupAction, BackupArgs, Cli, Command, DataArgs, IngestArgs, RestoreArgs, ScaleArgs,
    SearchArgs, ServeArgs,
};
use crate::config::{OPENROUTER_BASE_URL, Role, Settings};
use crate::logging;

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut settings = Settings::load(cli.config.as_deref())?;
    if let Some(format) = cli.log_format {
        settings.log.format = format;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let inside = runtime.enter();
    let (level, command) = match cli.command {
        Command::Serve(args) => {
            apply_data_args(&mut settings, &args.data);
            apply_serve_args(&mut settings, &args);
            ("info", Command::Serve(args))
        }
        Command::Ingest(args) => {
            apply_data_args(&mut settings, &args.data);
            ("warn", Command::Ingest(args))
        }
        Command::Search(args) => {
            apply_data_args(&mut settings, &args.data);
            ("warn", Command::Search(args))
        }
        Command::Ask(args) => {
            apply_data_args(&mut settings, &args.data);
            if let Some(generator) = args.generator {
                settings.answer.generator = generator;
            }
            ("warn", Command::Ask(args))
        }
        Command::Backup(args) => {
            if let Some(d) = &args.data_dir {
                settings.data_dir = d.clone();
            }
            ("warn", Command::Backup(args))
        }
        Command::Restore(args) => {
            if let Some(d) = &args.data_dir {
                settings.data_dir = d.clone();
            }
            ("warn", Command::Restore(args))
        }
        Command::Worker(args) => {
            apply_data_args(&mut settings, &args.data);
            apply_scale_args(&mut settings, &args.scale);
            if let Some(secs) = args.lease_secs {
                settings.scale.lease_secs = secs;
            }
            if let Some(from) = &args.restore_from {
                settings.backup.restore_from = Some(from.clone());
            }
            // The worker backs up into the shared store ([backup] every_hours sets how often).
            if settings.backup.to.is_none() {
                settings.backup.to = settings.scale.store_url.clone();
            }
            ("info", Command::Worker(args))
        }
    };
    settings.validate()?;
    let mut telemetry = logging::init(&settings, level)?;
    let result = runtime.block_on(async move {
        match command {
            Command::Serve(_) => serve(settings).await.map(|()| ExitCode::SUCCESS),
            Command::Ingest(args) => ingest(settings, args).await,
            Command::Search(args) => search(settings, args).await.map(|()| ExitCode::SUCCESS),
            Command::Ask(args) => ask(settings, args).await.map(|()| ExitCode::SUCCESS),
            Command::Backup(args) => backup(settings, args).await.map(|()| ExitCode::SUCCESS),
            Command::Restore(args) => restore(settings, args).await.map(|()| ExitCode::SUCCESS),
            Command::Worker(_) => crate::worker::run(settings)
                .await
                .map(|()| ExitCode::SUCCESS),
        }
    });
    // Export the last spans while the runtime still runs.
    telemetry.shutdown();
    // A blocking task still running (a document cut by the drain timeout) must not hold the
    // exit: each document is one transaction, so stopping mid-way loses nothing.
    drop(inside);
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}

fn apply_data_args(settings: &mut Settings, args: &DataArgs) {
    if let Some(d) = &args.data_dir {
        settings.data_dir = d.clone();
    }
    if let Some(e) = args.embedder {
        settings.embedder.kind = e;
    }
    if let Some(m) = &args.model_dir {
        settings.embedder.model_dir = m.clone();
    }
    if let Some(x) = args.extractor {
        settings.extractor.kind = x;
    }
    if let Some(url) = &args.llm_base_url {
        settings.llm.base_url = Some(url.clone());
    }
    if let Some(key) = &args.llm_api_key {
        settings.llm.api_key = Some(SecretString::from(key.clone()));
    }
    // OpenRouter is the default provider only when nothing else is configured.
    if let Some(key) = &args.openrouter_api_key
        && settings.llm.base_url.is_none()
    {
        settings.llm.base_url = Some(OPENROUTER_BASE_URL.to_owned());
        if settings.llm.api_key.is_none() {
            settings.llm.api_key = Some(SecretString::from(key.clone()));
        }
    }
}

fn apply_scale_args(settings: &mut Settings, args: &ScaleArgs) {
    if let Some(url) = &args.store_url {
        settings.scale.store_url = Some(url.clone());
    }
    if let Some(secs) = args.poll_secs {
        settings.scale.poll_secs = secs;
    }
}

fn apply_serve_args(settings: &mut Settings, args: &ServeArgs) {
    apply_scale_args(settings, &args.scale);
    if let Some(role) = args.role {
        settings.scale.role = role;
    }
    if let Some(listen) = &args.listen {
        settings.server.listen = listen.clone();
    }
    if let Some(color) = &args.color {
        settings.server.color = color.clone();
    }
    if let Some(to) = &args.backup_to {
        settings.backup.to = Some(to.clone());
    }
    if let Some(hours) = args.backup_every {
        settings.backup.every_hours = hours;
    }
    if let Some(from) = &args.restore_from {
        settings.backup.restore_from = Some(from.clone());
    }
    let keys: Vec<SecretString> = args
        .api_keys
        .iter()
        .map(|k| k.trim())
        .filter(|k| !k.is_empty())
        .map(|k| SecretString::from(k.to_owned()))
        .collect();
    if !keys.is_empty() {
        settings.server.api_keys = keys;
    }
}

fn lock(settings: &Settings) -> anyhow::Result<DataDirLock> {
    Ok(DataDirLock::acquire(&settings.data_dir)?)
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    if settings.scale.role == Role::Api {
        return serve_replica(settings).await;
    }
    if let Some(from) = &settings.backup.restore_from {
        if settings.data_dir.join("graph.db").exists() {
            tracing::info!(
                data_dir = %settings.data_dir.display(),
                "the data directory already holds data; not restoring from {from}"
            );
        } else {
            let report = sociograph_backup::restore(from, &settings.data_dir)
                .await
                .with_context(|| format!("cannot restore from {from}"))?;
            tracing::info!(
                backup = %report.verified.url,
                documents = report.verified.manifest.counts.documents,
                seconds = report.verified.seconds,
                "restored the data directory"
            );
        }
    }
    let _lock = lock(&settings)?;
    if let Some(to) = &settings.backup.to {
        let target = sociograph_backup::Location::parse(to)?;
        tokio::spawn(backup_loop(
            target,
            settings.data_dir.clone(),
            settings.backup.every_hours,
            settings.backup.retention_days,
            Duration::from_secs_f64(settings.backup.check_secs),
        ));
    }
    let server_settings = server_settings(&settings)?;
    let runtime = tokio::runtime::Handle::current();
    let data_dir = settings.data_dir.clone();
    let app = Application::build(
        server_settings,
        Box::new(move || backend::open(&settings, &runtime).map_err(|e| format!("{e:#}"))),
    )
    .await?;
    tracing::info!(port = app.port(), data_dir = %data_dir.display(), "listening; loading data");
    app.run_until_stopped().await.map_err(anyhow::Error::msg)
}

/// The HTTP server's settings from the process settings (and the metrics recorder).
fn server_settings(settings: &Settings) -> anyhow::Result<ServerSettings> {
    Ok(ServerSettings {
        listen: settings.server.listen.clone(),
        color: settings.server.color.clone(),
        max_upload_bytes: settings.server.max_upload_bytes,
        max_in_flight: settings.server.max_in_flight,
        request_timeout: Duration::from_secs(settings.server.request_timeout_secs),
        drain: Duration::from_secs_f64(settings.server.drain_secs),
        drain_timeout: Duration::from_secs_f64(settings.server.drain_timeout_secs),
        api_keys: settings.server.api_keys.clone(),
        trusted_proxies: settings.server.trusted_proxies.clone(),
        rate_limit: RateLimitSettings {
            enabled: settings.server.rate_limit.enabled,
            per_second: settings.server.rate_limit.per_second,
            burst: settings.server.rate_limit.burst,
        },
        version: env!("CARGO_PKG_VERSION").to_owned(),
        metrics: Some(start_metrics(&settings.server.color)?),
    })
}

/// `serve --role api`: a stateless replica of the worker's published snapshots.
async fn serve_replica(settings: Settings) -> anyhow::Result<()> {
    let url = settings
        .scale
        .store_url
        .clone()
        .context("--role api needs --store-url")?;
    let location = sociograph_backup::Location::parse(&url)?;
    // The data directory only holds downloaded snapshots; one process per directory.
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("cannot create {}", settings.data_dir.display()))?;
    let _lock = lock(&settings)?;
    let server_settings = server_settings(&settings)?;
    let runtime = tokio::runtime::Handle::current();
    let work_dir = settings.data_dir.clone();
    let poll = Duration::from_secs_f64(settings.scale.poll_secs);
    let settings = std::sync::Arc::new(settings);
    let shared = {
        let (settings, runtime) = (settings.clone(), runtime.clone());
        tokio::task::spawn_blocking(move || backend::shared(&settings, &runtime))
            .await
            .context("model loading task failed")??
    };
    let open: sociograph_server::Opener = std::sync::Arc::new(move |dir: &Path| {
        backend::open_dir(&settings, &runtime, &shared, dir).map_err(|e| format!("{e:#}"))
    });
    let app = Application::build_replica(
        server_settings,
        ReplicaSource {
            location,
            work_dir: work_dir.clone(),
            poll,
            open,
        },
    )
    .await?;
    tracing::info!(port = app.port(), store = %url, "listening as an API replica; following snapshots");
    app.run_until_stopped().await.map_err(anyhow::Error::msg)
}

/// Install the Prometheus recorder, publish the build, and start the GPU sampler.
fn start_metrics(color: &str) -> anyhow::Result<sociograph_server::MetricsRender> {
    let handle = sociograph_telemetry::prometheus::install().map_err(anyhow::Error::msg)?;
    sociograph_telemetry::record::build_info(
        env!("CARGO_PKG_VERSION"),
        env!("SOCIOGRAPH_REVISION"),
        color,
    );
    sociograph_telemetry::record::ready(false);
    match sociograph_telemetry::gpu::start(Duration::from_secs(10)) {
        sociograph_telemetry::gpu::GpuState::Available { devices } => {
            tracing::info!(devices, "sampling GPUs through NVML");
        }
        sociograph_telemetry::gpu::GpuState::Unavailable(reason) => {
            tracing::info!(%reason, "no GPU: exporting sociograph_gpu_available 0");
        }
    }
    Ok(std::sync::Arc::new(move || handle.render()))
}

/// Files under `paths` (recursing into folders, skipping hidden entries), sorted.
fn collect_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read folder {}", dir.display()))?
            .collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out)?;
            } else {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)?;
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            bail!("{} does not exist", p.display());
        }
    }
    Ok(out)
}

async fn ingest(settings: Settings, args: IngestArgs) -> anyhow::Result<ExitCode> {
    let files = collect_files(&args.paths)?;
    if files.is_empty() {
        bail!("no files found under {:?}", args.paths);
    }
    let _lock = lock(&settings)?;
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || ingest_files(&settings, &runtime, &files))
        .await
        .context("ingest task failed")?
}

fn ingest_files(
    settings: &Settings,
    runtime: &tokio::runtime::Handle,
    files: &[PathBuf],
) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let backend = backend::open(settings, runtime)?;
    let bar = ProgressBar::new(files.len() as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{bar:30}] {pos}/{len} {elapsed_precise} {wide_msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let (mut documents, mut duplicates, mut chunks, mut entities, mut relations) = (0, 0, 0, 0, 0);
    let mut failures: Vec<(PathBuf, String)> = Vec::new();
    for path in files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        bar.set_message(name.clone());
        let result = std::fs::read(path)
            .map_err(|e| format!("cannot read: {e}"))
            .and_then(|bytes| {
                let prepared = backend
                    .pipeline
                    .prepare(&name, &bytes)
                    .map_err(|e| e.to_string())?;
                // Keep the original (content-addressed) so it can be re-ingested or deleted.
                backend
                    .store
                    .save_upload(&prepared.content_hash, &bytes)
                    .map_err(|e| e.to_string())?;
                backend
                    .pipeline
                    .ingest(&prepared, &mut |_, _| {})
                    .map_err(|e| e.to_string())
            });
        match result {
            Ok(report) if report.duplicate => duplicates += 1,
            Ok(report) => {
                documents += 1;
                chunks += report.chunks;
                entities += report.entities;
                relations += report.relations;
            }
            Err(reason) => failures.push((path.clone(), reason)),
        }
        bar.inc(1);
    }
    backend.store.flush_index()?;
    bar.finish_and_clear();
    let totals = backend.store.counts()?;
    println!(
        "ingested {documents} documents ({duplicates} already present, {} failed): {chunks} chunks, \
         {entities} entity mentions, {relations} relations in {:.1}s",
        failures.len(),
        started.elapsed().as_secs_f64()
    );
    println!(
        "data directory {} now holds {} documents, {} chunks, {} entities, {} relations",
        settings.data_dir.display(),
        totals.documents,
        totals.chunks,
        totals.entities,
        totals.relations
    );
    for (path, reason) in &failures {
        println!("failed: {}: {reason}", path.display());
    }
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

async fn search(settings: Settings, args: SearchArgs) -> anyhow::Result<()> {
    let query = Query::parse(&args.query.join(" "))?;
    let k = TopK::parse(args.k)?;
    let mode = Mode::parse(&args.mode)?;
    let _lock =
        lock(&settings).context("stop the server or query it over HTTP (GET /search) instead")?;
    let runtime = tokio::runtime::Handle::current();
    let json = args.json;
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let backend = backend::open(&settings, &runtime)?;
        let result = backend.retriever.search(&query, k, mode)?;
        if json {
            println!("{}", serde_json::to_string_pretty(&result)?);
            return Ok(());
        }
        if !result.matched_entities.is_empty() {
            let names: Vec<String> = result
                .matched_entities
                .iter()
                .map(|e| format!("{} ({})", e.name, e.entity_type))
                .collect();
            println!("entities in the query: {}", names.join(", "));
        }
        if result.hits.is_empty() {
            println!("no hits");
        }
        for (i, hit) in result.hits.iter().enumerate() {
            let page = hit.page.map(|p| format!(", page {p}")).unwrap_or_default();
            println!(
                "{:>2}. [{:.4}] {} ({}{page})",
                i + 1,
                hit.score,
                hit.document.title,
                hit.document.source
            );
            let snippet: String = hit.text.split_whitespace().collect::<Vec<_>>().join(" ");
            let snippet: String = snippet.chars().take(240).collect();
            println!("    {snippet}");
        }
        println!(
            "({} mode, {:.1} ms)",
            result.mode.as_str(),
            result.timings.total_ms
        );
        Ok(())
    })
    .await
    .context("search task failed")?
}

async fn ask(settings: Settings, args: AskArgs) -> anyhow::Result<()> {
    let mut request = AskRequest::new(Query::parse(&args.question.join(" "))?);
    request.mode = Mode::parse(&args.mode)?;
    request.top_k = TopK::parse(args.k)?;
    request.language = args.language.as_deref().map(Language::parse).transpose()?;
    request.model = args
        .model
        .as_deref()
        .map(AskRequest::parse_model)
        .transpose()?;
    let _lock = lock(&settings)
        .context("stop the server or ask it over HTTP (POST /api/qa/ask) instead")?;
    let runtime = tokio::runtime::Handle::current();
    let backend = tokio::task::spawn_blocking(move || backend::open(&settings, &runtime))
        .await
        .context("startup task failed")??;
    let answerer = backend.answerer.clone();
    if args.json {
        let answer = answerer.ask(request).await?;
        println!("{}", serde_json::to_string_pretty(&answer)?);
        return Ok(());
    }
    let mut events = answerer.ask_stream(request).await?;
    let mut stdout = std::io::stdout();
    while let Some(event) = events.next().await {
        match event {
            AskEvent::Sources { .. } => {}
            AskEvent::Delta(text) => {
                use std::io::Write;
                print!("{text}");
                stdout.flush().ok();
            }
            AskEvent::Done(answer) => print_answer_footer(&answer),
            AskEvent::Error(e) => {
                println!();
                return Err(e.into());
            }
        }
    }
    Ok(())
}

/// After the streamed text: the cited sources, then how the answer was made.
fn print_answer_footer(answer: &Answer) {
    println!("\n");
    let shown = if answer.citations.is_empty() {
        &answer.sources
    } else {
        &answer.citations
    };
    if !shown.is_empty() {
        println!("Sources:");
    }
    for source in shown {
        let page = source
            .page
            .map(|p| format!(", page {p}"))
            .unwrap_or_default();
        println!(
            "  [{}] {} ({}{page})",
            source.n, source.document.title, source.document.source
        );
        let snippet: String = source.text.split_whitespace().collect::<Vec<_>>().join(" ");
        let snippet: String = snippet.chars().take(200).collect();
        println!("      {snippet}…");
    }
    if let Some(notice) = &answer.notice {
        println!("\n({notice})");
    }
    let how = match (answer.mode, &answer.model, &answer.usage) {
        (AnswerMode::Llm, Some(model), Some(usage)) => {
            let cost = usage
                .cost_usd
                .map(|c| format!("${c:.6}"))
                .unwrap_or_else(|| "cost unknown (no price for this model)".into());
            format!(
                "{model}: {} prompt + {} completion tokens, {cost}",
                usage.prompt_tokens, usage.completion_tokens
            )
        }
        _ => "extractive".to_owned(),
    };
    println!(
        "({how}; {:.0} ms; history id {})",
        answer.timings.total_ms, answer.query_id
    );
}

fn describe(m: &sociograph_backup::Manifest) -> String {
    format!(
        "{} documents, {} chunks, {} entities, {} relations (generation {}, {})",
        m.counts.documents,
        m.counts.chunks,
        m.counts.entities,
        m.counts.relations,
        m.generation,
        if m.index_included {
            "vector index included"
        } else {
            "vector index rebuilt on restore"
        }
    )
}

async fn backup(settings: Settings, args: BackupArgs) -> anyhow::Result<()> {
    match args.action {
        Some(BackupAction::Verify { from }) => {
            let report = sociograph_backup::verify(&from, env!("CARGO_PKG_VERSION")).await?;
            println!(
                "verified {}: {}, every checksum matched, integrity ok, smoke query ok{} in {:.1}s",
                report.url,
                describe(&report.manifest),
                if report.index_rebuilt {
                    " (index rebuilt)"
                } else {
                    ""
                },
                report.seconds
            );
            if let Err(e) = report.recorded {
                eprintln!(
                    "sociograph: warning: the verification could not be recorded in the target: {e}"
                );
            }
            return Ok(());
        }
        Some(BackupAction::Lifecycle { target, days }) => {
            let location = sociograph_backup::Location::parse(&target)?;
            let rule = sociograph_backup::apply_lifecycle(&location, days).await?;
            println!(
                "lifecycle rule {} on {}: objects under {} expire after {} days (rules in the bucket: {})",
                rule.id,
                location.url,
                rule.prefix,
                rule.expiration_days,
                rule.all_rule_ids.join(", ")
            );
            return Ok(());
        }
        None => {}
    }
    let Some(to) = args.to else {
        bail!(
            "backup needs --to s3://bucket/prefix or --to file:///path (or SOCIOGRAPH_BACKUP_TO)"
        );
    };
    let target = sociograph_backup::Location::parse(&to)?;
    let report =
        sociograph_backup::backup(&settings.data_dir, &target, env!("CARGO_PKG_VERSION")).await?;
    println!(
        "backed up {}: {} to {} ({} bytes) in {:.1}s",
        settings.data_dir.display(),
        describe(&report.manifest),
        target.display(&report.key),
        report.uploaded_bytes,
        report.seconds
    );
    if let Some(days) = args.retention_days {
        let removed = sociograph_backup::prune(&target, days).await?;
        if !removed.is_empty() {
            println!(
                "removed backups older than {days} days: {}",
                removed.join(", ")
            );
        }
    }
    Ok(())
}

async fn restore(settings: Settings, args: RestoreArgs) -> anyhow::Result<()> {
    let report = sociograph_backup::restore(&args.from, &settings.data_dir).await?;
    println!(
        "restored {} into {}: {}{} in {:.1}s",
        report.verified.url,
        settings.data_dir.display(),
        describe(&report.verified.manifest),
        match &report.previous {
            Some(p) => format!("; the previous contents are in {}", p.display()),
            None => String::new(),
        },
        report.verified.seconds
    );
    Ok(())
}

/// For `serve --backup-to`: every `check`, read the target's backup times into the metrics;
/// with `every_hours`, back up and verify when the newest backup is older than that. The
/// schedule lives in the target, not in this process: restarts and several processes sharing
/// a target do not multiply backups (two may start within one check of each other).
pub(crate) async fn backup_loop(
    target: sociograph_backup::Location,
    data_dir: PathBuf,
    every_hours: f64,
    retention_days: u32,
    check: Duration,
) {
    let version = env!("CARGO_PKG_VERSION");
    loop {
        let status = match sociograph_backup::status(&target).await {
            Ok(status) => status,
            Err(e) => {
                tracing::warn!(target = %target.url, error = %e, "cannot read the backup target");
                tokio::time::sleep(check).await;
                continue;
            }
        };
        if let Some(t) = status.last_success {
            sociograph_telemetry::record::backup_succeeded(t as f64);
        }
        if let Some(t) = status.last_verified {
            sociograph_telemetry::record::backup_verified(t as f64);
        }
        let now = sociograph_backup::Utc::now().unix;
        let due = every_hours > 0.0
            && status
                .last_success
                .is_none_or(|t| now.saturating_sub(t) as f64 >= every_hours * 3600.0);
        if due {
            match sociograph_backup::backup(&data_dir, &target, version).await {
                Ok(report) => {
                    sociograph_telemetry::record::backup_succeeded(
                        report.manifest.created_at_unix as f64,
                    );
                    tracing::info!(key = %report.key, bytes = report.uploaded_bytes, "backup made");
                    match sociograph_backup::verify(&target.display(&report.key), version).await {
                        Ok(verified) => match verified.recorded {
                            Ok(at) => sociograph_telemetry::record::backup_verified(at as f64),
                            Err(e) => {
                                tracing::warn!(error = %e, "backup verified but not recorded")
                            }
                        },
                        Err(e) => {
                            tracing::error!(key = %report.key, error = %e, "backup failed verification")
                        }
                    }
                    if retention_days > 0 {
                        match sociograph_backup::prune(&target, retention_days).await {
                            Ok(removed) if !removed.is_empty() => {
                                tracing::info!(?removed, "old backups removed")
                            }
                            Ok(_) => {}
                            Err(e) => tracing::warn!(error = %e, "cannot remove old backups"),
                        }
                    }
                }
                Err(e) => tracing::error!(target = %target.url, error = %e, "backup failed"),
            }
        }
        tokio::time::sleep(check).await;
    }
}
