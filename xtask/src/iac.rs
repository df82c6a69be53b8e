//! `cargo xtask iac-check`: what stands in for `terraform validate/plan` and a Docker build,
//! which cannot run here (no Terraform providers, no Docker engine — docs/phase-9.md).
//!
//! - `tools/iac_check.py`: every `.tf` parses; every reference resolves; every module input
//!   exists in the pinned module version (`infra/module-inputs.json`); the design invariants
//!   hold (30-day backup expiry, validated color switch, ARM64, HTTPS);
//! - `tools/test_iac_check.py`: the check fails on a broken reference, a misspelled module
//!   input, a removed lifecycle rule and more (so it can fail);
//! - checkov (Terraform, Dockerfile, GitHub Actions) with zero failed checks, every skip
//!   justified inline; hadolint on the Dockerfile; actionlint and zizmor on the workflows;
//! - `tools/cost_estimate.py --check`: the estimate is under 200 USD/month and docs/cost.md
//!   is what the script writes.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::Context;

use crate::proc::run_bounded;

const LIMIT: Duration = Duration::from_secs(600);

fn step(what: &str) {
    eprintln!("xtask: iac-check: == {what}");
}

fn tool(root: &Path, venv: &str, name: &str) -> Command {
    let mut cmd = Command::new(root.join(venv).join("bin").join(name));
    cmd.current_dir(root);
    cmd
}

/// Returns the reference check's summary line (for the Phase 9 validation report).
pub fn run(root: &Path) -> anyhow::Result<String> {
    step("install the checkers (scripts/setup-iac.sh)");
    run_bounded(
        Command::new("bash")
            .arg("scripts/setup-iac.sh")
            .current_dir(root),
        Duration::from_secs(900),
        None,
    )?;

    step("references, module inputs and invariants (tools/iac_check.py)");
    let checked = tool(root, ".venv-iac", "python")
        .args(["tools/iac_check.py", "infra"])
        .output()
        .context("cannot run tools/iac_check.py")?;
    let report = String::from_utf8_lossy(&checked.stdout).trim().to_owned();
    eprintln!("{report}");
    anyhow::ensure!(
        checked.status.success(),
        "tools/iac_check.py found problems"
    );
    let summary = report
        .lines()
        .last()
        .unwrap_or_default()
        .replace("iac-check: ", "");
    step("the check catches broken infra (tools/test_iac_check.py)");
    run_bounded(
        tool(root, ".venv-iac", "python").arg("tools/test_iac_check.py"),
        LIMIT,
        None,
    )?;

    for (what, args) in [
        (
            "checkov: Terraform",
            &["-d", "infra", "--framework", "terraform"][..],
        ),
        (
            "checkov: Dockerfile",
            &["-f", "Dockerfile", "--framework", "dockerfile"][..],
        ),
        (
            "checkov: GitHub Actions",
            &["-d", ".github/workflows", "--framework", "github_actions"][..],
        ),
    ] {
        step(what);
        // checkov exits non-zero on any failed check; --skip-download keeps it offline.
        run_bounded(
            tool(root, ".venv-checkov", "checkov").args(args).args([
                "--skip-download",
                "--quiet",
                "--compact",
            ]),
            LIMIT,
            None,
        )?;
    }

    step("hadolint: Dockerfile");
    run_bounded(
        tool(root, ".venv-iac", "hadolint").arg("Dockerfile"),
        LIMIT,
        None,
    )?;
    let workflows: Vec<String> = std::fs::read_dir(root.join(".github/workflows"))?
        .filter_map(Result::ok)
        .map(|e| format!(".github/workflows/{}", e.file_name().to_string_lossy()))
        .filter(|p| p.ends_with(".yml") || p.ends_with(".yaml"))
        .collect();
    anyhow::ensure!(
        !workflows.is_empty(),
        "no workflows under .github/workflows"
    );
    step("actionlint: workflows (shell steps through shellcheck)");
    run_bounded(
        tool(root, ".venv-iac", "actionlint").args(&workflows),
        LIMIT,
        None,
    )?;
    step("zizmor: workflows");
    run_bounded(
        tool(root, ".venv-iac", "zizmor")
            .arg("--offline")
            .args(&workflows),
        LIMIT,
        None,
    )?;
    step("the cost estimate is under target and docs/cost.md is current");
    run_bounded(
        tool(root, ".venv-iac", "python").args(["tools/cost_estimate.py", "--check"]),
        LIMIT,
        None,
    )?;
    eprintln!("xtask: iac-check passed");
    Ok(summary)
}
