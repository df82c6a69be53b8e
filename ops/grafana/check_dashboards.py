#!/usr/bin/env python3
"""Static checks for the Grafana dashboards in ops/grafana/dashboards/ (standard library only).

    python3 ops/grafana/check_dashboards.py                 # check, print a summary
    python3 ops/grafana/check_dashboards.py --list-queries  # check, then print every query

Checks: every *.json parses; `uid`s are present and unique across files; schemaVersion >= 39;
a template variable `datasource` of type `datasource` with query `prometheus`; every panel (rows
excepted) and every target uses the datasource {"type": "prometheus", "uid": "${datasource}"};
every non-row panel has at least one target with a non-empty `expr` and a description; panels
under a row titled "GPU" say "GPU" in their description (they may be empty on GPU-less hosts).

--list-queries prints one line per target: uid TAB panel title TAB expr, with Grafana's
variables substituted so the expression can be sent to Prometheus as-is ($__rate_interval and
$__interval -> 1m, $__range -> 1h, $datasource -> prometheus, $color and any other query
variable -> .*). Newlines inside an expression become spaces. Add --gpu-column to append a
fourth column, "gpu" or "-", telling whether the panel may be empty on a host without a GPU.

Exit status: 0 when everything passed, 1 otherwise (problems go to stderr).
"""

import argparse
import glob
import json
import os
import re
import signal
import sys

DS_REF = {"type": "prometheus", "uid": "${datasource}"}
SUBST = {
    "__rate_interval": "1m",
    "__interval": "1m",
    "__range": "1h",
    "__range_s": "3600",
    "__range_ms": "3600000",
    "__interval_ms": "60000",
    "datasource": "prometheus",
}
VAR_RE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)")


def substitute(expr, variables):
    def repl(m):
        name = m.group(1) or m.group(2) or m.group(3)
        if name in SUBST:
            return SUBST[name]
        if name in variables:
            return variables[name]
        return m.group(0)  # not a variable we know: leave it (and report it)

    return VAR_RE.sub(repl, expr)


def walk_panels(panels, row=None):
    """Yields (panel, row title) for every panel, descending into collapsed rows."""
    current = row
    for p in panels:
        if p.get("type") == "row":
            current = p.get("title", "")
            yield p, None
            for inner in p.get("panels", []) or []:
                yield inner, current
            continue
        yield p, current


def check_file(path, problems):
    where = os.path.basename(path)
    try:
        with open(path, encoding="utf-8") as f:
            dash = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        problems.append(f"{where}: does not parse: {e}")
        return None, []
    uid = dash.get("uid")
    if not uid or not isinstance(uid, str):
        problems.append(f"{where}: no uid")
    if not isinstance(dash.get("schemaVersion"), int) or dash["schemaVersion"] < 39:
        problems.append(f"{where}: schemaVersion {dash.get('schemaVersion')!r} < 39")
    if not dash.get("title"):
        problems.append(f"{where}: no title")

    tvars = dash.get("templating", {}).get("list", [])
    names = [v.get("name") for v in tvars]
    ds = [v for v in tvars if v.get("name") == "datasource"]
    if not ds:
        problems.append(f"{where}: no `datasource` template variable")
    elif ds[0].get("type") != "datasource" or ds[0].get("query") != "prometheus":
        problems.append(f"{where}: `datasource` variable must be type datasource, query prometheus")
    if len(set(names)) != len(names):
        problems.append(f"{where}: duplicate template variable names")
    variables = {}
    for v in tvars:
        if v.get("name") == "datasource":
            continue
        if v.get("type") == "constant":
            variables[v["name"]] = str(v.get("query", ""))
        else:
            variables[v["name"]] = ".*"  # multi/All regex-matching variables
        vds = v.get("datasource")
        if v.get("type") == "query" and vds != DS_REF:
            problems.append(f"{where}: variable {v.get('name')} must use datasource {DS_REF}")

    queries = []
    ids = set()
    for panel, row in walk_panels(dash.get("panels", [])):
        title = panel.get("title", "")
        if panel.get("type") == "row":
            if panel.get("targets"):
                problems.append(f"{where}: row {title!r} has targets")
            continue
        pid = panel.get("id")
        if pid in ids:
            problems.append(f"{where}: duplicate panel id {pid}")
        ids.add(pid)
        if not title:
            problems.append(f"{where}: panel id {pid} has no title")
        if not panel.get("description"):
            problems.append(f"{where}: panel {title!r} has no description")
        if panel.get("datasource") != DS_REF:
            problems.append(f"{where}: panel {title!r} datasource is {panel.get('datasource')!r}, want {DS_REF}")
        gpu = (row or "").strip().lower() == "gpu"
        if gpu and "GPU" not in (panel.get("description") or ""):
            problems.append(f"{where}: panel {title!r} is in the GPU row but its description lacks 'GPU'")
        targets = panel.get("targets") or []
        if not targets:
            problems.append(f"{where}: panel {title!r} has no targets")
        refids = [t.get("refId") for t in targets]
        if len(set(refids)) != len(refids):
            problems.append(f"{where}: panel {title!r} has duplicate refIds")
        for t in targets:
            if t.get("datasource") != DS_REF:
                problems.append(f"{where}: panel {title!r} target {t.get('refId')} datasource is {t.get('datasource')!r}")
            expr = t.get("expr")
            if not expr or not expr.strip():
                problems.append(f"{where}: panel {title!r} target {t.get('refId')} has no expr")
                continue
            out = substitute(expr, variables)
            left = [a or b or c for a, b, c in VAR_RE.findall(out)]
            if left:
                problems.append(f"{where}: panel {title!r} target {t.get('refId')}: unknown variables {left}")
            if out.count("(") != out.count(")") or out.count("{") != out.count("}") or out.count("[") != out.count("]"):
                problems.append(f"{where}: panel {title!r} target {t.get('refId')}: unbalanced brackets")
            queries.append((uid, title, " ".join(out.split()), gpu))
    return uid, queries


def main():
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` is fine
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", default=os.path.join(here, "dashboards"), help="dashboards folder")
    ap.add_argument("--list-queries", action="store_true", help="print uid<TAB>title<TAB>expr per target")
    ap.add_argument("--gpu-column", action="store_true", help="with --list-queries: add a gpu/- column")
    args = ap.parse_args()

    files = sorted(glob.glob(os.path.join(args.dir, "*.json")))
    problems = []
    if not files:
        problems.append(f"no dashboards in {args.dir}")
    seen = {}
    all_queries = []
    for path in files:
        uid, queries = check_file(path, problems)
        if uid:
            if uid in seen:
                problems.append(f"uid {uid!r} in both {seen[uid]} and {os.path.basename(path)}")
            seen[uid] = os.path.basename(path)
        all_queries.extend(queries)

    if args.list_queries:
        for uid, title, expr, gpu in all_queries:
            cols = [uid, title, expr] + (["gpu" if gpu else "-"] if args.gpu_column else [])
            print("\t".join(cols))
    for p in problems:
        print(f"problem: {p}", file=sys.stderr)
    if not args.list_queries:
        print(f"{len(files)} dashboards, {len(all_queries)} queries, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
