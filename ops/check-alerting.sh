#!/usr/bin/env bash
# Checks the alerting configuration with the real tools (Debian packages `prometheus` and
# `prometheus-alertmanager`): Prometheus config and rules, the promtool unit tests, the
# Alertmanager config and its routing cases. Exits non-zero on the first failure.
#
# Usage: bash ops/check-alerting.sh   (from anywhere)
#
# The Slack webhook file (`slack_api_url_file`) need not exist: Alertmanager 0.25 reads it
# only when it sends a notification, and `amtool check-config` does not open it. So nothing
# secret or fake is created here.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

for tool in promtool amtool; do
  command -v "$tool" >/dev/null || {
    echo "check-alerting: $tool not found (apt-get install -y prometheus prometheus-alertmanager)" >&2
    exit 2
  }
done

step() { printf '\n==> %s\n' "$*"; }

step "promtool check config"
promtool check config ops/prometheus/prometheus.yml

step "promtool check rules"
promtool check rules ops/prometheus/rules/*.yaml ops/prometheus/alerts/*.yaml

step "promtool test rules"
promtool test rules ops/prometheus/tests/*.yaml

step "alert conventions (labels, annotations, runbooks, tests, drill contract)"
# The project's virtualenv has the pinned PyYAML (scripts/setup-python.sh); any python3 with
# PyYAML will do.
if [ -z "${PYTHON:-}" ]; then
  PYTHON=python3
  [ -x .venv/bin/python ] && PYTHON=.venv/bin/python
fi
"$PYTHON" -c 'import yaml' 2>/dev/null || {
  echo "check-alerting: $PYTHON has no PyYAML (run scripts/setup-python.sh)" >&2
  exit 2
}
"$PYTHON" - <<'PY'
import glob, os, re, sys
import yaml

RUNBOOK = "https://github.com/sociograph/sociograph/blob/main/ops/runbooks/{}.md"
errors, alerts = [], {}
for path in sorted(glob.glob("ops/prometheus/alerts/*.yaml")):
    for group in yaml.safe_load(open(path))["groups"]:
        for rule in group["rules"]:
            name = rule.get("alert")
            if not name:
                errors.append(f"{path}: recording rule {rule.get('record')} belongs in rules/")
                continue
            alerts.setdefault(name, path)
            labels, ann = rule.get("labels", {}), rule.get("annotations", {})
            where = f"{path}: {name}"
            if name != "Watchdog" and not re.fullmatch(r"Sociograph[A-Z][A-Za-z]+", name):
                errors.append(f"{where}: name must be Sociograph<Thing><Condition>")
            if labels.get("severity") not in ("critical", "warning", "info"):
                errors.append(f"{where}: severity must be critical|warning|info")
            if labels.get("service") != "sociograph":
                errors.append(f"{where}: label service=sociograph missing")
            for key in ("summary", "description", "runbook_url"):
                if not ann.get(key):
                    errors.append(f"{where}: annotation {key} missing")
            if "{{" not in ann.get("description", ""):
                errors.append(f"{where}: description must be templated")
            if ann.get("runbook_url") != RUNBOOK.format(name):
                errors.append(f"{where}: runbook_url must be {RUNBOOK.format(name)}")
            if not os.path.isfile(f"ops/runbooks/{name}.md"):
                errors.append(f"{where}: ops/runbooks/{name}.md missing")

fires, quiet = set(), set()
for path in sorted(glob.glob("ops/prometheus/tests/*.yaml")):
    for test in yaml.safe_load(open(path))["tests"]:
        for case in test.get("alert_rule_test", []):
            (fires if case.get("exp_alerts") else quiet).add(case["alertname"])
for name in sorted(alerts):
    if name not in fires:
        errors.append(f"{name}: no test where it fires")
    if name not in quiet and name != "Watchdog":  # the Watchdog always fires, by design
        errors.append(f"{name}: no test where it must not fire")

# The fire drill rewrites `for: 5m` and `[5m]` in this file: keep them literal and alone.
drill = "ops/prometheus/alerts/latency.yaml"
text = open(drill).read()
rules = [r for g in yaml.safe_load(text)["groups"] for r in g["rules"]]
if [r.get("alert") for r in rules] != ["SociographApiLatencyHigh"]:
    errors.append(f"{drill}: must hold SociographApiLatencyHigh alone")
elif (rules[0].get("for") != "5m" or text.count("for: 5m") != 1
      or text.count("[5m]") != rules[0]["expr"].count("[5m]") or "[5m]" not in rules[0]["expr"]):
    errors.append(f"{drill}: `for: 5m` and `[5m]` must appear literally, in the rule only")

for e in errors:
    print("  FAIL ", e)
print(f"{len(alerts)} alerts checked, {len(errors)} problems")
sys.exit(1 if errors else 0)
PY

step "amtool check-config"
amtool check-config ops/alertmanager/alertmanager.yml

step "amtool config routes test"
routes=ops/alertmanager/tests/routes.txt
cases=0
failed=0
while IFS= read -r line || [[ -n "$line" ]]; do
  [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
  expected="$(sed -E 's/^[[:space:]]+|[[:space:]]+$//g' <<<"${line%%|*}")"
  labels="${line#*|}"
  cases=$((cases + 1))
  # shellcheck disable=SC2086  # labels are space-separated words on purpose
  if got="$(amtool config routes test --config.file=ops/alertmanager/alertmanager.yml \
      --verify.receivers="$expected" $labels 2>/dev/null)"; then
    printf '  ok    %-14s <- %s\n' "$expected" "$(xargs <<<"$labels")"
  else
    printf '  FAIL  expected %s, got %s <- %s\n' "$expected" "$(head -1 <<<"$got")" "$(xargs <<<"$labels")"
    failed=$((failed + 1))
  fi
done <"$routes"
echo "route tests: $cases run, $failed failed"
[[ $cases -gt 0 && $failed -eq 0 ]]

printf '\ncheck-alerting: all checks passed\n'
