//! `cargo xtask <command>`: the project's automation, so "green locally" and "green in CI" are
//! the same command.
//!
//! - `ci`    — test setup (model, Python venv, Chromium, Prometheus and Alertmanager, the web
//!   UI's npm packages and build), `cargo fmt --check`, clippy `-D warnings`, the Rust test
//!   suite, the UI's unit tests, then `e2e` and `drill` (which includes `ops-check` and
//!   `iac-check`).
//! - `e2e`   — the web UI in headless Chromium against the release binary (see `e2e.rs`).
//! - `ops-check` — alert rules, Alertmanager config and dashboards with the real tools, and every
//!   dashboard query against a real Prometheus scraping the real service (see `ops.rs`).
//! - `iac-check` — the offline checks of `infra/`, the Dockerfile and the workflows: references,
//!   module inputs and invariants, checkov, hadolint, actionlint, zizmor (see `iac.rs`).
//! - `drill` — every drill: `validation`, the Phase 9 plan's validation script offline
//!   (iac-check, blue-green, ops-check, backup; one report, `docs/drills/phase-9-validation.md`),
//!   `fire`, the latency alert's fire drill, Prometheus → Alertmanager →
//!   a Slack capture server (see `drill.rs`; `--full` with the real 5-minute windows), and
//!   `blue-green`, swaps, rollbacks and kills under load through HAProxy (see `bluegreen.rs`),
//!   `backup`, a backup to moto's S3 under load, listed, verified and restored (see
//!   `backupdrill.rs`), and `scale-out`, a replica killed mid-download and the worker killed
//!   mid-publish under load (see `scaledrill.rs`).
//! - `bench` — build release, measure ingest and HTTP search, write `docs/BENCHMARKS.md`.

mod backupdrill;
mod bench;
mod bluegreen;
mod drill;
mod e2e;
mod iac;
mod ops;
mod proc;
mod scaledrill;
mod stack;
mod validation;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// The repository root. Read from `CARGO_MANIFEST_DIR` as `cargo run` sets it for this run, not
/// as it was at compile time: with a shared target directory, one checkout's `cargo xtask` can
/// run a binary built from another checkout, and must still work on its own files.
fn root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Run a command from the repository root, echoing it; fail with its exit status.
pub fn run(program: &str, args: &[&str]) -> anyhow::Result<()> {
    eprintln!("xtask: $ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(root())
        .status()
        .with_context(|| format!("cannot run {program}"))?;
    if !status.success() {
        bail!("`{program} {}` failed with {status}", args.join(" "));
    }
    Ok(())
}

fn ci() -> anyhow::Result<()> {
    run("bash", &["scripts/setup-test.sh"])?;
    run("cargo", &["fmt", "--all", "--", "--check"])?;
    run(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    run(
        "cargo",
        &["test", "--workspace", "--locked", "--no-fail-fast"],
    )?;
    run("npm", &["--prefix", "web", "test"])?;
    e2e::run(&root())?;
    // ops-check and iac-check run inside the drill (Phase 9 validation steps 1 and 4).
    drill(&[])?;
    eprintln!("xtask: ci passed");
    Ok(())
}

/// `drill` (or `drill all`) runs every drill; `drill fire [--full]`, `drill validation`,
/// `drill blue-green`, `drill backup` or `drill scale-out` one of them.
fn drill(args: &[String]) -> anyhow::Result<()> {
    match args.first().map(String::as_str) {
        None | Some("all") if args.len() <= 1 => {
            drill::run(&root(), &[])?;
            validation::run(&root())?;
            scaledrill::run(&root())
        }
        Some("validation") if args.len() == 1 => validation::run(&root()),
        Some("fire") => drill::run(&root(), &args[1..]),
        Some("--full") => drill::run(&root(), args),
        Some("blue-green") if args.len() == 1 => bluegreen::run(&root()),
        Some("backup") if args.len() == 1 => backupdrill::run(&root()),
        Some("scale-out") if args.len() == 1 => scaledrill::run(&root()),
        _ => bail!(
            "usage: cargo xtask drill [all | fire [--full] | validation | blue-green | backup | scale-out]"
        ),
    }
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("bench") => bench::run(&root(), &args[1..]),
        Some("e2e") => e2e::run(&root()),
        Some("ops-check") => ops::run(&root()).map(|_| ()),
        Some("iac-check") => iac::run(&root()).map(|_| ()),
        Some("drill") => drill(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <ci | e2e | ops-check | iac-check | drill [all | fire [--full] | validation | blue-green | backup | scale-out] | bench [--quick]>"
            );
            return std::process::ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
