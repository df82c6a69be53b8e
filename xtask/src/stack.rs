//! A local monitoring stack for `ops-check` and the fire drill: the release binary serving the
//! demo corpus as one or more colors, answering through the LLM stand-in
//! (`tools/llm_standin.py`), and Debian's Prometheus running a copy of `ops/prometheus/`.
//!
//! The copy changes only what a local run must: the scrape interval, timeout and evaluation
//! interval (`INTERVAL`), the targets, and the Alertmanager address; each rewrite must match the
//! real file exactly once, so a change in the real file's shape fails loudly instead of leaving
//! the copy half-rewritten. Every process binds 127.0.0.1 and is owned by a guard.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};

use crate::proc::{
    ChildGuard, Served, build_release, free_port, log_tail, run_bounded, sociograph,
};

/// Scrape and rule evaluation interval of local runs (the real files say 15s).
pub(crate) const INTERVAL: &str = "2s";

pub(crate) struct Stack {
    pub(crate) work: tempfile::TempDir,
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
        let mut llm = ChildGuard::spawn(
            Command::new("python3")
                .arg(root.join("tools/llm_standin.py"))
                .arg(llm_port.to_string())
                .stdout(std::fs::File::create(dir.join("llm.log"))?)
                .stderr(Stdio::inherit()),
            "llm stand-in",
        )?;

        step("ingest corpus/demo");
        let first = dir.join("data-0");
        let mut ingest = sociograph(&bin, &dir);
        ingest
            .arg("ingest")
            .arg("--data-dir")
            .arg(&first)
            .args(["--embedder", "local", "--model-dir"])
            .arg(&model_dir)
            .arg(root.join("corpus/demo"));
        run_bounded(
            &mut ingest,
            Duration::from_secs(900),
            Some(&dir.join("ingest.log")),
        )?;

        step(&format!("serve {}", colors.join(" and ")));
        let llm_base = format!("http://127.0.0.1:{llm_port}");
        let mut servers = Vec::new();
        for (i, color) in colors.iter().enumerate() {
            let data: PathBuf = if i == 0 {
                first.clone()
            } else {
                let copy = dir.join(format!("data-{i}"));
                copy_dir(&first, &copy)?;
                copy
            };
            let mut cmd = sociograph(&bin, &dir);
            cmd.arg("serve")
                .arg("--data-dir")
                .arg(&data)
                .args(["--color", color, "--embedder", "local", "--model-dir"])
                .arg(&model_dir)
                .env("SOCIOGRAPH_LLM_BASE_URL", format!("{llm_base}/v1"))
                .env("SOCIOGRAPH__LLM__ANSWER_MODEL", "gpt-4o-mini");
            let log = dir.join(format!("serve-{color}.log"));
            servers.push((
                *color,
                Served::start(&mut cmd, &log, &format!("sociograph serve ({color})"))?,
            ));
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()?;
        for (_, server) in &mut servers {
            server.wait_ready(&runtime, &client, Duration::from_secs(300))?;
        }
        ensure!(
            llm.try_wait()?.is_none(),
            "the LLM stand-in exited early (see {})",
            dir.join("llm.log").display()
        );
        Ok(Stack {
            work,
            runtime,
            client,
            llm_base,
            llm,
            servers,
            prometheus: None,
            prom_base: String::new(),
        })
    }

    pub(crate) fn dir(&self) -> &Path {
        self.work.path()
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
        for (_, server) in &mut self.servers {
            server.stop(Duration::from_secs(30))?;
        }
        ensure!(
            self.llm.try_wait()?.is_none(),
            "the LLM stand-in died during the run"
        );
        Ok(())
    }
}
