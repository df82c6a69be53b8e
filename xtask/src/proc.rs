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

    /// Send `signal` (`TERM`, `KILL`, …) without waiting.
    pub(crate) fn signal(&self, signal: &str) -> anyhow::Result<()> {
        // Never `kill 0`: that would signal this whole process group.
        let Some(child) = self.child.as_ref() else {
            bail!("{} has already exited", self.what);
        };
        let pid = child.id().to_string();
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .context("cannot run kill")?;
        ensure!(
            status.success(),
            "kill -{signal} {pid} failed with {status}"
        );
        Ok(())
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
        let sent = Instant::now();
        self.signal("TERM")?;
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

/// `cmd` (a `sociograph` command) ingests `corpus/demo` into `data` with the local model,
/// bounded in time, its output in `log`.
pub(crate) fn ingest_demo(
    mut cmd: Command,
    root: &Path,
    data: &Path,
    log: &Path,
) -> anyhow::Result<()> {
    cmd.arg("ingest")
        .arg("--data-dir")
        .arg(data)
        .args(["--embedder", "local", "--model-dir"])
        .arg(root.join("models/all-MiniLM-L6-v2"))
        .arg(root.join("corpus/demo"));
    run_bounded(&mut cmd, Duration::from_secs(900), Some(log))
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

/// A `sociograph serve` on a free 127.0.0.1 port, with its output in a log file.
pub(crate) struct Served {
    server: ChildGuard,
    pub(crate) base: String,
    port: u16,
    log: PathBuf,
    spawned: Instant,
}

impl Served {
    /// Start `cmd` (`sociograph serve` with its data flags) on a free port with no drain delay,
    /// its stdout and stderr going to `log`.
    pub(crate) fn start(cmd: &mut Command, log: &Path, what: &str) -> anyhow::Result<Served> {
        cmd.env("SOCIOGRAPH__SERVER__DRAIN_SECS", "0");
        Served::start_at(cmd, log, what, free_port()?)
    }

    /// Start `cmd` on `port` with the service's own shutdown settings (production defaults).
    pub(crate) fn start_at(
        cmd: &mut Command,
        log: &Path,
        what: &str,
        port: u16,
    ) -> anyhow::Result<Served> {
        let out = File::options()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("cannot open {}", log.display()))?;
        cmd.args(["--listen", &format!("127.0.0.1:{port}")])
            .stdout(out.try_clone()?)
            .stderr(out);
        let spawned = Instant::now();
        Ok(Served {
            server: ChildGuard::spawn(cmd, what)?,
            base: format!("http://127.0.0.1:{port}"),
            port,
            log: log.to_path_buf(),
            spawned,
        })
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Whether the server has exited and been reaped.
    pub(crate) fn exited(&self) -> bool {
        self.server.child.is_none()
    }

    /// Send `signal` to the server without waiting.
    pub(crate) fn signal(&self, signal: &str) -> anyhow::Result<()> {
        self.server.signal(signal)
    }

    /// Wait for the server to exit (after a signal), at most `limit`.
    pub(crate) fn wait_exit(&mut self, limit: Duration) -> anyhow::Result<ExitStatus> {
        self.server.wait_for(limit)
    }

    pub(crate) fn id(&self) -> u32 {
        self.server.id()
    }

    /// The end of the server's log, for error messages.
    pub(crate) fn log_tail(&self) -> String {
        log_tail(&self.log)
    }

    /// Wait for a 200 from `/health`, at most `limit`; returns (seconds to first answer,
    /// seconds to 200) since the start.
    pub(crate) fn wait_ready(
        &mut self,
        runtime: &tokio::runtime::Runtime,
        client: &reqwest::Client,
        limit: Duration,
    ) -> anyhow::Result<(f64, f64)> {
        runtime
            .block_on(wait_ready(
                client,
                &self.base,
                &mut self.server,
                self.spawned,
                limit,
            ))
            .with_context(|| format!("server did not become ready{}", self.log_tail()))
    }

    /// SIGTERM, then require a clean exit within `grace`; returns the exit status and how long
    /// the stop took.
    pub(crate) fn stop(&mut self, grace: Duration) -> anyhow::Result<(ExitStatus, Duration)> {
        let (status, took) = self
            .server
            .terminate(grace)
            .with_context(|| format!("server did not stop on SIGTERM{}", self.log_tail()))?;
        ensure!(
            status.success(),
            "server exited with {status} after SIGTERM{}",
            self.log_tail()
        );
        Ok((status, took))
    }
}

/// `cargo build --release --locked -p sociograph` (bounded); returns the binary's path.
pub(crate) fn build_release(root: &Path) -> anyhow::Result<PathBuf> {
    run_bounded(
        Command::new("cargo")
            .args(["build", "--release", "--locked", "-p", "sociograph"])
            .current_dir(root),
        Duration::from_secs(3600),
        None,
    )?;
    let bin = target_dir(root)?.join("release/sociograph");
    ensure!(bin.is_file(), "no binary at {}", bin.display());
    Ok(bin)
}

/// moto's S3 server (from the project's virtualenv) on a free 127.0.0.1 port, with one bucket
/// created readable without signing, so a drill can look at what was written.
pub(crate) struct Moto {
    _server: ChildGuard,
    pub(crate) endpoint: String,
}

impl Moto {
    pub(crate) fn start(root: &Path, bucket: &str) -> anyhow::Result<Moto> {
        let bin = root.join(".venv/bin/moto_server");
        ensure!(
            bin.is_file(),
            "{} is missing (scripts/setup-python.sh installs moto)",
            bin.display()
        );
        let port = free_port()?;
        let server = ChildGuard::spawn(
            Command::new(&bin)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
            "moto_server",
        )?;
        let endpoint = format!("http://127.0.0.1:{port}");
        let http = reqwest::blocking::Client::builder().no_proxy().build()?;
        let deadline = Instant::now() + Duration::from_secs(60);
        while !http
            .put(format!("{endpoint}/{bucket}"))
            .header("x-amz-acl", "public-read")
            .send()
            .is_ok_and(|r| r.status().is_success())
        {
            ensure!(Instant::now() < deadline, "moto did not answer within 60 s");
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(Moto {
            _server: server,
            endpoint,
        })
    }

    /// The AWS environment a `sociograph` process needs to use it.
    pub(crate) fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", "drill".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "drill".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
        ]
    }
}
