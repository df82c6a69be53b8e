//! Child processes for xtask commands: owned (killed and reaped on every exit path), bounded
//! in time, with their logs at hand for error messages.

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};

/// Owns a child process: kills and reaps it when dropped, so no error path leaks a server.
pub(crate) struct ChildGuard {
    child: Option<Child>,
    what: String,
}

impl ChildGuard {
    pub(crate) fn spawn(cmd: &mut Command, what: &str) -> anyhow::Result<ChildGuard> {
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {what}"))?;
        Ok(ChildGuard {
            child: Some(child),
            what: what.to_owned(),
        })
    }

    pub(crate) fn id(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// `Some(status)` once the child has exited.
    pub(crate) fn try_wait(&mut self) -> anyhow::Result<Option<ExitStatus>> {
        match self.child.as_mut() {
            Some(c) => Ok(c.try_wait()?),
            None => bail!("{} was already reaped", self.what),
        }
    }

    /// Wait for the child to exit by itself, at most `limit`.
    pub(crate) fn wait_for(&mut self, limit: Duration) -> anyhow::Result<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.try_wait()? {
                self.child = None;
                return Ok(status);
            }
            if Instant::now() >= deadline {
                bail!("{} did not finish within {}s", self.what, limit.as_secs());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, then wait up to `grace`; returns the exit status and how long it took.
    pub(crate) fn terminate(&mut self, grace: Duration) -> anyhow::Result<(ExitStatus, Duration)> {
        let pid = self.id().to_string();
        let sent = Instant::now();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .context("cannot run kill")?;
        ensure!(status.success(), "kill -TERM {pid} failed with {status}");
        let exit = self.wait_for(grace)?;
        Ok((exit, sent.elapsed()))
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Ok(None) = child.try_wait() {
                eprintln!("xtask: killing {} (pid {})", self.what, child.id());
                let _ = child.kill();
            }
            let _ = child.wait();
        }
    }
}

/// Run a command to completion within `limit`; with `log`, its stdout and stderr go there.
pub(crate) fn run_bounded(
    cmd: &mut Command,
    limit: Duration,
    log: Option<&Path>,
) -> anyhow::Result<()> {
    let what = format!("{cmd:?}");
    eprintln!("xtask: $ {what}");
    if let Some(log) = log {
        let out = File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
        cmd.stdout(out.try_clone()?).stderr(out);
    }
    let mut child = ChildGuard::spawn(cmd, &what)?;
    let status = child.wait_for(limit)?;
    if !status.success() {
        let tail = log.map(log_tail).unwrap_or_default();
        bail!("{what} failed with {status}{tail}");
    }
    Ok(())
}

/// The last lines of a log file, for error messages.
pub(crate) fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(20);
    format!(
        "\n--- last lines of {} ---\n{}",
        path.display(),
        lines[start..].join("\n")
    )
}

/// Cargo's target directory (honours `CARGO_TARGET_DIR` and cargo config).
pub(crate) fn target_dir(root: &Path) -> anyhow::Result<PathBuf> {
    let output = Command::new("cargo")
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root)
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run cargo metadata")?;
    ensure!(output.status.success(), "cargo metadata failed");
    let meta: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let dir = meta["target_directory"]
        .as_str()
        .context("cargo metadata has no target_directory")?;
    Ok(PathBuf::from(dir))
}

/// A `sociograph` command with a clean, reproducible environment: no inherited `SOCIOGRAPH*`
/// settings or LLM keys, and a working directory without a stray `sociograph.toml`.
pub(crate) fn sociograph(bin: &Path, cwd: &Path) -> Command {
    let mut cmd = Command::new(bin);
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("SOCIOGRAPH") || key == "OPENROUTER_API_KEY" || key == "RUST_LOG" {
            cmd.env_remove(key.as_ref());
        }
    }
    // JSON log lines, so the bench can count the errors and warnings each process logged.
    cmd.args(["--log-format", "json"])
        .current_dir(cwd)
        .stdin(Stdio::null());
    cmd
}

pub(crate) fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot bind 127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// Poll `/health` until it answers 200; returns (seconds to first answer, seconds to 200).
pub(crate) async fn wait_ready(
    client: &reqwest::Client,
    base: &str,
    server: &mut ChildGuard,
    spawned: Instant,
    limit: Duration,
) -> anyhow::Result<(f64, f64)> {
    let url = format!("{base}/health");
    let mut listening = None;
    while spawned.elapsed() < limit {
        if let Some(status) = server.try_wait()? {
            bail!("the server exited with {status}");
        }
        let answer = client
            .get(&url)
            .timeout(Duration::from_secs(2))
            .send()
            .await;
        if let Ok(response) = answer {
            let at = spawned.elapsed().as_secs_f64();
            let listening = *listening.get_or_insert(at);
            if response.status() == reqwest::StatusCode::OK {
                return Ok((listening, at));
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bail!("no 200 from {url} within {}s", limit.as_secs())
}
