//! A local monitoring stack for `ops-check` and the fire drill: the release binary serving the
//! demo corpus as one or more colors, answering through the LLM stand-in
//! (`tools/llm_standin.py`), and Debian's Prometheus running a copy of `ops/prometheus/`.
//!
//! The copy changes only what a local run must: the scrape interval, timeout and evaluation
//! interval (`INTERVAL`), the targets, and the Alertmanager address; each rewrite must match the
//! real file exactly once, so a change in the real file's shape fails loudly instead of leaving
//! the copy half-rewritten. Every process binds 127.0.0.1 and is owned by a guard.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};

use crate::proc::{
    ChildGuard, Served, build_release, free_port, ingest_demo, log_tail, sociograph,
};

/// Scrape and rule evaluation interval of local runs (the real files say 15s).
pub(crate) const INTERVAL: &str = "2s";

/// How the stack's servers shut down.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shutdown {
    /// No drain period: checks that only need the service up stop in a moment.
    Quick,
    /// The service's own defaults, unchanged (the blue-green drill).
    Production,
}

pub(crate) struct Stack {
    pub(crate) work: tempfile::TempDir,
    bin: PathBuf,
    model_dir: PathBuf,
    shutdown: Shutdown,
    pub(crate) runtime: tokio::runtime::Runtime,
    pub(crate) client: reqwest::Client,
    pub(crate) llm_base: String,
    llm: ChildGuard,
    /// (color, server), in the order given to [`Stack::start`].
    pub(crate) servers: Vec<(&'static str, Served)>,
    prometheus: Option<ChildGuard>,
    pub(crate) prom_base: String,
}

fn step(what: &str) {
    eprintln!("xtask: stack: == {what}");
}

/// Replace `from` by `to` exactly `count` times, or fail: the real file changed shape.
pub(crate) fn rewrite(text: &str, from: &str, to: &str, count: usize) -> anyhow::Result<String> {
    let found = text.matches(from).count();
    ensure!(
        found == count,
        "expected {count} × {from:?} in the file being rewritten, found {found}"
    );
    Ok(text.replace(from, to))
}

pub(crate) fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

impl Stack {
    /// Build the release binary, start the LLM stand-in, ingest `corpus/demo` once, and serve a
    /// copy of it per color; returns when every color answers 200 on `/health`.
    pub(crate) fn start(
        root: &Path,
        prefix: &str,
        colors: &[&'static str],
        shutdown: Shutdown,
    ) -> anyhow::Result<Stack> {
        step("build the release binary");
        let bin = build_release(root)?;
        let work = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir()
            .context("cannot create a work directory")?;
        let dir = work.path().to_path_buf();
        let model_dir = root.join("models/all-MiniLM-L6-v2");

        step("LLM stand-in");
        let llm_port = free_port()?;
        let llm = ChildGuard::spawn(
            Command::new("python3")
                .arg(root.join("tools/llm_standin.py"))
                .arg(llm_port.to_string())
                .stdout(std::fs::File::create(dir.join("llm.log"))?)
                .stderr(Stdio::inherit()),
            "llm stand-in",
        )?;

        step("ingest corpus/demo");
        let first = dir.join("data-0");
        ingest_demo(
            sociograph(&bin, &dir),
            root,
            &first,
            &dir.join("ingest.log"),
        )?;

        for (i, _) in colors.iter().enumerate().skip(1) {
            copy_dir(&first, &dir.join(format!("data-{i}")))?;
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()?;
        let mut stack = Stack {
            work,
            bin,
            model_dir,
            shutdown,
            runtime,
            client,
            llm_base: format!("http://127.0.0.1:{llm_port}"),
            llm,
            servers: Vec::new(),
            prometheus: None,
            prom_base: String::new(),
        };
        step(&format!("serve {}", colors.join(" and ")));
        for (i, color) in colors.iter().enumerate() {
            let server = stack.launch(color, i, free_port()?)?;
            stack.servers.push((*color, server));
        }
        for (_, server) in &mut stack.servers {
            server.wait_ready(&stack.runtime, &stack.client, Duration::from_secs(300))?;
        }
        ensure!(
            stack.llm.try_wait()?.is_none(),
            "the LLM stand-in exited early (see {})",
            dir.join("llm.log").display()
        );
        Ok(stack)
    }

    /// Start `sociograph serve` for the `index`-th color on `port`, on that color's own copy of
    /// the data, answering through the LLM stand-in. Does not wait for it to be ready.
    fn launch(&self, color: &'static str, index: usize, port: u16) -> anyhow::Result<Served> {
        let dir = self.dir();
        let mut cmd = sociograph(&self.bin, dir);
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(dir.join(format!("data-{index}")))
            .args(["--color", color, "--embedder", "local", "--model-dir"])
            .arg(&self.model_dir)
            .env("SOCIOGRAPH_LLM_BASE_URL", format!("{}/v1", self.llm_base))
            .env("SOCIOGRAPH__LLM__ANSWER_MODEL", "gpt-4o-mini");
        if self.shutdown == Shutdown::Quick {
            cmd.env("SOCIOGRAPH__SERVER__DRAIN_SECS", "0");
        }
        let log = dir.join(format!("serve-{color}.log"));
        Served::start_at(&mut cmd, &log, &format!("sociograph serve ({color})"), port)
    }

    fn index_of(&self, color: &str) -> anyhow::Result<usize> {
        self.servers
            .iter()
            .position(|(c, _)| *c == color)
            .with_context(|| format!("no {color} server in this stack"))
    }

    /// The server of `color`.
    pub(crate) fn server(&mut self, color: &str) -> anyhow::Result<&mut Served> {
        let i = self.index_of(color)?;
        Ok(&mut self.servers[i].1)
    }

    /// Start `color` again on its port (after it was stopped or killed) and wait until ready.
    pub(crate) fn relaunch(&mut self, color: &'static str) -> anyhow::Result<()> {
        let i = self.index_of(color)?;
        let port = self.servers[i].1.port();
        let mut server = self.launch(color, i, port)?;
        server.wait_ready(&self.runtime, &self.client, Duration::from_secs(300))?;
        self.servers[i].1 = server;
        Ok(())
    }

    pub(crate) fn dir(&self) -> &Path {
        self.work.path()
    }

    /// A `sociograph` command for this stack's binary, run in its work directory.
    pub(crate) fn command(&self) -> Command {
        sociograph(&self.bin, self.dir())
    }

    /// The data directory of the `index`-th color.
    pub(crate) fn data_dir(&self, index: usize) -> PathBuf {
        self.dir().join(format!("data-{index}"))
    }

    /// Start Prometheus on a copy of `ops/prometheus/` scraping this stack's servers, sending
    /// alerts to `alertmanager` (a port) if given; `adjust` may rewrite files in the copy (the
    /// drill's shortened latency rule) before it starts. Returns once every server is scraped.
    pub(crate) fn start_prometheus(
        &mut self,
        root: &Path,
        alertmanager: Option<u16>,
        adjust: impl FnOnce(&Path) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        step("Prometheus with ops/prometheus");
        let prom_dir = self.dir().join("prometheus");
        copy_dir(&root.join("ops/prometheus"), &prom_dir)?;
        let port = free_port()?;
        let mut config = std::fs::read_to_string(prom_dir.join("prometheus.yml"))?;
        for (from, to) in [
            (
                "scrape_interval: 15s",
                format!("scrape_interval: {INTERVAL}"),
            ),
            ("scrape_timeout: 10s", format!("scrape_timeout: {INTERVAL}")),
            (
                "evaluation_interval: 15s",
                format!("evaluation_interval: {INTERVAL}"),
            ),
            (
                "targets: [\"127.0.0.1:9090\"]",
                format!("targets: [\"127.0.0.1:{port}\"]"),
            ),
        ] {
            config = rewrite(&config, from, &to, 1)?;
        }
        if let Some(am) = alertmanager {
            config = rewrite(
                &config,
                "targets: [\"127.0.0.1:9093\"]",
                &format!("targets: [\"127.0.0.1:{am}\"]"),
                1,
            )?;
        }
        std::fs::write(prom_dir.join("prometheus.yml"), config)?;
        let targets: String = self
            .servers
            .iter()
            .map(|(color, server)| {
                format!(
                    "- targets: [\"{}\"]\n  labels:\n    color: {color}\n",
                    server.base.trim_start_matches("http://")
                )
            })
            .collect();
        std::fs::write(prom_dir.join("targets/sociograph.yml"), targets)?;
        adjust(&prom_dir)?;

        let log = self.dir().join("prometheus.log");
        let out = std::fs::File::create(&log)?;
        let mut prometheus = ChildGuard::spawn(
            Command::new("prometheus")
                .arg(format!(
                    "--config.file={}",
                    prom_dir.join("prometheus.yml").display()
                ))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    self.dir().join("tsdb").display()
                ))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .stdout(out.try_clone()?)
                .stderr(out),
            "prometheus",
        )?;
        self.prom_base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        let n = self.servers.len();
        loop {
            if let Some(status) = prometheus.try_wait()? {
                bail!("Prometheus exited with {status}{}", log_tail(&log));
            }
            let up = self
                .query("sum(up{job=\"sociograph\"})")
                .unwrap_or_default();
            if up.first().is_some_and(|v| *v as usize == n) {
                break;
            }
            ensure!(
                Instant::now() < deadline,
                "Prometheus did not scrape {n} healthy sociograph targets within 60s{}",
                log_tail(&log)
            );
            std::thread::sleep(Duration::from_millis(500));
        }
        self.prometheus = Some(prometheus);
        Ok(())
    }

    /// The values of an instant query (empty when it returned no series).
    pub(crate) fn query(&self, expr: &str) -> anyhow::Result<Vec<f64>> {
        let body: serde_json::Value = self.runtime.block_on(async {
            self.client
                .get(format!("{}/api/v1/query", self.prom_base))
                .query(&[("query", expr)])
                .send()
                .await
                .with_context(|| format!("query {expr:?}"))?
                .json()
                .await
                .context("Prometheus answered something other than JSON")
        })?;
        ensure!(
            body["status"] == "success",
            "Prometheus rejected {expr:?}: {}",
            body["error"]
        );
        let result = &body["data"]["result"];
        Ok(match body["data"]["resultType"].as_str() {
            Some("vector") => result
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s["value"][1].as_str()?.parse().ok())
                .collect(),
            Some("scalar") => result[1]
                .as_str()
                .and_then(|v| v.parse().ok())
                .into_iter()
                .collect(),
            other => bail!("unexpected result type {other:?} for {expr:?}"),
        })
    }

    /// Stop every server with SIGTERM and require clean exits; the rest is killed on drop.
    pub(crate) fn stop(&mut self) -> anyhow::Result<()> {
        for (_, server) in self.servers.iter_mut().filter(|(_, s)| !s.exited()) {
            server.stop(Duration::from_secs(30))?;
        }
        ensure!(
            self.llm.try_wait()?.is_none(),
            "the LLM stand-in died during the run"
        );
        Ok(())
    }
}

impl Stack {
    /// Make every completion of the LLM stand-in wait `seconds` first.
    pub(crate) fn set_llm_delay(&self, seconds: f64) -> anyhow::Result<()> {
        let url = format!("{}/admin/delay", self.llm_base);
        let status = self.runtime.block_on(async {
            self.client
                .post(&url)
                .json(&serde_json::json!({ "seconds": seconds }))
                .send()
                .await
                .map(|r| r.status())
        })?;
        ensure!(status.is_success(), "{url} answered {status}");
        Ok(())
    }
}

/// What a question load saw.
#[derive(Default, Debug)]
pub(crate) struct Tally {
    pub(crate) sent: usize,
    pub(crate) ok: usize,
    /// Failures by kind (`502 Bad Gateway`, `connection error`, …).
    pub(crate) failures: BTreeMap<String, usize>,
    /// Successful answers by the color that gave them (`x-sociograph-color`).
    pub(crate) by_color: BTreeMap<String, usize>,
}

impl Tally {
    pub(crate) fn failed(&self) -> usize {
        self.sent - self.ok
    }
}

/// A few askers sending `POST /api/qa/ask` to `base` one after another until stopped.
///
/// The load has its own thread, runtime and client: a pooled connection belongs to the runtime
/// that opened it, and the main thread's runtime is idle between its own calls, so sharing the
/// stack's client would leave a request waiting on a connection nobody drives.
pub(crate) struct AskLoad {
    stop: Arc<AtomicBool>,
    tally: Arc<Mutex<Tally>>,
    thread: std::thread::JoinHandle<()>,
}

impl AskLoad {
    pub(crate) fn start(base: String, askers: usize) -> AskLoad {
        let stop = Arc::new(AtomicBool::new(false));
        let tally = Arc::new(Mutex::new(Tally::default()));
        let thread = {
            let (stop, tally) = (stop.clone(), tally.clone());
            std::thread::spawn(move || ask_load(base, askers, stop, tally))
        };
        AskLoad {
            stop,
            tally,
            thread,
        }
    }

    /// Stop asking, wait for the questions in flight, and return what was seen.
    pub(crate) fn stop(self) -> Tally {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.thread.join();
        std::mem::take(&mut *self.tally.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

fn ask_load(base: String, askers: usize, stop: Arc<AtomicBool>, tally: Arc<Mutex<Tally>>) {
    let record = move |outcome: Result<String, String>| {
        let mut t = tally.lock().unwrap_or_else(|e| e.into_inner());
        t.sent += 1;
        match outcome {
            Ok(color) => {
                t.ok += 1;
                *t.by_color.entry(color).or_default() += 1;
            }
            Err(kind) => {
                if t.failures.values().sum::<usize>() < 5 {
                    eprintln!("xtask: a question failed: {kind}");
                }
                *t.failures.entry(kind).or_default() += 1;
            }
        }
    };
    let built = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
        .and_then(|runtime| {
            reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(30))
                .build()
                .map(|client| (runtime, client))
                .map_err(|e| e.to_string())
        });
    let (runtime, client) = match built {
        Ok(pair) => pair,
        Err(e) => {
            record(Err(format!("cannot start the load: {e}")));
            return;
        }
    };
    let record = Arc::new(record);
    runtime.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..askers {
            let (client, base, stop, record) =
                (client.clone(), base.clone(), stop.clone(), record.clone());
            tasks.push(tokio::spawn(async move {
                let body = serde_json::json!({"query": "Who funded the demolition of the Saltmarket Fish Hall?"});
                while !stop.load(Ordering::SeqCst) {
                    let answer = client
                        .post(format!("{base}/api/qa/ask"))
                        .json(&body)
                        .send()
                        .await;
                    record(match answer {
                        Ok(r) if r.status().is_success() => Ok(r
                            .headers()
                            .get("x-sociograph-color")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("unknown")
                            .to_owned()),
                        Ok(r) => Err(r.status().to_string()),
                        Err(e) if e.is_connect() => Err("connection refused".to_owned()),
                        Err(e) if e.is_timeout() => Err("timed out".to_owned()),
                        Err(_) => Err("connection closed before the answer".to_owned()),
                    });
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }));
        }
        for task in tasks {
            let _ = task.await;
        }
    });
}
