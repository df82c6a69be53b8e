#!/usr/bin/env python3
"""Monthly AWS cost of infra/ by line item, offline, from dated list prices.

Infracost (the deploy workflow runs it on the real plan with infracost-usage.yml) cannot run
here; this script makes the same estimate by hand so it can be re-run with new prices or
traffic and is checked in CI. Every price below is the public on-demand list price for
eu-west-1 (Ireland) as published in 2025; AWS's price list cannot be reached from the build
machines, so they were not re-checked when this was written (PRICES_AS_OF). Change them here,
re-run, commit docs/cost.md.

Usage: python3 tools/cost_estimate.py [--requests-per-day N] [--out docs/cost.md] [--check]
  --check: fail (exit 1) if the total reaches the monthly target (200 USD) or if the file
           on disk differs from what would be written (so docs/cost.md cannot go stale).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PRICES_AS_OF = "2025 (not re-checked 2026-12-04: the AWS price list is unreachable here)"
HOURS = 730  # AWS's month
TARGET_USD = 200.0

PRICE = {
    # Fargate, Linux/ARM (Graviton), eu-west-1
    "fargate_arm_vcpu_hour": 0.03238,
    "fargate_arm_gb_hour": 0.00356,
    # Application Load Balancer
    "alb_hour": 0.0252,
    "alb_lcu_hour": 0.008,
    # Public IPv4 addresses (every task with a public IP, and the ALB's per AZ)
    "ipv4_hour": 0.005,
    # NAT gateway (only with enable_nat_gateway)
    "nat_hour": 0.048,
    "nat_gb": 0.048,
    # S3 Standard
    "s3_gb_month": 0.023,
    "s3_put_list_per_1000": 0.005,
    "s3_get_per_1000": 0.0004,
    # CloudWatch Logs
    "logs_ingest_gb": 0.57,
    "logs_store_gb_month": 0.03,
    # Container Insights (ECS): per metric-month, ~ 10 metrics per task and service
    "cw_metric_month": 0.30,
    # Amazon Managed Service for Prometheus: ingestion per 10 M samples, storage per GB-month
    "amp_per_10m_samples": 0.90,
    "amp_gb_month": 0.03,
    # AWS X-Ray: per million traces recorded (first 100 k free)
    "xray_per_million": 5.00,
    # Route 53
    "r53_zone_month": 0.50,
    "r53_per_million_queries": 0.40,
    # Secrets Manager
    "secret_month": 0.40,
    # KMS
    "kms_key_month": 1.00,
    "kms_per_10k": 0.03,
    # ECR storage
    "ecr_gb_month": 0.10,
}


def estimate(requests_per_day: float, nat: bool = False) -> list[tuple[str, str, float]]:
    """(line item, how it is computed, USD/month)."""
    rows: list[tuple[str, str, float]] = []
    month_s = HOURS * 3600
    rps = requests_per_day / 86400

    def fargate(vcpu: float, gb: float) -> float:
        return vcpu * PRICE["fargate_arm_vcpu_hour"] + gb * PRICE["fargate_arm_gb_hour"]

    api_tasks, idle_tasks = 2, 2
    api = (api_tasks + idle_tasks) * fargate(0.5, 1) * HOURS
    rows.append(("Fargate ARM: API", f"{api_tasks} live + {idle_tasks} idle (the rollback) tasks × 0.5 vCPU / 1 GB × {HOURS} h", api))
    worker = fargate(1, 2) * HOURS
    rows.append(("Fargate ARM: worker", f"1 task × 1 vCPU / 2 GB × {HOURS} h", worker))
    verify = fargate(0.5, 1) * 0.5 * 30
    rows.append(("Fargate ARM: daily restore test", "30 runs × 0.5 h × 0.5 vCPU / 1 GB", verify))

    # LCUs: the largest of new connections (25/s), active (3000/min), bytes (1 GB/h), rules
    # (1000/s). At this traffic it is bytes: ~20 KB a response.
    gb_per_hour = requests_per_day * 20e3 / 1e9 / 24
    lcu = max(rps / 25, gb_per_hour / 1.0, 0.01)
    alb = PRICE["alb_hour"] * HOURS + lcu * PRICE["alb_lcu_hour"] * HOURS
    rows.append(("ALB", f"{HOURS} h + {lcu:.3f} LCU average ({requests_per_day:,.0f} requests/day, ~20 KB each)", alb))

    ips = 2 + (0 if nat else api_tasks + idle_tasks + 1)
    tasks = api_tasks + idle_tasks + 1
    rows.append(("Public IPv4", f"{ips} addresses (ALB in 2 AZs{'' if nat else f', {tasks} tasks'}) × {HOURS} h", ips * PRICE["ipv4_hour"] * HOURS))
    if nat:
        nat_cost = PRICE["nat_hour"] * HOURS + 30 * PRICE["nat_gb"]
        rows.append(("NAT gateway", f"1 × {HOURS} h + ~30 GB processed", nat_cost))
    else:
        rows.append(("NAT gateway", "none (enable_nat_gateway = false; S3 through the free gateway endpoint)", 0.0))

    # S3: 1 GB corpus snapshot × 5 kept + 30 daily backups; replicas GET the pointer every
    # 2 s, the worker LISTs the queue every 2 s and renews its lease every 10 s.
    storage_gb = 1 * 5 + 1 * 30 + 2
    gets = (api_tasks + idle_tasks) * month_s / 2
    lists_puts = month_s / 2 + month_s / 10 + requests_per_day * 30 * 0.001 * 3
    s3 = (
        storage_gb * PRICE["s3_gb_month"]
        + gets / 1000 * PRICE["s3_get_per_1000"]
        + lists_puts / 1000 * PRICE["s3_put_list_per_1000"]
    )
    rows.append(("S3", f"{storage_gb} GB; {gets / 1e6:.1f} M GET (snapshot polls); {lists_puts / 1e6:.2f} M LIST/PUT (queue polls, lease)", s3))

    logs_gb = 3.0
    logs = logs_gb * PRICE["logs_ingest_gb"] + logs_gb * 12 * PRICE["logs_store_gb_month"] / 2
    rows.append(("CloudWatch Logs", f"~{logs_gb:.0f} GB/month ingested (JSON logs, flow logs), 1-year retention (average half full)", logs))
    insights = 4 * 10 * PRICE["cw_metric_month"]
    rows.append(("Container Insights", "~40 metrics (4 services × 10)", insights))

    series_per_task, scrape_s = 800, 60
    samples = (api_tasks + idle_tasks) * series_per_task * month_s / scrape_s
    amp = samples / 10e6 * PRICE["amp_per_10m_samples"] + 1 * PRICE["amp_gb_month"]
    rows.append(("Managed Prometheus", f"{api_tasks + idle_tasks} tasks × {series_per_task} series every {scrape_s} s = {samples / 1e6:.0f} M samples", amp))
    traces = requests_per_day * 30
    xray = max(traces - 100e3, 0) / 1e6 * PRICE["xray_per_million"]
    rows.append(("X-Ray", f"{traces / 1e6:.2f} M traces (every request), first 100 k free", xray))

    r53 = PRICE["r53_zone_month"] + requests_per_day * 30 / 1e6 * PRICE["r53_per_million_queries"]
    rows.append(("Route 53", "1 hosted zone + queries (at most one per request)", r53))
    rows.append(("Secrets Manager", "1 secret", PRICE["secret_month"]))
    rows.append(("KMS", "1 key + requests (S3 bucket keys keep them few)", PRICE["kms_key_month"] + 50 * PRICE["kms_per_10k"]))
    rows.append(("ECR", "~1 GB of images", 1 * PRICE["ecr_gb_month"]))
    rows.append(("SQS", "not used: the job queue is S3 conditional writes (docs/architecture.md)", 0.0))
    rows.append(("EventBridge Scheduler, AWS Budgets", "within the free tiers (1 schedule, 1 budget)", 0.0))
    rows.append(("Data transfer out", f"~{requests_per_day * 30 * 20e3 / 1e9:.0f} GB/month, within the 100 GB free tier", 0.0))
    return rows


def render(requests_per_day: float) -> str:
    rows = estimate(requests_per_day)
    total = sum(r[2] for r in rows)
    nat_total = sum(r[2] for r in estimate(requests_per_day, nat=True))
    lines = [
        "# Monthly cost estimate",
        "",
        f"Written by `python3 tools/cost_estimate.py` (CI re-runs it with `--check`). eu-west-1 on-demand list "
        f"prices of {PRICES_AS_OF}, {HOURS}-hour month, {requests_per_day:,.0f} requests/day "
        "(Phase 9 O-9.8), the defaults of `infra/` (no NAT gateway). This is an offline estimate by line "
        "item: Infracost cannot run here; the deploy workflow runs `infracost breakdown` on the real plan "
        "with `infracost-usage.yml` (the same traffic assumptions) and posts it to the run summary.",
        "",
        "| line item | how | USD/month |",
        "|---|---|---:|",
    ]
    for item, how, usd in rows:
        lines.append(f"| {item} | {how} | {usd:.2f} |")
    lines += [
        f"| **total** | | **{total:.2f}** |",
        "",
        f"Target: under {TARGET_USD:.0f} USD/month — met with {TARGET_USD - total:.2f} USD to spare. With "
        f"`enable_nat_gateway = true` (tasks in private subnets): {nat_total:.2f} USD/month.",
        "",
        "What moves it: Fargate is about half (the idle color, kept at full size as the instant "
        "rollback, is ~29 USD of it); public IPv4 addresses are the next largest; traffic itself is "
        "cheap at this volume (50k requests/day is 0.6 request/s). "
        "The budget alert (`budget.tf`) fires at 80 % of 200 USD.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests-per-day", type=float, default=50_000)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "docs/cost.md"))
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv[1:])
    text = render(args.requests_per_day)
    total = sum(r[2] for r in estimate(args.requests_per_day))
    out = Path(args.out)
    if args.check:
        if total >= TARGET_USD:
            print(f"cost: {total:.2f} USD/month is not under {TARGET_USD:.0f}")
            return 1
        if not out.exists() or out.read_text() != text:
            print(f"cost: {out} is stale: run python3 tools/cost_estimate.py")
            return 1
        print(f"cost: {total:.2f} USD/month (target {TARGET_USD:.0f}); {out} is current")
        return 0
    out.write_text(text)
    print(f"cost: {total:.2f} USD/month written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
