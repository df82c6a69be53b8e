//! `cargo xtask drill fire [--full]`: the fire drill for `SociographApiLatencyHigh` (Phase 9, O-9.5:
//! a Slack alert when p95 latency stays above 500 ms for 5 minutes).
//!
//! The real parts: the release binary serving the demo corpus, Debian's Prometheus running
//! `ops/prometheus/`, Debian's Alertmanager running `ops/alertmanager/alertmanager.yml`, whose
//! Slack webhook URL file points at a capture server on 127.0.0.1 (`tools/slack_capture.py`).
//! The stand-in: the LLM (`tools/llm_standin.py`), whose latency the drill turns up and down.
//!
//! 1. steady load on `POST /api/qa/ask` with a fast model: the alert must stay quiet;
//! 2. the model becomes slow (0.8 s a call): p95 climbs past 500 ms, and the Slack payload for
//!    `SociographApiLatencyHigh` must arrive, firing;
//! 3. the model recovers: the same alert must arrive again, resolved.
//!
//! By default (CI) the latency rule is generated from the real `alerts/latency.yaml` with only
//! `for: 5m` and the `[5m]` windows shortened to `SHORT`; `--full` uses the real file unchanged
//! (about 15 minutes). Alertmanager's config is the real file with only the webhook URL file's
//! path changed. The drill saves the captured payloads under `docs/drills/` and a screenshot of
//! Prometheus's own graph of the p95 under `docs/img/drill-p95.png`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};

use crate::proc::{ChildGuard, free_port, log_tail};
use crate::stack::{AskLoad, Shutdown, Stack, rewrite};

const ALERT: &str = "SociographApiLatencyHigh";
/// The drill's `for` and rate window in CI mode.
const SHORT: &str = "20s";
/// How slow the model becomes: well past the 500 ms threshold, on a route whose fast answers
/// take tens of milliseconds.
const SLOW_SECONDS: f64 = 0.8;
/// Concurrent askers during the drill.
const ASKERS: usize = 4;
/// The p95 the alert evaluates, for the report and the screenshot.
const P95: &str = "histogram_quantile(0.95, sum by (le) (rate(http_server_request_duration_seconds_bucket{job=\"sociograph\", http_route=\"/api/qa/ask\"}[1m])))";

fn step(what: &str) {
    eprintln!("xtask: drill: == {what}");
}

pub fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let full = match args {
        [] => false,
        [flag] if flag == "--full" => true,
        _ => bail!("usage: cargo xtask drill fire [--full]"),
    };
    let started = Instant::now();
    let mut stack = Stack::start(root, "sociograph-drill-", &["blue"], Shutdown::Quick)?;
    let dir = stack.dir().to_path_buf();

    step("Slack capture server and Alertmanager");
    let capture_port = free_port()?;
    let captured_file = dir.join("slack.jsonl");
    let _capture = ChildGuard::spawn(
        Command::new("python3")
            .arg(root.join("tools/slack_capture.py"))
            .arg(capture_port.to_string())
            .arg(&captured_file)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit()),
        "slack capture",
    )?;
    let url_file = dir.join("slack_webhook_url");
    std::fs::write(
        &url_file,
        format!("http://127.0.0.1:{capture_port}/services/drill"),
    )?;
    let real = std::fs::read_to_string(root.join("ops/alertmanager/alertmanager.yml"))?;
    let am_config = dir.join("alertmanager.yml");
    std::fs::write(
        &am_config,
        rewrite(
            &real,
            "slack_api_url_file: /etc/alertmanager/slack_webhook_url",
            &format!("slack_api_url_file: {}", url_file.display()),
            1,
        )?,
    )?;
    let am_port = free_port()?;
    let am_log = dir.join("alertmanager.log");
    let am_out = std::fs::File::create(&am_log)?;
    // Alertmanager first, so Prometheus's first alerts are not lost to a connection refusal.
    let mut alertmanager = ChildGuard::spawn(
        Command::new("prometheus-alertmanager")
            .arg(format!("--config.file={}", am_config.display()))
            .arg(format!("--storage.path={}", dir.join("am-data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{am_port}"))
            .arg("--cluster.listen-address=")
            .stdout(am_out.try_clone()?)
            .stderr(am_out),
        "alertmanager",
    )?;
    wait_http_ok(
        &stack,
        &format!("http://127.0.0.1:{am_port}/-/ready"),
        &mut alertmanager,
    )
    .with_context(|| format!("Alertmanager did not start{}", log_tail(&am_log)))?;

    stack.start_prometheus(root, Some(am_port), |prom_dir| {
        if full {
            return Ok(());
        }
        let path = prom_dir.join("alerts/latency.yaml");
        let real = std::fs::read_to_string(&path)?;
        let short = rewrite(&real, "for: 5m", &format!("for: {SHORT}"), 1)?;
        let windows = short.matches("[5m]").count();
        ensure!(windows >= 1, "no [5m] window in alerts/latency.yaml");
        std::fs::write(
            &path,
            rewrite(&short, "[5m]", &format!("[{SHORT}]"), windows)?,
        )?;
        Ok(())
    })?;

    let load = AskLoad::start(stack.servers[0].1.base.clone(), ASKERS);
    let (window, for_) = if full { (300, 300) } else { (20, 20) };
    let result = (|| -> anyhow::Result<Outcome> {
        stack.set_llm_delay(0.0)?;
        step("fast model: the alert stays quiet");
        std::thread::sleep(Duration::from_secs(window + for_ / 2));
        ensure!(
            payloads(&captured_file, ALERT, "firing")?.is_empty(),
            "{ALERT} fired while the model was fast"
        );
        step(&format!("slow model ({SLOW_SECONDS} s a call): p95 climbs"));
        stack.set_llm_delay(SLOW_SECONDS)?;
        let slow_at = Instant::now();
        let firing = wait_payload(
            &captured_file,
            "firing",
            Duration::from_secs(window + for_ + 240),
        )?;
        let fired_after = slow_at.elapsed();
        let p95_slow = stack.query(P95)?.first().copied().unwrap_or(f64::NAN);
        eprintln!(
            "xtask: drill: firing payload after {:.0}s (p95 now {p95_slow:.3}s)",
            fired_after.as_secs_f64()
        );
        step("model recovers");
        stack.set_llm_delay(0.0)?;
        let fast_at = Instant::now();
        let resolved = wait_payload(
            &captured_file,
            "resolved",
            Duration::from_secs(window + 300),
        )?;
        let resolved_after = fast_at.elapsed();
        eprintln!(
            "xtask: drill: resolved payload after {:.0}s",
            resolved_after.as_secs_f64()
        );
        Ok(Outcome {
            firing,
            resolved,
            fired_after,
            resolved_after,
            p95_slow,
        })
    })();
    let tally = load.stop();
    let outcome = result.with_context(|| {
        format!(
            "drill failed{}{}",
            log_tail(&am_log),
            log_tail(&dir.join("prometheus.log"))
        )
    })?;
    let sent = tally.sent;
    ensure!(
        tally.failed() == 0,
        "{} of {sent} questions failed during the drill: {:?}",
        tally.failed(),
        tally.failures
    );

    step("save the payloads and the p95 graph");
    let out = root.join("docs/drills");
    std::fs::create_dir_all(&out)?;
    std::fs::write(
        out.join("slack-firing.json"),
        serde_json::to_string_pretty(&outcome.firing)? + "\n",
    )?;
    std::fs::write(
        out.join("slack-resolved.json"),
        serde_json::to_string_pretty(&outcome.resolved)? + "\n",
    )?;
    screenshot(&stack, root, &dir, started.elapsed())?;
    stack.stop()?;
    eprintln!(
        "xtask: drill passed in {:.0}s ({} mode): {sent} questions, 0 failed; firing {:.0}s after \
         the model slowed (p95 {:.3}s), resolved {:.0}s after it recovered",
        started.elapsed().as_secs_f64(),
        if full { "full" } else { "short" },
        outcome.fired_after.as_secs_f64(),
        outcome.p95_slow,
        outcome.resolved_after.as_secs_f64()
    );
    Ok(())
}

struct Outcome {
    firing: serde_json::Value,
    resolved: serde_json::Value,
    fired_after: Duration,
    resolved_after: Duration,
    p95_slow: f64,
}

fn wait_http_ok(stack: &Stack, url: &str, child: &mut ChildGuard) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait()? {
            bail!("exited with {status}");
        }
        let ok = stack
            .runtime
            .block_on(async { stack.client.get(url).send().await })
            .is_ok_and(|r| r.status().is_success());
        if ok {
            return Ok(());
        }
        ensure!(Instant::now() < deadline, "{url} did not answer within 30s");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Captured Slack payloads whose title names `alert` with `status` (`firing` or `resolved`).
fn payloads(file: &Path, alert: &str, status: &str) -> anyhow::Result<Vec<serde_json::Value>> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let marker = format!("[{}", status.to_uppercase());
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|l| l["payload"].clone())
        .filter(|p| {
            p["attachments"].as_array().into_iter().flatten().any(|a| {
                let title = a["title"].as_str().unwrap_or_default();
                title.starts_with(&marker) && title.contains(alert)
            })
        })
        .collect())
}

fn wait_payload(file: &Path, status: &str, limit: Duration) -> anyhow::Result<serde_json::Value> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(p) = payloads(file, ALERT, status)?.into_iter().next() {
            return Ok(p);
        }
        ensure!(
            Instant::now() < deadline,
            "no {status} Slack payload for {ALERT} within {}s",
            limit.as_secs()
        );
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Prometheus's own graph of the p95 over the whole run, rendered by headless Chromium.
fn screenshot(stack: &Stack, root: &Path, dir: &Path, run: Duration) -> anyhow::Result<()> {
    let query: String = P95
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let minutes = run.as_secs() / 60 + 1;
    let url = format!(
        "{}/graph?g0.expr={query}&g0.tab=0&g0.range_input={minutes}m",
        stack.prom_base
    );
    let target = root.join("docs/img/drill-p95.png");
    let mut chromium = Command::new("chromium");
    chromium
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1280,800",
            "--virtual-time-budget=15000",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.join("chromium").display()
        ))
        .arg(format!("--screenshot={}", target.display()))
        .arg(&url)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let status = ChildGuard::spawn(&mut chromium, "chromium --screenshot")?
        .wait_for(Duration::from_secs(120))?;
    ensure!(
        status.success(),
        "chromium --screenshot failed with {status}"
    );
    ensure!(target.is_file(), "chromium wrote no {}", target.display());
    Ok(())
}
