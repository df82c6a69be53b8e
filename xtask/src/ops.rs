//! `cargo xtask ops-check`: the operations code is checked with the real tools, and every
//! dashboard query is evaluated against a real Prometheus that scraped a real `sociograph`.
//!
//! 1. `ops/check-alerting.sh`: `promtool check config`, `promtool check rules`, `promtool test
//!    rules`, `amtool check-config`, the Alertmanager route tests;
//! 2. `ops/grafana/check_dashboards.py`: dashboard JSON (parse, unique uids, the datasource
//!    variable on every panel);
//! 3. `shellcheck` on every tracked shell script (setup, the blue-green switch, the checks);
//! 4. live: the release binary as blue and green on copies of the demo corpus, answering through
//!    a local OpenAI-compatible stand-in (`tools/llm_standin.py`); Debian's Prometheus runs
//!    `ops/prometheus/` (copied, with only the scrape interval, timeout and evaluation interval
//!    shortened and the targets pointed at this run); a bounded load drives every kind of
//!    request; then every dashboard query and every recording rule is evaluated. Each must
//!    return data; GPU panels are excepted only when the service reports no GPU, and are listed
//!    as such.
//!
//! Everything binds 127.0.0.1 and every child is owned by a guard.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};

use crate::proc::run_bounded;
use crate::stack::{Shutdown, Stack};

/// How long the load runs: enough scrapes for every `rate(…[1m])`.
const LOAD_FOR: Duration = Duration::from_secs(40);

fn step(what: &str) {
    eprintln!("xtask: ops-check: == {what}");
}

/// Returns the one-line summary of the dashboard check (for the Phase 9 validation report).
pub fn run(root: &Path) -> anyhow::Result<String> {
    let started = Instant::now();
    step("alerting rules and Alertmanager config (promtool, amtool)");
    run_bounded(
        Command::new("bash")
            .arg("ops/check-alerting.sh")
            .current_dir(root),
        Duration::from_secs(300),
        None,
    )?;
    step("dashboard JSON");
    run_bounded(
        Command::new("python3")
            .arg("ops/grafana/check_dashboards.py")
            .current_dir(root),
        Duration::from_secs(60),
        None,
    )?;
    step("shell scripts (shellcheck)");
    let listed = Command::new("git")
        .args(["ls-files", "*.sh"])
        .current_dir(root)
        .output()
        .context("cannot run git ls-files")?;
    ensure!(listed.status.success(), "git ls-files failed");
    let scripts: Vec<String> = String::from_utf8(listed.stdout)?
        .lines()
        .map(str::to_owned)
        .collect();
    ensure!(!scripts.is_empty(), "no shell scripts found");
    run_bounded(
        Command::new("shellcheck").args(&scripts).current_dir(root),
        Duration::from_secs(120),
        None,
    )?;
    let summary = live(root)?;
    eprintln!(
        "xtask: ops-check passed in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    Ok(summary)
}

/// One dashboard query, as listed by `check_dashboards.py --list-queries --gpu-column`.
struct PanelQuery {
    dashboard: String,
    panel: String,
    expr: String,
    gpu: bool,
}

fn panel_queries(root: &Path) -> anyhow::Result<Vec<PanelQuery>> {
    let out = Command::new("python3")
        .args([
            "ops/grafana/check_dashboards.py",
            "--list-queries",
            "--gpu-column",
        ])
        .current_dir(root)
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run check_dashboards.py")?;
    ensure!(
        out.status.success(),
        "check_dashboards.py --list-queries failed"
    );
    let text = String::from_utf8(out.stdout)?;
    let mut queries = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [dashboard, panel, expr, gpu] = fields.as_slice() else {
            bail!("unexpected --list-queries line: {line:?}");
        };
        queries.push(PanelQuery {
            dashboard: (*dashboard).to_owned(),
            panel: (*panel).to_owned(),
            expr: (*expr).to_owned(),
            gpu: *gpu == "gpu",
        });
    }
    ensure!(!queries.is_empty(), "no dashboard queries listed");
    Ok(queries)
}

/// Every `record:` name in the recording rule files.
fn recording_rules(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(root.join("ops/prometheus/rules"))? {
        let text = std::fs::read_to_string(entry?.path())?;
        names.extend(
            text.lines()
                .filter_map(|l| l.trim().strip_prefix("- record:"))
                .map(|n| n.trim().trim_matches('"').to_owned()),
        );
    }
    names.sort();
    names.dedup();
    ensure!(!names.is_empty(), "no recording rules found");
    Ok(names)
}

fn live(root: &Path) -> anyhow::Result<String> {
    let mut stack = Stack::start(root, "sociograph-ops-", &["blue", "green"], Shutdown::Quick)?;
    stack.start_prometheus(root, None, |_| Ok(()))?;

    step(&format!("load for {}s on both colors", LOAD_FOR.as_secs()));
    let bases: Vec<String> = stack.servers.iter().map(|(_, s)| s.base.clone()).collect();
    let requests = stack
        .runtime
        .block_on(drive_load(&stack.client, &bases, LOAD_FOR))?;
    eprintln!("xtask: ops-check: {requests} requests sent");
    // Two more scrapes and rule evaluations after the load.
    std::thread::sleep(Duration::from_secs(5));

    step("evaluate every dashboard query and recording rule");
    let gpu_available = stack.query("max(sociograph_gpu_available)")?;
    let no_gpu = gpu_available.iter().all(|v| *v == 0.0);
    let mut empty = Vec::new();
    let mut excepted = Vec::new();
    let queries = panel_queries(root)?;
    for q in &queries {
        let values = stack.query(&q.expr)?;
        if !values.is_empty() {
            continue;
        }
        let what = format!("{} / {}: {}", q.dashboard, q.panel, q.expr);
        if q.gpu && no_gpu {
            excepted.push(what);
        } else {
            empty.push(what);
        }
    }
    let rules = recording_rules(root)?;
    for rule in &rules {
        if stack.query(rule)?.is_empty() {
            empty.push(format!("recording rule {rule}"));
        }
    }
    let summary = format!(
        "{requests} requests on blue and green, then {} dashboard queries and {} recording rules \
         evaluated by Prometheus: {} with data, {} GPU queries excepted (no GPU on this machine), {} empty",
        queries.len(),
        rules.len(),
        queries.len() + rules.len() - empty.len() - excepted.len(),
        excepted.len(),
        empty.len()
    );
    eprintln!("xtask: ops-check: {summary}");
    for e in &excepted {
        eprintln!("xtask: ops-check:   excepted (no GPU): {e}");
    }
    for e in &empty {
        eprintln!("xtask: ops-check:   EMPTY: {e}");
    }
    stack.stop()?;
    ensure!(
        empty.is_empty(),
        "{} dashboard queries or recording rules returned no data (see above)",
        empty.len(),
    );
    Ok(summary)
}

/// Every kind of request, round-robin over the colors, until `duration` has passed; returns
/// how many were sent. Each must answer with its expected status.
async fn drive_load(
    client: &reqwest::Client,
    bases: &[String],
    duration: Duration,
) -> anyhow::Result<usize> {
    let started = Instant::now();
    let mut sent = 0;
    let mut round = 0usize;
    while started.elapsed() < duration {
        for base in bases {
            let ask = serde_json::json!({"query": "Who funded the demolition of the Saltmarket Fish Hall?"});
            let checks: Vec<(reqwest::RequestBuilder, u16)> = vec![
                (
                    client.get(format!("{base}/search?q=Harbour+Trust&mode=hybrid")),
                    200,
                ),
                (
                    client.get(format!("{base}/search?q=Valtersen&mode=keyword")),
                    200,
                ),
                (client.post(format!("{base}/api/qa/ask")).json(&ask), 200),
                (
                    client.post(format!("{base}/api/qa/ask/stream")).json(&ask),
                    200,
                ),
                (client.get(format!("{base}/api/graph/stats")), 200),
                (client.get(format!("{base}/api/documents")), 200),
                (client.get(format!("{base}/search?q=")), 400),
                (client.get(format!("{base}/no-such-route")), 404),
            ];
            for (request, expected) in checks {
                let response = request.send().await?;
                let status = response.status().as_u16();
                let _ = response.bytes().await?;
                ensure!(status == expected, "expected {expected}, got {status}");
                sent += 1;
            }
            if round.is_multiple_of(5) {
                // A small new document now and then, so the ingest series move.
                let text =
                    format!("Ops check note {round}: Anna Berg met Carl Dahl at the harbour.");
                let part = reqwest::multipart::Part::bytes(text.into_bytes())
                    .file_name(format!("ops-note-{round}.txt"));
                let form = reqwest::multipart::Form::new().part("file", part);
                let response = client
                    .post(format!("{base}/api/documents"))
                    .multipart(form)
                    .send()
                    .await?;
                ensure!(
                    response.status().as_u16() == 202,
                    "upload answered {}",
                    response.status()
                );
                sent += 1;
            }
        }
        round += 1;
    }
    Ok(sent)
}
