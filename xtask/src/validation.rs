//! `cargo xtask drill validation`: the Phase 9 plan's validation script, every step that can
//! run offline, in order, with one report (`docs/drills/phase-9-validation.md`).
//!
//! 1. `terraform apply` in a sandbox account — cannot run here (no providers, no account); the
//!    offline IaC check stands in for it and the report says so.
//! 2. `ab -n200 -c20` on `/search`, p95 < 500 ms — the blue-green drill's first phase, through
//!    HAProxy standing in for the ALB.
//! 3. kill the blue service task; zero 5xx — the blue-green drill's SIGTERM and SIGKILL phases.
//! 4. the Grafana board shows traffic — `ops-check`: every dashboard query evaluated by a real
//!    Prometheus after load on the real service (no Grafana binary can be installed here).
//! 5. `aws s3 ls s3://…/$(date +%F)` contains objects — the backup drill on moto's S3.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;

use crate::{backupdrill, bluegreen, iac, ops};

struct Step {
    number: u8,
    plan: &'static str,
    here: &'static str,
    result: String,
    passed: bool,
    seconds: f64,
}

/// The table rows of a drill report that contain `needle`, each as "header value, …" using the
/// table's own header row (the first cell, the row's name, is kept as it is).
fn rows(report: &str, needle: &str) -> Vec<String> {
    let cells = |line: &str| -> Vec<String> {
        line.trim()
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().trim_matches('`').to_owned())
            .collect()
    };
    let mut header: Vec<String> = Vec::new();
    let mut found = Vec::new();
    for line in report.lines().filter(|l| l.starts_with('|')) {
        if line.starts_with("|---") {
            continue;
        }
        if header.is_empty() {
            header = cells(line);
            continue;
        }
        if !line.contains(needle) {
            continue;
        }
        let row = cells(line);
        let described: Vec<String> = header
            .iter()
            .zip(&row)
            .skip(1)
            .map(|(h, v)| format!("{h} {v}"))
            .collect();
        found.push(format!("{}: {}", row[0], described.join(", ")));
    }
    found
}

fn timed(run: impl FnOnce() -> anyhow::Result<String>) -> (Result<String, String>, f64) {
    let started = Instant::now();
    let result = run().map_err(|e| format!("{e:#}"));
    (result, started.elapsed().as_secs_f64())
}

pub fn run(root: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut steps = Vec::new();

    let (result, seconds) = timed(|| iac::run(root));
    steps.push(Step {
        number: 1,
        plan: "`terraform apply` in a sandbox AWS account",
        here: "**not run: no Terraform providers or AWS account here.** Stand-in: `cargo xtask iac-check` — parse, references, module inputs against the pinned versions, invariants, checkov (0 failed), hadolint, actionlint, zizmor, cost ≤ target",
        passed: result.is_ok(),
        result: result.unwrap_or_else(|e| e),
        seconds,
    });

    let (result, seconds) = timed(|| {
        bluegreen::run(root)?;
        Ok(std::fs::read_to_string(
            root.join("docs/drills/blue-green.md"),
        )?)
    });
    let (passed, report) = match result {
        Ok(report) => (true, report),
        Err(e) => (false, e),
    };
    let quote = |needle: &str| rows(&report, needle).join("<br>");
    steps.push(Step {
        number: 2,
        plan: "`ab -n200 -c20 https://alb-dns/search`; p95 < 500 ms",
        here: "the same `ab` through HAProxy (the ALB's stand-in) to the release binary, production defaults",
        passed,
        result: if passed { quote("ab -n200 -c20") } else { report.clone() },
        seconds,
    });
    steps.push(Step {
        number: 3,
        plan: "kill the blue service task; ALB shifts to green; zero 5xx",
        here: "blue's process stopped with SIGTERM, then with SIGKILL, under `ab -n3000 -c50` through HAProxy",
        passed,
        result: if passed {
            format!("{}<br>{}", quote("SIGTERM to blue"), quote("SIGKILL to blue"))
        } else {
            "see step 2".into()
        },
        seconds: 0.0,
    });

    let (result, seconds) = timed(|| ops::run(root));
    steps.push(Step {
        number: 4,
        plan: "Grafana board shows traffic",
        here: "no Grafana binary here: every panel query of `ops/grafana/dashboards` evaluated by a real Prometheus scraping the service under load (`cargo xtask ops-check`)",
        passed: result.is_ok(),
        result: result.unwrap_or_else(|e| e),
        seconds,
    });

    let (result, seconds) = timed(|| {
        backupdrill::run(root)?;
        let report = std::fs::read_to_string(root.join("docs/drills/backup.md"))?;
        Ok(rows(&report, "prod/backups/").join("<br>"))
    });
    steps.push(Step {
        number: 5,
        plan: "`aws s3 ls s3://sociograph-backup/$(date +%F)` contains objects",
        here: "a backup of the serving release binary to moto's S3 on 127.0.0.1, listed with `ListObjectsV2` under today's prefix",
        passed: result.is_ok(),
        result: result.unwrap_or_else(|e| e),
        seconds,
    });

    let failed: Vec<u8> = steps
        .iter()
        .filter(|s| !s.passed)
        .map(|s| s.number)
        .collect();
    let mut md = String::from(
        "# Phase 9 validation, offline\n\n\
         Written by `cargo xtask drill validation` (part of `cargo xtask drill`, which CI runs on every \
         change): the five steps of the Phase 9 plan's validation script, each run here for real or \
         replaced by the nearest real thing, as the second column says. Full figures are in \
         [blue-green.md](blue-green.md) and [backup.md](backup.md).\n\n\
         | step | the plan | here | result | s |\n|---|---|---|---|---:|\n",
    );
    for s in &steps {
        let result = s.result.replace('\n', " ");
        md.push_str(&format!(
            "| {} {} | {} | {} | {} | {:.0} |\n",
            s.number,
            if s.passed { "✅" } else { "❌" },
            s.plan,
            s.here,
            result.replace('|', "\\|"),
            s.seconds
        ));
    }
    md.push_str(&format!(
        "\n{} of 5 steps passed in {:.0} s.\n",
        5 - failed.len(),
        started.elapsed().as_secs_f64()
    ));
    let path = root.join("docs/drills/phase-9-validation.md");
    std::fs::write(&path, &md).with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!("{md}");
    anyhow::ensure!(failed.is_empty(), "validation steps {failed:?} failed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::rows;

    #[test]
    fn quoted_rows_name_their_columns() {
        let report = "# x\n\n| phase | requests | p95 ms |\n|---|---:|---:|\n\
                      | swap, ab -n200 -c20 | 200 | 119 |\n| other | 1 | 2 |\n";
        assert_eq!(
            rows(report, "ab -n200"),
            ["swap, ab -n200 -c20: requests 200, p95 ms 119"]
        );
        assert!(rows(report, "missing").is_empty());
    }
}
