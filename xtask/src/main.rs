//! `cargo xtask <command>`: the project's automation, so "green locally" and "green in CI" are
//! the same command.
//!
//! - `ci`    — test setup (model, Python venv, Chromium, the web UI's npm packages and build),
//!   `cargo fmt --check`, clippy `-D warnings`, the Rust test suite, the UI's unit tests, then
//!   `e2e`.
//! - `e2e`   — the web UI in headless Chromium against the release binary (see `e2e.rs`).
//! - `bench` — build release, measure ingest and HTTP search, write `docs/BENCHMARKS.md`.

mod bench;
mod e2e;
mod proc;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
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
    eprintln!("xtask: ci passed");
    Ok(())
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("bench") => bench::run(&root(), &args[1..]),
        Some("e2e") => e2e::run(&root()),
        _ => {
            eprintln!("usage: cargo xtask <ci | e2e | bench [--quick]>");
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
