//! `cargo xtask bench [--quick] [--keep]`: measure the release binary and write
//! `docs/BENCHMARKS.md`.
//!
//! What it does, in order:
//! 1. fetches the local MiniLM model (`scripts/fetch-model.sh`, idempotent) and builds
//!    `cargo build --release --locked -p sociograph`;
//! 2. generates a synthetic corpus (~10,000 chunks; ~1,000 with `--quick`) by recombining the
//!    paragraphs and sentences of `corpus/demo/*.{txt,md}` with a seeded PRNG, varying numbers
//!    and adding invented people so every document (and nearly every chunk) is distinct;
//! 3. times `sociograph ingest` with the `hashing` and the `local` embedder (offline extractor);
//! 4. starts `sociograph serve` on the local data dir and times cold start to a 200 `/health`;
//! 5. drives `GET /search` at concurrency 1, 10 and 50 (hybrid) and once per mode at 10, with an
//!    in-process tokio + reqwest load generator, and records latency percentiles and req/s;
//! 6. reads the server's VmRSS/VmHWM, stops it with SIGTERM;
//! 7. measures ANN recall@10 against exact search through `sociograph-store` on both data dirs;
//! 8. renders the report. A full run writes `docs/BENCHMARKS.md`; `--quick` writes
//!    `<target>/xtask-bench/BENCHMARKS.quick.md` and leaves the docs alone.
//!
//! Everything binds 127.0.0.1, every loop is bounded in count and time, and every child process
//! is owned by a guard (`proc::Served`, `proc::ChildGuard`) that kills and reaps it on any exit
//! path. Any non-200 answer fails the bench: the report is still written (its figures are real),
//! flagged as FAILED at the top, and the command exits non-zero. The figures in the report come
//! only from the run that wrote it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail, ensure};

use crate::proc::{Served, build_release, log_tail, run_bounded, sociograph, target_dir};

/// Corpus characters per chunk, on average: the chunker targets 700 characters with 150 of
/// overlap, and sentence packing leaves some slack. Measured on this generator (the bench
/// prints "corpus chars per chunk"); only used to size the corpus.
const CHARS_PER_CHUNK: usize = 530;
/// Seed of the corpus generator: the same seed gives byte-identical documents.
const CORPUS_SEED: u64 = 0x5EED_2024_0BE7_C4A1;
/// Queries for the load test: names and phrases from the demo corpus, one in Arabic.
const QUERIES: &[&str] = &[
    "Ingrid Valtersen",
    "who backed the mayor",
    "fish hall demolition",
    "Marsh Holdings loan",
    "سلمى العطار",
    "Victoria Lund",
    "Okafor Construction contracts",
    "Quayside Papers kickbacks",
    "Northern Quay warehouses sale",
    "Harbour Gate redevelopment",
    "Anders Holm charged",
    "how is Leonard Fisk connected to Marsh Holdings",
    "Dockworkers Union strike",
    "Rosa Delgado election",
    "Port Authority annual report",
    "Karim Mansour",
];
const MODES: &[&str] = &["naive", "keyword", "local", "hybrid"];
const RECALL_QUERIES: usize = 200;
const RECALL_K: usize = 10;
/// The recall the vector index is tuned for (see `sociograph-store`'s index options).
const RECALL_TARGET: f64 = 0.95;

/// Sizes of one run.
struct Plan {
    quick: bool,
    keep: bool,
    target_chunks: usize,
    /// (concurrency, requests) for the hybrid latency table.
    levels: Vec<(usize, usize)>,
    /// Requests per mode at concurrency 10.
    mode_requests: usize,
}

impl Plan {
    fn parse(args: &[String]) -> anyhow::Result<Plan> {
        let mut quick = false;
        let mut keep = false;
        for arg in args {
            match arg.as_str() {
                "--quick" => quick = true,
                "--keep" => keep = true,
                other => bail!(
                    "unknown bench option {other:?}; usage: cargo xtask bench [--quick] [--keep]"
                ),
            }
        }
        Ok(if quick {
            Plan {
                quick,
                keep,
                target_chunks: 1_000,
                levels: vec![(1, 50), (10, 200), (50, 200)],
                mode_requests: 100,
            }
        } else {
            Plan {
                quick,
                keep,
                target_chunks: 10_000,
                levels: vec![(1, 300), (10, 2_000), (50, 2_000)],
                mode_requests: 1_000,
            }
        })
    }
}

pub fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let plan = Plan::parse(args)?;
    let started = Instant::now();
    let date = utc_now();
    let load_before = load_average();

    step("fetch the local model");
    run_bounded(
        Command::new("bash")
            .arg("scripts/fetch-model.sh")
            .current_dir(root),
        Duration::from_secs(600),
        None,
    )?;
    let model_dir = root.join("models/all-MiniLM-L6-v2");

    step("build the release binary");
    let bin = build_release(root)?;
    let target_dir = target_dir(root)?;

    let work = tempfile::Builder::new()
        .prefix("sociograph-bench-")
        .tempdir()
        .context("cannot create a work directory")?;
    let work_path = work.path().to_path_buf();
    eprintln!("xtask: bench: work directory {}", work_path.display());

    let result = measure(root, &plan, &bin, &model_dir, &work_path);
    if plan.keep {
        let kept = work.keep();
        eprintln!("xtask: bench: kept {}", kept.display());
    }
    let figures = result?;

    let load = format!("{load_before} at start, {} at the end", load_average());
    let report = render(root, &plan, &date, &load, &figures, started.elapsed())?;
    // A failed run is still written: its figures are real and say what is wrong. The report
    // flags the failure at the top, and the exit status is non-zero.
    let out = if plan.quick {
        target_dir.join("xtask-bench/BENCHMARKS.quick.md")
    } else {
        root.join("docs/BENCHMARKS.md")
    };
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&out, &report).with_context(|| format!("cannot write {}", out.display()))?;
    println!("{report}");
    eprintln!(
        "xtask: bench: wrote {} in {:.0}s",
        out.display(),
        started.elapsed().as_secs_f64()
    );
    let failures = figures.failures();
    if failures > 0 {
        bail!(
            "{failures} /search requests did not answer 200 (see {})",
            out.display()
        );
    }
    Ok(())
}

/// Every figure of a run.
struct Figures {
    corpus: CorpusStats,
    ingest: Vec<IngestResult>,
    serve: ServeResult,
    tracing: tracing_cost::TracingCost,
    recall: Vec<RecallResult>,
    problems: Vec<LogProblem>,
}

impl Figures {
    fn failures(&self) -> usize {
        self.serve
            .levels
            .iter()
            .chain(&self.serve.modes)
            .map(LevelResult::failures)
            .sum::<usize>()
            + self.serve.probes.iter().filter(|p| p.status != 200).count()
            + self.tracing.failures
    }
}

fn measure(
    root: &Path,
    plan: &Plan,
    bin: &Path,
    model_dir: &Path,
    work: &Path,
) -> anyhow::Result<Figures> {
    step("generate the synthetic corpus");
    let corpus_dir = work.join("corpus");
    let corpus = corpus::generate(
        &root.join("corpus/demo"),
        &corpus_dir,
        plan.target_chunks * CHARS_PER_CHUNK,
        plan.target_chunks,
    )?;
    eprintln!(
        "xtask: bench: {} documents, {:.2} MB, {} chars",
        corpus.documents,
        corpus.bytes as f64 / 1e6,
        corpus.chars
    );

    let mut ingest = Vec::new();
    for embedder in [Embedder::Hashing, Embedder::Local] {
        step(&format!("ingest with the {} embedder", embedder.flag()));
        let data_dir = work.join(format!("data-{}", embedder.flag()));
        let result = ingest_folder(bin, model_dir, &data_dir, &corpus_dir, embedder, work)?;
        eprintln!(
            "xtask: bench: {} chunks ({:.0} corpus chars per chunk) in {:.1}s ({:.1} chunks/s)",
            result.chunks,
            corpus.chars as f64 / result.chunks.max(1) as f64,
            result.wall_secs,
            result.chunks_per_sec()
        );
        ingest.push(result);
    }

    step("serve the local data dir and load it");
    let local_dir = work.join("data-local");
    let serve = serve_and_load(plan, bin, model_dir, &local_dir, work)?;

    step("cost of tracing: export off / on against OpenTelemetry disabled");
    let (requests, rounds) = if plan.quick { (300, 1) } else { (2_000, 3) };
    let tracing =
        tracing_cost::measure(bin, &work.join("data-hashing"), work, 10, requests, rounds)?;

    step("ANN recall@10 against exact search");
    let mut recall = Vec::new();
    for embedder in [Embedder::Hashing, Embedder::Local] {
        let r = recall::measure(&work.join(format!("data-{}", embedder.flag())))?;
        eprintln!(
            "xtask: bench: {}: recall@10 {:.4} over {} queries",
            r.embedder_id, r.mean_strict, r.queries
        );
        recall.push(r);
    }
    let problems = ["ingest-hashing.log", "ingest-local.log", "serve.log"]
        .iter()
        .flat_map(|name| log_problems(&work.join(name)))
        .collect();
    Ok(Figures {
        corpus,
        ingest,
        serve,
        tracing,
        recall,
        problems,
    })
}

fn step(what: &str) {
    eprintln!("xtask: bench: == {what}");
}

/// Errors and warnings in a log of JSON lines, grouped by level and message, most frequent
/// first. Lines that are not JSON (the CLI's own output) are skipped.
fn log_problems(path: &Path) -> Vec<LogProblem> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
    for line in text.lines() {
        let Ok(event) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let level = event["level"].as_str().unwrap_or_default();
        if level != "ERROR" && level != "WARN" {
            continue;
        }
        let mut message = event["message"].as_str().unwrap_or_default().to_owned();
        if let Some(error) = event["error"].as_str() {
            message = format!("{message}: {error}");
        }
        *counts.entry((level.to_owned(), message)).or_default() += 1;
    }
    let mut problems: Vec<LogProblem> = counts
        .into_iter()
        .map(|((level, message), count)| LogProblem {
            process: path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            level,
            message,
            count,
        })
        .collect();
    problems.sort_by_key(|p| std::cmp::Reverse(p.count));
    problems
}

struct LogProblem {
    /// The log's name: `ingest-hashing`, `ingest-local` or `serve`.
    process: String,
    level: String,
    message: String,
    count: usize,
}

// ------------------------------------------------------------------ ingest

#[derive(Clone, Copy, PartialEq, Eq)]
enum Embedder {
    Hashing,
    Local,
}

impl Embedder {
    fn flag(self) -> &'static str {
        match self {
            Embedder::Hashing => "hashing",
            Embedder::Local => "local",
        }
    }
}

struct IngestResult {
    embedder: Embedder,
    documents: usize,
    chunks: usize,
    entity_mentions: usize,
    relations: usize,
    /// Totals in the data dir after the ingest (entities are resolved across documents).
    stored_entities: usize,
    stored_relations: usize,
    /// Time the CLI reports for its own work (opening the backend included).
    cli_secs: f64,
    /// Process start to exit.
    wall_secs: f64,
}

impl IngestResult {
    fn chunks_per_sec(&self) -> f64 {
        self.chunks as f64 / self.wall_secs.max(1e-9)
    }
}

fn ingest_folder(
    bin: &Path,
    model_dir: &Path,
    data_dir: &Path,
    folder: &Path,
    embedder: Embedder,
    work: &Path,
) -> anyhow::Result<IngestResult> {
    let mut cmd = sociograph(bin, work);
    cmd.arg("ingest").arg("--data-dir").arg(data_dir).args([
        "--embedder",
        embedder.flag(),
        "--extractor",
        "offline",
    ]);
    if embedder == Embedder::Local {
        cmd.arg("--model-dir").arg(model_dir);
    }
    cmd.arg(folder);
    let log = work.join(format!("ingest-{}.log", embedder.flag()));
    let started = Instant::now();
    run_bounded(&mut cmd, Duration::from_secs(3600), Some(&log))?;
    let wall_secs = started.elapsed().as_secs_f64();
    let text = std::fs::read_to_string(&log)?;
    parse_ingest_summary(&text, embedder, wall_secs)
        .with_context(|| format!("unexpected ingest output{}", log_tail(&log)))
}

/// The numbers in `text` (ASCII digits, with an optional fraction), in order.
fn numbers(text: &str) -> Vec<f64> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map(|s| s.trim_matches('.'))
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// Parse the CLI's two summary lines:
/// `ingested N documents (D already present, F failed): C chunks, E entity mentions, R relations in S.Ss`
/// `data directory DIR now holds N documents, C chunks, E entities, R relations`.
fn parse_ingest_summary(
    text: &str,
    embedder: Embedder,
    wall_secs: f64,
) -> anyhow::Result<IngestResult> {
    let line = text
        .lines()
        .find(|l| l.starts_with("ingested "))
        .context("no `ingested …` line")?;
    let n = numbers(line);
    ensure!(n.len() == 7, "expected 7 numbers in {line:?}");
    ensure!(n[2] == 0.0, "{} documents failed to ingest", n[2]);
    let holds = text
        .lines()
        .find_map(|l| l.split_once(" now holds "))
        .map(|(_, rest)| numbers(rest))
        .context("no `now holds …` line")?;
    ensure!(holds.len() == 4, "expected 4 numbers after `now holds`");
    Ok(IngestResult {
        embedder,
        documents: n[0] as usize,
        chunks: n[3] as usize,
        entity_mentions: n[4] as usize,
        relations: n[5] as usize,
        stored_entities: holds[2] as usize,
        stored_relations: holds[3] as usize,
        cli_secs: n[6],
        wall_secs,
    })
}

// ------------------------------------------------------------------ serve + load

struct ServeResult {
    /// Spawn to the first answer from `/health` (any status): the port is open.
    listening_secs: f64,
    /// Spawn to the first 200 from `/health`.
    ready_secs: f64,
    rss_ready: Memory,
    rss_after_load: Memory,
    /// One hybrid request per query before the timed runs.
    probes: Vec<Probe>,
    levels: Vec<LevelResult>,
    modes: Vec<LevelResult>,
    stop_secs: f64,
    stop_status: String,
}

#[derive(Clone, Copy, Default)]
struct Memory {
    rss_kib: u64,
    hwm_kib: u64,
}

/// VmRSS and VmHWM of a process.
fn memory(pid: u32) -> anyhow::Result<Memory> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    let field = |name: &str| -> anyhow::Result<u64> {
        let line = status
            .lines()
            .find(|l| l.starts_with(name))
            .with_context(|| format!("no {name} in {path}"))?;
        Ok(numbers(line).first().copied().unwrap_or(0.0) as u64)
    };
    Ok(Memory {
        rss_kib: field("VmRSS:")?,
        hwm_kib: field("VmHWM:")?,
    })
}

fn serve_and_load(
    plan: &Plan,
    bin: &Path,
    model_dir: &Path,
    data_dir: &Path,
    work: &Path,
) -> anyhow::Result<ServeResult> {
    let mut cmd = sociograph(bin, work);
    cmd.arg("serve")
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--embedder", "local", "--model-dir"])
        .arg(model_dir);
    let mut server = Served::start(&mut cmd, &work.join("serve.log"), "sociograph serve")?;
    let pid = server.id();
    let base = server.base.clone();

    // The load generator runs on one thread so it takes as little CPU from the server as it can.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(128)
        .build()?;

    let (listening, ready) = server.wait_ready(&runtime, &client, Duration::from_secs(300))?;
    eprintln!("xtask: bench: listening after {listening:.2}s, ready after {ready:.2}s");
    let rss_ready = memory(pid)?;

    let probes = runtime.block_on(probe_queries(&client, &base));
    let mut levels = Vec::new();
    for &(concurrency, requests) in &plan.levels {
        let r = runtime.block_on(load(&client, &base, "hybrid", concurrency, requests));
        eprintln!("xtask: bench: {}", r.summary());
        levels.push(r);
    }
    let mut modes = Vec::new();
    for mode in MODES {
        let r = runtime.block_on(load(&client, &base, mode, 10, plan.mode_requests));
        eprintln!("xtask: bench: {}", r.summary());
        modes.push(r);
    }
    let rss_after_load = memory(pid)?;
    drop(client);

    let (status, took) = server.stop(Duration::from_secs(30))?;
    Ok(ServeResult {
        listening_secs: listening,
        ready_secs: ready,
        rss_ready,
        rss_after_load,
        probes,
        levels,
        modes,
        stop_secs: took.as_secs_f64(),
        stop_status: status.to_string(),
    })
}

/// What one hybrid search for a query returned, as the server reports it.
struct Probe {
    query: &'static str,
    status: u16,
    hits: usize,
    matched_entities: usize,
    vector_ms: f64,
    keyword_ms: f64,
    graph_ms: f64,
    total_ms: f64,
    client_ms: f64,
}

/// One request per query (hybrid, k=10), sequentially, recording the server's own timings.
/// Doubles as the warm-up before the timed runs.
async fn probe_queries(client: &reqwest::Client, base: &str) -> Vec<Probe> {
    let mut probes = Vec::new();
    for &query in QUERIES {
        let started = Instant::now();
        let answer = client
            .get(format!("{base}/search"))
            .query(&[("q", query), ("k", "10"), ("mode", "hybrid")])
            .send()
            .await;
        let mut probe = Probe {
            query,
            status: 0,
            hits: 0,
            matched_entities: 0,
            vector_ms: 0.0,
            keyword_ms: 0.0,
            graph_ms: 0.0,
            total_ms: 0.0,
            client_ms: 0.0,
        };
        if let Ok(response) = answer {
            probe.status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            probe.client_ms = started.elapsed().as_secs_f64() * 1e3;
            probe.hits = body["hits"].as_array().map_or(0, Vec::len);
            probe.matched_entities = body["matched_entities"].as_array().map_or(0, Vec::len);
            let t = &body["timings"];
            probe.vector_ms = t["vector_ms"].as_f64().unwrap_or(0.0);
            probe.keyword_ms = t["keyword_ms"].as_f64().unwrap_or(0.0);
            probe.graph_ms = t["graph_ms"].as_f64().unwrap_or(0.0);
            probe.total_ms = t["total_ms"].as_f64().unwrap_or(0.0);
        }
        probes.push(probe);
    }
    probes
}

/// The outcome of one load level.
struct LevelResult {
    mode: &'static str,
    concurrency: usize,
    planned: usize,
    /// Latencies of the 200 answers, in milliseconds, sorted.
    latencies_ms: Vec<f64>,
    /// Non-200 answers by status code.
    non_200: BTreeMap<u16, usize>,
    /// Requests that got no HTTP answer at all (connect error, timeout).
    transport_errors: usize,
    wall_secs: f64,
    /// The level hit its time limit before sending every planned request.
    truncated: bool,
}

impl LevelResult {
    fn completed(&self) -> usize {
        self.latencies_ms.len() + self.non_200.values().sum::<usize>()
    }

    fn failures(&self) -> usize {
        self.non_200.values().sum::<usize>() + self.transport_errors + usize::from(self.truncated)
    }

    fn rps(&self) -> f64 {
        self.completed() as f64 / self.wall_secs.max(1e-9)
    }

    /// Nearest-rank percentile of the successful latencies.
    fn percentile(&self, p: f64) -> f64 {
        if self.latencies_ms.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * self.latencies_ms.len() as f64).ceil() as usize;
        self.latencies_ms[rank.clamp(1, self.latencies_ms.len()) - 1]
    }

    fn non_200_text(&self) -> String {
        let mut parts: Vec<String> = self
            .non_200
            .iter()
            .map(|(code, n)| format!("{n}×{code}"))
            .collect();
        if self.transport_errors > 0 {
            parts.push(format!("{} no answer", self.transport_errors));
        }
        if self.truncated {
            parts.push("time limit hit".into());
        }
        if parts.is_empty() {
            "0".into()
        } else {
            parts.join(", ")
        }
    }

    fn summary(&self) -> String {
        format!(
            "{} c={}: {} requests, p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, {:.0} req/s, non-200 {}",
            self.mode,
            self.concurrency,
            self.completed(),
            self.percentile(50.0),
            self.percentile(95.0),
            self.percentile(99.0),
            self.rps(),
            self.non_200_text()
        )
    }
}

enum Outcome {
    Ok(f64),
    Status(u16),
    NoAnswer,
}

/// Send `requests` searches with `concurrency` workers; stops early (and says so) at 300 s.
async fn load(
    client: &reqwest::Client,
    base: &str,
    mode: &'static str,
    concurrency: usize,
    requests: usize,
) -> LevelResult {
    let limit = Duration::from_secs(300);
    let next = Arc::new(AtomicUsize::new(0));
    let url = Arc::new(format!("{base}/search"));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (client, next, url) = (client.clone(), next.clone(), url.clone());
        workers.spawn(async move {
            let mut outcomes = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= requests || started.elapsed() >= limit {
                    break;
                }
                let query = QUERIES[i % QUERIES.len()];
                let sent = Instant::now();
                let answer = client
                    .get(url.as_str())
                    .query(&[("q", query), ("k", "10"), ("mode", mode)])
                    .send()
                    .await;
                let outcome = match answer {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        // Read the whole body: the client sees latency only once it has it all.
                        match response.bytes().await {
                            Ok(_) if status == 200 => {
                                Outcome::Ok(sent.elapsed().as_secs_f64() * 1e3)
                            }
                            Ok(_) => Outcome::Status(status),
                            Err(_) => Outcome::NoAnswer,
                        }
                    }
                    Err(_) => Outcome::NoAnswer,
                };
                outcomes.push(outcome);
            }
            outcomes
        });
    }
    let mut result = LevelResult {
        mode,
        concurrency,
        planned: requests,
        latencies_ms: Vec::with_capacity(requests),
        non_200: BTreeMap::new(),
        transport_errors: 0,
        wall_secs: 0.0,
        truncated: false,
    };
    while let Some(joined) = workers.join_next().await {
        let Ok(outcomes) = joined else {
            result.transport_errors += 1;
            continue;
        };
        for outcome in outcomes {
            match outcome {
                Outcome::Ok(ms) => result.latencies_ms.push(ms),
                Outcome::Status(code) => *result.non_200.entry(code).or_default() += 1,
                Outcome::NoAnswer => result.transport_errors += 1,
            }
        }
    }
    result.wall_secs = started.elapsed().as_secs_f64();
    result.truncated = result.completed() + result.transport_errors < requests;
    result.latencies_ms.sort_by(f64::total_cmp);
    result
}

// ------------------------------------------------------------------ recall

mod tracing_cost;

mod recall {
    //! ANN recall@10 against exact search, through `sociograph-store` itself, on a stopped
    //! data dir (the bench holds the data-dir lock while it reads).

    use std::collections::{HashMap, HashSet};
    use std::path::Path;

    use anyhow::{Context, ensure};
    use rusqlite::{Connection, OpenFlags};
    use sociograph_store::{DataDirLock, Store, StoreOptions};

    use super::{RECALL_K, RECALL_QUERIES};

    pub struct RecallResult {
        /// As stored in `meta`: `ID:DIM`.
        pub embedder_id: String,
        pub vectors: usize,
        pub queries: usize,
        /// |ANN ∩ exact| / k, by chunk id.
        pub mean_strict: f64,
        /// ANN hits as good as the exact k-th hit count as found (exact ties between
        /// chunks with identical embeddings do not count as misses).
        pub mean_tie_aware: f64,
        pub min_strict: f64,
        /// Queries whose strict recall was below 1.
        pub imperfect: usize,
    }

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
        let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
        let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
        if na > 0.0 && nb > 0.0 {
            dot / (na * nb)
        } else {
            0.0
        }
    }

    pub fn measure(data_dir: &Path) -> anyhow::Result<RecallResult> {
        let _lock = DataDirLock::acquire(data_dir)
            .with_context(|| format!("cannot lock {}", data_dir.display()))?;
        let db = data_dir.join("graph.db");
        let conn = Connection::open_with_flags(&db, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .with_context(|| format!("cannot open {}", db.display()))?;
        let embedder_id: String =
            conn.query_row("SELECT value FROM meta WHERE key = 'embedder'", [], |r| {
                r.get(0)
            })?;
        let (embedder, dims) = embedder_id
            .rsplit_once(':')
            .context("meta.embedder is not ID:DIM")?;
        let dimensions: usize = dims.parse().context("meta.embedder dimension")?;
        let mut stmt = conn.prepare("SELECT id, embedding FROM chunks ORDER BY id")?;
        let embeddings: Vec<(i64, Vec<f32>)> = stmt
            .query_map([], |r| {
                let blob: Vec<u8> = r.get(1)?;
                let v = blob
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect();
                Ok((r.get(0)?, v))
            })?
            .collect::<rusqlite::Result<_>>()?;
        drop(stmt);
        drop(conn);
        ensure!(
            embeddings.len() >= RECALL_QUERIES,
            "only {} chunks in {}",
            embeddings.len(),
            data_dir.display()
        );
        let by_id: HashMap<i64, &[f32]> = embeddings
            .iter()
            .map(|(id, v)| (*id, v.as_slice()))
            .collect();

        let store = Store::open(&StoreOptions {
            data_dir: data_dir.to_path_buf(),
            embedder: embedder.to_owned(),
            dimensions,
        })?;
        let (mut strict_sum, mut tie_sum, mut min_strict, mut imperfect) = (0.0, 0.0, 1.0f64, 0);
        for j in 0..RECALL_QUERIES {
            // Evenly spaced over the corpus, so every part of it is queried.
            let query = &embeddings[j * embeddings.len() / RECALL_QUERIES].1;
            let ann = store.vector_search(query, RECALL_K)?;
            let exact = store.exact_vector_search(query, RECALL_K)?;
            let Some(kth) = exact.last().map(|h| h.similarity) else {
                continue;
            };
            let exact_ids: HashSet<i64> = exact.iter().map(|h| h.key).collect();
            let ann_ids: HashSet<i64> = ann.iter().map(|h| h.key).collect();
            let strict = ann_ids.intersection(&exact_ids).count() as f64 / exact.len() as f64;
            let as_good = ann_ids
                .iter()
                .filter(|id| {
                    by_id
                        .get(id)
                        .is_some_and(|v| cosine(query, v) >= kth - 1e-5)
                })
                .count();
            let tie_aware = (as_good as f64 / exact.len() as f64).min(1.0);
            strict_sum += strict;
            tie_sum += tie_aware;
            min_strict = min_strict.min(strict);
            imperfect += usize::from(strict < 1.0);
        }
        Ok(RecallResult {
            embedder_id,
            vectors: store.vector_count(),
            queries: RECALL_QUERIES,
            mean_strict: strict_sum / RECALL_QUERIES as f64,
            mean_tie_aware: tie_sum / RECALL_QUERIES as f64,
            min_strict,
            imperfect,
        })
    }
}

use recall::RecallResult;

// ------------------------------------------------------------------ corpus

/// What the generator wrote.
struct CorpusStats {
    documents: usize,
    arabic_documents: usize,
    bytes: usize,
    chars: usize,
    source_files: usize,
}

mod corpus {
    //! The synthetic corpus: documents recombined from the demo corpus's paragraphs and
    //! sentences by a seeded xorshift PRNG. Numbers are varied and invented people are quoted,
    //! so documents differ (the store deduplicates identical content by hash) and the graph
    //! grows as a real corpus would. English and Arabic are never mixed in one document.

    use std::path::Path;

    use anyhow::{Context, ensure};

    use super::{CORPUS_SEED, CorpusStats};

    /// xorshift64*: small, fast, deterministic; plenty for shuffling text.
    pub struct Rng(u64);

    impl Rng {
        pub fn new(seed: u64) -> Rng {
            Rng(seed.max(1))
        }

        pub fn next_u64(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.0 = x;
            x.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        /// Uniform in `0..n` (n > 0).
        pub fn below(&mut self, n: usize) -> usize {
            (self.next_u64() % n.max(1) as u64) as usize
        }

        /// Uniform in `lo..=hi`.
        pub fn between(&mut self, lo: usize, hi: usize) -> usize {
            lo + self.below(hi - lo + 1)
        }

        pub fn chance(&mut self, p: f64) -> bool {
            ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
        }

        pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
            &items[self.below(items.len())]
        }
    }

    const FIRST: &[&str] = &[
        "Astrid", "Bjorn", "Camila", "Dario", "Elif", "Farid", "Greta", "Hugo", "Ines", "Jonas",
        "Kaja", "Luca", "Maren", "Nils", "Olga", "Pavel", "Rania", "Sven", "Tove", "Umar", "Vera",
        "Wim", "Yara", "Zofia",
    ];
    const LAST: &[&str] = &[
        "Aalto", "Berg", "Costa", "Dahl", "Eklund", "Falk", "Grieg", "Hansen", "Ibsen", "Jensen",
        "Krog", "Lind", "Moen", "Nordby", "Olsen", "Perez", "Quist", "Rask", "Strand", "Thorsen",
        "Ulven", "Vik", "Wolff", "Yilmaz", "Zeller",
    ];
    /// With their article, so a sentence never reads "a accountant".
    const ROLES: &[&str] = &[
        "a harbour pilot",
        "a shopkeeper",
        "a teacher",
        "a retired welder",
        "a nurse",
        "a ferry captain",
        "an accountant",
        "a student",
    ];
    const DISTRICTS: &[&str] = &[
        "Saltmarket",
        "Eastgate",
        "Old Town",
        "Victoria District",
        "Ashford Heights",
        "Northern Quay",
    ];
    const MONTHS: &[&str] = &[
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const AR_FIRST: &[&str] = &[
        "أمينة",
        "بلال",
        "جميلة",
        "حسن",
        "خالد",
        "دينا",
        "رامي",
        "سارة",
        "طارق",
        "ليلى",
    ];
    const AR_LAST: &[&str] = &[
        "الحداد",
        "المصري",
        "النجار",
        "الخطيب",
        "السيد",
        "العلي",
        "الشامي",
        "القاسم",
    ];
    const AR_MONTHS: &[&str] = &["يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو"];

    /// One demo file, cut into paragraphs of sentences.
    struct Source {
        stem: String,
        arabic: bool,
        paragraphs: Vec<Vec<String>>,
    }

    /// Sentences of a paragraph: cut after `.`, `!`, `?` or `؟` followed by a space.
    fn sentences(paragraph: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut current = String::new();
        let mut chars = paragraph.chars().peekable();
        while let Some(c) = chars.next() {
            current.push(c);
            let end = matches!(c, '.' | '!' | '?' | '؟')
                && chars.peek().is_none_or(|n| n.is_whitespace());
            if end {
                let s = current.trim();
                if !s.is_empty() {
                    out.push(s.to_owned());
                }
                current.clear();
            }
        }
        let s = current.trim();
        if !s.is_empty() {
            out.push(s.to_owned());
        }
        out
    }

    fn load_sources(demo: &Path) -> anyhow::Result<Vec<Source>> {
        let mut paths: Vec<_> = std::fs::read_dir(demo)
            .with_context(|| format!("cannot read {}", demo.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "txt" || e == "md"))
            .collect();
        paths.sort();
        let mut sources = Vec::new();
        for path in paths {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let paragraphs: Vec<Vec<String>> = text
                .replace("\r\n", "\n")
                .split("\n\n")
                .map(|p| {
                    p.lines()
                        .map(str::trim)
                        .filter(|l| !l.starts_with('#') && !l.starts_with('|') && !l.is_empty())
                        .map(|l| l.trim_start_matches(['-', '*', '>', ' ']))
                        .collect::<Vec<_>>()
                        .join(" ")
                        .replace("**", "")
                })
                .map(|p| sentences(&p))
                .filter(|s| s.iter().map(String::len).sum::<usize>() >= 80)
                .collect();
            if !paragraphs.is_empty() {
                sources.push(Source {
                    arabic: stem.starts_with("ar-"),
                    stem,
                    paragraphs,
                });
            }
        }
        Ok(sources)
    }

    /// Replace some numbers by nearby values (years move by at most two).
    fn vary_numbers(text: &str, rng: &mut Rng) -> String {
        let mut out = String::with_capacity(text.len() + 8);
        let mut digits = String::new();
        let flush = |digits: &mut String, out: &mut String, rng: &mut Rng| {
            if digits.is_empty() {
                return;
            }
            match digits.parse::<u64>() {
                Ok(n) if digits.len() <= 9 && rng.chance(0.4) => {
                    let varied = if (1800..=2100).contains(&n) {
                        n + rng.below(3) as u64
                    } else {
                        let pct = rng.between(80, 120) as u64;
                        (n * pct / 100).max(1)
                    };
                    out.push_str(&varied.to_string());
                }
                _ => out.push_str(digits),
            }
            digits.clear();
        };
        for c in text.chars() {
            if c.is_ascii_digit() {
                digits.push(c);
            } else {
                flush(&mut digits, &mut out, rng);
                out.push(c);
            }
        }
        flush(&mut digits, &mut out, rng);
        out
    }

    fn guest_sentence(arabic: bool, rng: &mut Rng) -> String {
        if arabic {
            format!(
                "قال {} {} إن القضية ستعود إلى المجلس في {}.",
                rng.pick(AR_FIRST),
                rng.pick(AR_LAST),
                rng.pick(AR_MONTHS)
            )
        } else {
            let name = format!("{} {}", rng.pick(FIRST), rng.pick(LAST));
            match rng.below(3) {
                0 => format!(
                    "{name}, {} in {}, said the matter would return to the council in {}.",
                    rng.pick(ROLES),
                    rng.pick(DISTRICTS),
                    rng.pick(MONTHS)
                ),
                1 => format!(
                    "According to {name}, who works as {} in {}, the figures were discussed at length.",
                    rng.pick(ROLES),
                    rng.pick(DISTRICTS)
                ),
                _ => format!(
                    "{name} told the Halvard Gazette that residents of {} had not been consulted.",
                    rng.pick(DISTRICTS)
                ),
            }
        }
    }

    /// Document `i` in the language of `pool`.
    fn document(i: usize, pool: &[&Source], arabic: bool, rng: &mut Rng) -> String {
        let primary = *rng.pick(pool);
        let mut text = String::new();
        if arabic {
            text.push_str(&format!(
                "# تقرير رقم {i}\n\nبقلم {} {}\n\n",
                rng.pick(AR_FIRST),
                rng.pick(AR_LAST)
            ));
        } else {
            let mut topic = primary.stem.replace('-', " ");
            if let Some(first) = topic.get(..1) {
                topic = first.to_uppercase() + &topic[1..];
            }
            text.push_str(&format!(
                "# {topic}: dispatch {i}\n\nBy {} {}, {} {} 2024\n\n",
                rng.pick(FIRST),
                rng.pick(LAST),
                rng.between(1, 28),
                rng.pick(MONTHS)
            ));
        }
        for _ in 0..rng.between(4, 9) {
            let source = if rng.chance(0.6) {
                primary
            } else {
                *rng.pick(pool)
            };
            let mut sentences = rng.pick(&source.paragraphs).clone();
            if sentences.len() > 2 && rng.chance(0.5) {
                let (a, b) = (rng.below(sentences.len()), rng.below(sentences.len()));
                sentences.swap(a, b);
            }
            if rng.chance(0.4) {
                let other = rng.pick(pool);
                let paragraph = rng.pick(&other.paragraphs);
                sentences.push(rng.pick(paragraph).clone());
            }
            if rng.chance(0.3) {
                let at = rng.below(sentences.len() + 1);
                sentences.insert(at, guest_sentence(arabic, rng));
            }
            text.push_str(&vary_numbers(&sentences.join(" "), rng));
            text.push_str("\n\n");
        }
        text
    }

    /// Write documents into `out` until they hold `target_chars` characters (at most
    /// `max_documents` files).
    pub fn generate(
        demo: &Path,
        out: &Path,
        target_chars: usize,
        max_documents: usize,
    ) -> anyhow::Result<CorpusStats> {
        let sources = load_sources(demo)?;
        let english: Vec<&Source> = sources.iter().filter(|s| !s.arabic).collect();
        let arabic: Vec<&Source> = sources.iter().filter(|s| s.arabic).collect();
        ensure!(
            !english.is_empty(),
            "no English .txt/.md in {}",
            demo.display()
        );
        std::fs::create_dir_all(out)?;
        let mut rng = Rng::new(CORPUS_SEED);
        let mut stats = CorpusStats {
            documents: 0,
            arabic_documents: 0,
            bytes: 0,
            chars: 0,
            source_files: sources.len(),
        };
        for i in 1..=max_documents {
            if stats.chars >= target_chars {
                break;
            }
            // About one document in twelve is Arabic, as long as the demo corpus has some.
            let is_arabic = !arabic.is_empty() && i % 12 == 5;
            let pool = if is_arabic { &arabic } else { &english };
            let text = document(i, pool, is_arabic, &mut rng);
            let name = format!("synthetic-{i:05}.md");
            std::fs::write(out.join(&name), &text)
                .with_context(|| format!("cannot write {name}"))?;
            stats.documents += 1;
            stats.arabic_documents += usize::from(is_arabic);
            stats.bytes += text.len();
            stats.chars += text.chars().count();
        }
        Ok(stats)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn sentences_split_at_terminal_punctuation_only() {
            assert_eq!(
                sentences("It cost 3.2 million. Who paid? Nobody؟ Done"),
                vec!["It cost 3.2 million.", "Who paid?", "Nobody؟", "Done"]
            );
        }

        #[test]
        fn the_generator_is_deterministic() {
            let (mut a, mut b) = (Rng::new(7), Rng::new(7));
            let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
            let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
            assert_eq!(xs, ys);
            assert_eq!(
                vary_numbers("no digits here", &mut a),
                "no digits here".to_owned()
            );
        }
    }
}

// ------------------------------------------------------------------ report

fn command_output(program: &str, args: &[&str], cwd: &Path) -> String {
    Command::new(program)
        .args(args)
        .current_dir(cwd)
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".into())
}

/// The git revision, marked when the work tree has uncommitted changes.
fn revision(root: &Path) -> String {
    let rev = command_output("git", &["rev-parse", "--short", "HEAD"], root);
    let dirty = command_output("git", &["status", "--porcelain"], root);
    if dirty.is_empty() || dirty == "unknown" {
        rev
    } else {
        format!("{rev} (with uncommitted changes)")
    }
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU".to_owned(), |(_, m)| m.trim().to_owned());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| numbers(l).first().copied())
        .unwrap_or(0.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{cpus} CPUs (nproc), {model}, {:.1} GiB RAM (MemTotal), Linux {}",
        mem_kib / 1024.0 / 1024.0,
        kernel.trim()
    )
}

/// The `[profile.release]` settings of the root `Cargo.toml`, on one line.
fn release_profile(root: &Path) -> String {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap_or_default();
    let settings: Vec<&str> = manifest
        .lines()
        .skip_while(|l| l.trim() != "[profile.release]")
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    if settings.is_empty() {
        "cargo defaults".into()
    } else {
        settings.join(", ")
    }
}

/// Now, as `YYYY-MM-DD HH:MM UTC` (days-from-civil, inverted; no date crate needed).
fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let (hh, mm) = ((secs % 86_400) / 3600, (secs % 3600) / 60);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {hh:02}:{mm:02} UTC")
}

fn mib(kib: u64) -> String {
    format!("{:.0} MiB", kib as f64 / 1024.0)
}

/// The 1-, 5- and 15-minute load averages: other work on the machine skews every figure.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" / "))
        .unwrap_or_else(|| "unknown".into())
}

fn render(
    root: &Path,
    plan: &Plan,
    date: &str,
    load: &str,
    f: &Figures,
    elapsed: Duration,
) -> anyhow::Result<String> {
    let mut md = String::new();
    let local = f
        .ingest
        .iter()
        .find(|r| r.embedder == Embedder::Local)
        .context("no local ingest result")?;
    let s = &f.serve;
    writeln!(md, "# Benchmarks")?;
    writeln!(md)?;
    writeln!(
        md,
        "Generated by `cargo xtask bench{}` — do not edit by hand; re-run the command. Every \
         figure below comes from that one run on the machine described here.",
        if plan.quick { " --quick" } else { "" }
    )?;
    writeln!(md)?;
    let failures = f.failures();
    if failures > 0 {
        writeln!(
            md,
            "> **This run FAILED: {failures} `/search` requests did not answer 200** (see the \
             Non-200 columns and \"Errors and warnings logged\"). The figures are real; the \
             product was not healthy at this revision."
        )?;
        writeln!(md)?;
    }
    writeln!(md, "| | |")?;
    writeln!(md, "|---|---|")?;
    writeln!(md, "| Date | {date} |")?;
    writeln!(md, "| Git revision | {} |", revision(root))?;
    writeln!(md, "| Machine | {} |", machine())?;
    writeln!(md, "| Load average (1 / 5 / 15 min) | {load} |")?;
    writeln!(
        md,
        "| Toolchain | {} |",
        command_output("rustc", &["--version"], root)
    )?;
    writeln!(
        md,
        "| Build | `cargo build --release --locked -p sociograph`; `[profile.release]` {} |",
        release_profile(root)
    )?;
    writeln!(
        md,
        "| Corpus | {} synthetic documents ({} Arabic), {:.2} MB, {} characters, recombined from \
         the {} `.txt`/`.md` files of `corpus/demo` (fixed seed) → {} chunks |",
        f.corpus.documents,
        f.corpus.arabic_documents,
        f.corpus.bytes as f64 / 1e6,
        f.corpus.chars,
        f.corpus.source_files,
        local.chunks
    )?;
    writeln!(
        md,
        "| Load generator | in the xtask (tokio current-thread + reqwest), same machine, \
         127.0.0.1; it shares the CPUs with the server |"
    )?;
    writeln!(
        md,
        "| Bench run time | {:.1} min (release build included) |",
        elapsed.as_secs_f64() / 60.0
    )?;
    writeln!(md)?;

    writeln!(md, "## Ingest throughput")?;
    writeln!(md)?;
    writeln!(
        md,
        "`sociograph ingest --embedder KIND --extractor offline FOLDER` into an empty data dir. \
         Wall time is process start to exit (model load, parsing, chunking, embedding, \
         extraction, SQLite writes, index save); the CLI's own figure is shown beside it."
    )?;
    writeln!(md)?;
    writeln!(
        md,
        "| Embedder | Documents | Chunks | Entity mentions | Relations | Entities stored | \
         Relations stored | Wall time (s) | CLI time (s) | Chunks/s |"
    )?;
    writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")?;
    for r in &f.ingest {
        let name = match r.embedder {
            Embedder::Hashing => "hashing (model-free, 384-d)",
            Embedder::Local => "local (all-MiniLM-L6-v2, candle, CPU)",
        };
        writeln!(
            md,
            "| {name} | {} | {} | {} | {} | {} | {} | {:.1} | {:.1} | {:.1} |",
            r.documents,
            r.chunks,
            r.entity_mentions,
            r.relations,
            r.stored_entities,
            r.stored_relations,
            r.wall_secs,
            r.cli_secs,
            r.chunks_per_sec()
        )?;
    }
    writeln!(
        md,
        "| openai (any `/v1/embeddings`) | — | — | — | — | — | — | — | — | not measured |"
    )?;
    writeln!(md)?;

    writeln!(md, "## Cold start")?;
    writeln!(md)?;
    writeln!(
        md,
        "`sociograph serve --embedder local` on the {}-chunk local data dir, from process spawn; \
         `/health` polled every 20 ms.",
        local.chunks
    )?;
    writeln!(md)?;
    writeln!(
        md,
        "| Port open (first `/health` answer) | Ready (first 200) | SIGTERM → exit (drain 0 s) |"
    )?;
    writeln!(md, "|---:|---:|---:|")?;
    writeln!(
        md,
        "| {:.2} s | {:.2} s | {:.2} s ({}) |",
        s.listening_secs, s.ready_secs, s.stop_secs, s.stop_status
    )?;
    writeln!(md)?;

    writeln!(md, "## `/search` latency and throughput")?;
    writeln!(md)?;
    writeln!(
        md,
        "`GET /search?q=…&k=10&mode=…` over 127.0.0.1, keep-alive connections, queries cycled \
         from a fixed list of {} names and phrases from the demo corpus (one in Arabic). \
         Latency is client-side, send to last body byte. Each level ran after a warm-up of one \
         request per query.",
        QUERIES.len()
    )?;
    writeln!(md)?;
    writeln!(md, "### Hybrid mode by concurrency")?;
    writeln!(md)?;
    level_table(&mut md, &s.levels)?;
    writeln!(md)?;
    writeln!(md, "### By mode at concurrency 10")?;
    writeln!(md)?;
    level_table(&mut md, &s.modes)?;
    writeln!(md)?;
    writeln!(md, "### Per query (warm-up pass, hybrid, sequential)")?;
    writeln!(md)?;
    writeln!(
        md,
        "Stage timings as the server reports them in the response (`timings`)."
    )?;
    writeln!(md)?;
    writeln!(
        md,
        "| Query | Status | Hits | Entities matched | Vector (ms) | Keyword (ms) | Graph (ms) | \
         Server total (ms) | Client (ms) |"
    )?;
    writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")?;
    for p in &s.probes {
        writeln!(
            md,
            "| {} | {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
            p.query,
            p.status,
            p.hits,
            p.matched_entities,
            p.vector_ms,
            p.keyword_ms,
            p.graph_ms,
            p.total_ms,
            p.client_ms
        )?;
    }
    writeln!(md)?;

    writeln!(md, "## Server memory")?;
    writeln!(md)?;
    writeln!(
        md,
        "From `/proc/PID/status` of the `serve` process (local embedder, {} chunks).",
        local.chunks
    )?;
    writeln!(md)?;
    writeln!(md, "| When | VmRSS | VmHWM (peak) |")?;
    writeln!(md, "|---|---:|---:|")?;
    writeln!(
        md,
        "| Ready, before any search | {} | {} |",
        mib(s.rss_ready.rss_kib),
        mib(s.rss_ready.hwm_kib)
    )?;
    writeln!(
        md,
        "| After all load levels | {} | {} |",
        mib(s.rss_after_load.rss_kib),
        mib(s.rss_after_load.hwm_kib)
    )?;
    writeln!(md)?;

    tracing_cost::render(&mut md, &f.tracing)?;

    writeln!(md, "## ANN recall@{RECALL_K}")?;
    writeln!(md)?;
    writeln!(
        md,
        "`Store::vector_search` (usearch HNSW, cosine) against `Store::exact_vector_search` \
         (brute force) on the stopped data dirs; {RECALL_QUERIES} stored chunk embeddings, evenly \
         spaced by id, as queries. \"Tie-aware\" also accepts an ANN hit whose exact similarity \
         equals the exact {RECALL_K}th (duplicate chunks). Target: ≥ {RECALL_TARGET}."
    )?;
    writeln!(md)?;
    writeln!(
        md,
        "| Embedder (stored id) | Vectors | Queries | Mean recall@{RECALL_K} | Tie-aware | \
         Worst query | Queries < 1.0 | Target met |"
    )?;
    writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---|")?;
    for r in &f.recall {
        writeln!(
            md,
            "| `{}` | {} | {} | {:.4} | {:.4} | {:.2} | {} | {} |",
            r.embedder_id,
            r.vectors,
            r.queries,
            r.mean_strict,
            r.mean_tie_aware,
            r.min_strict,
            r.imperfect,
            if r.mean_strict >= RECALL_TARGET {
                "yes"
            } else {
                "**no**"
            }
        )?;
    }
    writeln!(md)?;

    writeln!(md, "## Errors and warnings logged")?;
    writeln!(md)?;
    if f.problems.is_empty() {
        writeln!(
            md,
            "None: no ERROR or WARN line in the logs of the two ingests and the server."
        )?;
    } else {
        writeln!(md, "| Process | Level | Message | Count |")?;
        writeln!(md, "|---|---|---|---:|")?;
        for p in &f.problems {
            writeln!(
                md,
                "| {} | {} | {} | {} |",
                p.process,
                p.level,
                p.message.replace('|', "\\|"),
                p.count
            )?;
        }
    }
    writeln!(md)?;

    writeln!(md, "## Not measured here")?;
    writeln!(md)?;
    writeln!(
        md,
        "- **`openai` embedder ingest**: it calls a remote `/v1/embeddings` provider, so its \
         throughput is bound by the network and the provider's limits, not by this code; no \
         provider is reachable from the bench machine, and a made-up figure would mislead."
    )?;
    writeln!(
        md,
        "- **`llm` extractor and `/api/qa/ask` answers**: they need a live chat model; their \
         cost is LLM latency and tokens."
    )?;
    writeln!(
        md,
        "- **GPU**: none on this machine; the local embedder ran on the CPU."
    )?;
    writeln!(
        md,
        "- **Network hops, TLS, a load balancer**: everything ran on 127.0.0.1 with the load \
         generator on the same {} CPUs as the server, so req/s is a lower bound for a server \
         with the machine to itself, and latencies include client-side scheduling.",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    )?;
    writeln!(md)?;

    writeln!(md, "## How to reproduce")?;
    writeln!(md)?;
    writeln!(md, "```sh")?;
    writeln!(
        md,
        "cargo xtask bench          # full run: ~10k chunks; rewrites this file"
    )?;
    writeln!(
        md,
        "cargo xtask bench --quick  # smoke run: ~1k chunks; writes <target>/xtask-bench/BENCHMARKS.quick.md"
    )?;
    writeln!(md, "```")?;
    writeln!(md)?;
    writeln!(
        md,
        "It fetches the model (`scripts/fetch-model.sh`), builds the release binary, and works in \
         a temporary directory that it deletes afterwards (`--keep` keeps it). Any non-200 \
         `/search` answer fails the run (non-zero exit status) and is flagged at the top of the \
         report."
    )?;
    Ok(md)
}

fn level_table(md: &mut String, levels: &[LevelResult]) -> anyhow::Result<()> {
    writeln!(
        md,
        "| Mode | Concurrency | Requests | p50 (ms) | p95 (ms) | p99 (ms) | Max (ms) | Req/s | Non-200 |"
    )?;
    writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|---|")?;
    for l in levels {
        let requests = if l.completed() == l.planned {
            l.completed().to_string()
        } else {
            format!("{} of {}", l.completed(), l.planned)
        };
        writeln!(
            md,
            "| {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {} |",
            l.mode,
            l.concurrency,
            requests,
            l.percentile(50.0),
            l.percentile(95.0),
            l.percentile(99.0),
            l.percentile(100.0),
            l.rps(),
            l.non_200_text()
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ingest_summary_is_parsed() -> anyhow::Result<()> {
        let text = "ingested 12 documents (0 already present, 0 failed): 340 chunks, 2100 entity \
                    mentions, 512 relations in 3.5s\n\
                    data directory /tmp/x-1/data now holds 12 documents, 340 chunks, 410 entities, \
                    300 relations\n";
        let r = parse_ingest_summary(text, Embedder::Hashing, 4.0)?;
        assert_eq!((r.documents, r.chunks, r.relations), (12, 340, 512));
        assert_eq!((r.stored_entities, r.stored_relations), (410, 300));
        assert!((r.cli_secs - 3.5).abs() < 1e-9);
        Ok(())
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let level = LevelResult {
            mode: "hybrid",
            concurrency: 1,
            planned: 100,
            latencies_ms: (1..=100).map(f64::from).collect(),
            non_200: BTreeMap::new(),
            transport_errors: 0,
            wall_secs: 1.0,
            truncated: false,
        };
        assert_eq!(level.percentile(50.0), 50.0);
        assert_eq!(level.percentile(99.0), 99.0);
        assert_eq!(level.percentile(100.0), 100.0);
        assert_eq!(level.failures(), 0);
    }

    #[test]
    fn utc_now_is_well_formed() {
        let now = utc_now();
        assert_eq!(now.len(), "2025-01-01 00:00 UTC".len());
        assert!(now.starts_with("20"));
    }
}
