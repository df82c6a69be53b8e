//! `cargo xtask e2e`: the web UI end to end — headless Chromium (Debian's `chromium`, driven by
//! `playwright-core`) against the release binary serving the demo corpus.
//!
//! 1. builds `cargo build --release --locked -p sociograph` (which embeds `web/dist`, so the UI
//!    must have been built: `scripts/setup-test.sh` does that);
//! 2. copies the binary into a scratch directory and runs it from there with an empty
//!    environment — no Node, no `web/` beside it — to ingest `corpus/demo` and serve it on a free
//!    127.0.0.1 port;
//! 3. runs `npm --prefix web run e2e` against it (upload, ask with a streamed cited answer,
//!    graph neighbourhood, path finder, delete), which saves the screenshots in `docs/img/`;
//! 4. stops the server with SIGTERM and checks it exited cleanly.
//!
//! Every step is bounded in time, and the server is owned by a [`Served`] guard.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};

use crate::proc::{Served, build_release, ingest_demo, run_bounded};

fn step(what: &str) {
    eprintln!("xtask: e2e: == {what}");
}

/// The binary with nothing inherited: proves it needs neither Node nor files beside it.
fn isolated(bin: &Path, cwd: &Path) -> Command {
    let mut cmd = Command::new(bin);
    cmd.env_clear()
        .env("HOME", cwd)
        .current_dir(cwd)
        .stdin(Stdio::null());
    cmd
}

pub fn run(root: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    ensure!(
        root.join("web/dist/index.html").is_file(),
        "the web UI is not built (web/dist/index.html is missing): run scripts/setup-test.sh"
    );
    step("build the release binary (embeds web/dist)");
    let built = build_release(root)?;

    let work = tempfile::Builder::new()
        .prefix("sociograph-e2e-")
        .tempdir()
        .context("cannot create a work directory")?;
    let bin = work.path().join("sociograph");
    std::fs::copy(&built, &bin)
        .with_context(|| format!("cannot copy {} to {}", built.display(), bin.display()))?;
    let data = work.path().join("data");
    let model_dir = root.join("models/all-MiniLM-L6-v2");

    step("ingest corpus/demo");
    ingest_demo(
        isolated(&bin, work.path()),
        root,
        &data,
        &work.path().join("ingest.log"),
    )?;

    step("serve");
    let mut serve = isolated(&bin, work.path());
    serve
        .arg("serve")
        .arg("--data-dir")
        .arg(&data)
        .args(["--embedder", "local", "--model-dir"])
        .arg(&model_dir);
    let mut server = Served::start(
        &mut serve,
        &work.path().join("serve.log"),
        "sociograph serve",
    )?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let client = reqwest::Client::builder().no_proxy().build()?;
    server.wait_ready(&runtime, &client, Duration::from_secs(300))?;

    step("drive the UI in headless Chromium");
    let result = run_bounded(
        Command::new("npm")
            .args(["--prefix", "web", "run", "e2e"])
            .env("SOCIOGRAPH_URL", &server.base)
            .env(
                "SOCIOGRAPH_UPLOAD",
                root.join("testdata/good/brackwater-memo.pdf"),
            )
            .env("SCREENSHOT_DIR", root.join("docs/img"))
            .current_dir(root),
        Duration::from_secs(600),
        None,
    );
    if result.is_err() {
        eprintln!("xtask: e2e: server log{}", server.log_tail());
    }
    result?;
    server.stop(Duration::from_secs(30))?;
    eprintln!(
        "xtask: e2e passed in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
