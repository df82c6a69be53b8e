#!/usr/bin/env python3
"""Offline checks of infra/ where Terraform itself cannot run (no providers can be downloaded).

What it proves, for every Terraform module directory under the given root:
  1. every .tf file parses (python-hcl2);
  2. every reference resolves: var.X to a declared variable, local.X to a local, module.X to a
     module call, data.T.N to a data source, T.N to a resource (for T = aws_*, random_*, ...);
     module.X.Y for a local module to one of its outputs;
  3. every argument passed to a module exists: for registry modules in the pinned version's
     variables (infra/module-inputs.json), for local modules in their variables.tf; and every
     required variable of a local module is passed;
  4. the invariants the design depends on (the 30-day expiry of backups/, the color switch,
     ARM64, HTTPS) are still there — see INVARIANTS.

Prints one line per problem and exits 1 if there is any; 0 and a summary otherwise.
Usage: iac_check.py [INFRA_DIR]   (default: infra/ beside this script's parent)
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import hcl2

META_ARGS = {"source", "version", "providers", "count", "for_each", "depends_on"}
RESOURCE_PREFIXES = ("aws", "random", "tls", "null", "time", "archive")
REF = re.compile(
    r"(?<![\w.\-])(var|local|module|data)\.([A-Za-z_][\w-]*)(?:\.([A-Za-z_][\w-]*))?"
)
RESOURCE_REF = re.compile(
    r"(?<![\w.\-])((?:%s)_[a-z0-9_]+)\.([A-Za-z_][\w-]*)" % "|".join(RESOURCE_PREFIXES)
)


def unquote(value):
    """python-hcl2 keeps quotes around names and string literals; drop them."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def strip_markers(tree):
    if isinstance(tree, dict):
        return {
            unquote(k): strip_markers(v)
            for k, v in tree.items()
            # python-hcl2's own markers: __is_block__, __comments__, __inline_comments__, …
            if not (k.startswith("__") and k.endswith("__"))
        }
    if isinstance(tree, list):
        return [strip_markers(v) for v in tree]
    return tree


def strings(tree):
    """Every string value in a parsed tree (not keys)."""
    if isinstance(tree, dict):
        for v in tree.values():
            yield from strings(v)
    elif isinstance(tree, list):
        for v in tree:
            yield from strings(v)
    elif isinstance(tree, str):
        yield tree


@dataclass
class Module:
    path: Path
    variables: dict = field(default_factory=dict)  # name -> has default
    defaults: dict = field(default_factory=dict)  # name -> default value
    locals: set = field(default_factory=set)
    outputs: set = field(default_factory=set)
    modules: dict = field(default_factory=dict)  # name -> (body, file)
    resources: dict = field(default_factory=dict)  # (type, name) -> (body, file)
    data: set = field(default_factory=set)
    bodies: list = field(default_factory=list)  # (file, tree) for reference scanning


def load(directory: Path, problems: list) -> Module:
    module = Module(directory)
    for tf in sorted(directory.glob("*.tf")):
        try:
            with tf.open() as f:
                tree = strip_markers(hcl2.load(f))
        except Exception as e:  # noqa: BLE001 - any parse failure is a finding
            problems.append(f"{tf}: does not parse: {e}")
            continue
        module.bodies.append((tf, tree))
        for block in tree.get("variable", []):
            for name, body in block.items():
                module.variables[name] = "default" in body
                if "default" in body:
                    module.defaults[name] = body["default"]
        for block in tree.get("locals", []):
            module.locals.update(block.keys())
        for block in tree.get("output", []):
            module.outputs.update(block.keys())
        for block in tree.get("module", []):
            for name, body in block.items():
                module.modules[name] = (body, tf)
        for block in tree.get("resource", []):
            for rtype, named in block.items():
                for name, body in named.items():
                    module.resources[(rtype, name)] = (body, tf)
        for block in tree.get("data", []):
            for dtype, named in block.items():
                for name in named:
                    module.data.add((dtype, name))
    return module


def registry_spec(module: Module, name: str, pinned: dict):
    body, _ = module.modules[name]
    source = unquote(body.get("source", ""))
    spec = pinned.get(source)
    return None if spec is None else dict(spec, source=source)


def check_references(module: Module, modules: dict, pinned: dict, problems: list) -> int:
    checked = 0
    for tf, tree in module.bodies:
        for text in strings(tree):
            for kind, name, attr in REF.findall(text):
                checked += 1
                if kind == "var" and name not in module.variables:
                    problems.append(f"{tf}: var.{name} is not declared")
                elif kind == "local" and name not in module.locals:
                    problems.append(f"{tf}: local.{name} is not defined")
                elif kind == "module":
                    if name not in module.modules:
                        problems.append(f"{tf}: module.{name} is not called here")
                        continue
                    target = local_target(module, name, modules)
                    if target is not None and attr and attr not in target.outputs:
                        problems.append(
                            f"{tf}: module.{name}.{attr}: {target.path} has no output {attr}"
                        )
                    spec = registry_spec(module, name, pinned)
                    if spec is not None and attr and attr not in spec.get("outputs", [attr]):
                        problems.append(
                            f"{tf}: module.{name}.{attr}: {spec['source']} {spec['version']} "
                            f"has no output {attr}"
                        )
                elif kind == "data" and (name, attr) not in module.data:
                    problems.append(f"{tf}: data.{name}.{attr} is not declared")
            for rtype, name in RESOURCE_REF.findall(text):
                checked += 1
                if (rtype, name) not in module.resources:
                    problems.append(f"{tf}: {rtype}.{name} is not declared")
    return checked


def local_target(module: Module, name: str, modules: dict):
    body, _ = module.modules[name]
    source = unquote(body.get("source", ""))
    if source.startswith("."):
        return modules.get((module.path / source).resolve())
    return None


def check_module_inputs(module: Module, modules: dict, pinned: dict, problems: list) -> int:
    checked = 0
    for name, (body, tf) in module.modules.items():
        source = unquote(body.get("source", ""))
        args = {k for k in body if k not in META_ARGS}
        checked += len(args)
        if source.startswith("."):
            target = local_target(module, name, modules)
            if target is None:
                problems.append(f"{tf}: module {name}: no module at {source}")
                continue
            for arg in sorted(args - set(target.variables)):
                problems.append(f"{tf}: module {name}: {target.path} has no variable {arg!r}")
            for var, has_default in sorted(target.variables.items()):
                if not has_default and var not in args:
                    problems.append(f"{tf}: module {name}: required variable {var!r} not passed")
            continue
        spec = pinned.get(source)
        if spec is None:
            problems.append(
                f"{tf}: module {name}: {source} is not in module-inputs.json (add its inputs)"
            )
            continue
        version = unquote(body.get("version", ""))
        if version != spec["version"]:
            problems.append(
                f"{tf}: module {name}: version {version!r}, but module-inputs.json lists "
                f"{spec['version']!r} (refresh it)"
            )
        for arg in sorted(args - set(spec["inputs"])):
            problems.append(
                f"{tf}: module {name}: {source} {spec['version']} has no input {arg!r}"
            )
    return checked


# ------------------------------------------------------------------ design invariants


def find_blocks(tree, key):
    """Every block or attribute named `key`, anywhere."""
    if isinstance(tree, dict):
        for k, v in tree.items():
            if k == key:
                yield v
            yield from find_blocks(v, key)
    elif isinstance(tree, list):
        for v in tree:
            yield from find_blocks(v, key)


def flat(value):
    return value if isinstance(value, list) else [value]


def value_of(root: Module, value):
    """A literal, or the default of the variable a bare `${var.X}` names."""
    if isinstance(value, str):
        m = re.fullmatch(r"\$\{var\.(\w+)\}", value)
        if m:
            return root.defaults.get(m.group(1))
        return unquote(value)
    return value


def backups_expire_after_30_days(root: Module) -> str | None:
    for (rtype, _), (body, _) in root.resources.items():
        if rtype != "aws_s3_bucket_lifecycle_configuration":
            continue
        for rule in flat(body.get("rule", [])):
            prefixes = [value_of(root, f.get("prefix")) for f in flat(rule.get("filter", []))]
            days = [value_of(root, e.get("days")) for e in flat(rule.get("expiration", []))]
            if (
                any(isinstance(p, str) and p.endswith("backups/") for p in prefixes)
                and 30 in days
                and value_of(root, rule.get("status")) == "Enabled"
            ):
                return None
    return "no enabled S3 lifecycle rule expires backups/ after 30 days"


def color_is_validated(root: Module) -> str | None:
    for _, tree in root.bodies:
        for block in tree.get("variable", []):
            body = block.get("color_active")
            if body is None:
                continue
            for v in flat(body.get("validation", [])):
                cond = str(v.get("condition", ""))
                if '"blue"' in cond and '"green"' in cond and "var.color_active" in cond:
                    return None
    return "variable color_active is missing or not validated to blue|green"


def arm64_everywhere(root: Module) -> str | None:
    text = "\n".join(s for _, tree in root.bodies for s in strings(tree))
    if "ARM64" not in text:
        return "no ARM64 runtime platform in the task definitions"
    if "X86_64" in text:
        return "an X86_64 runtime platform is declared"
    return None


def https_listener(root: Module) -> str | None:
    text = json.dumps([tree for _, tree in root.bodies])
    if '"HTTPS"' not in text and "\\\"HTTPS\\\"" not in text:
        return "no HTTPS listener"
    if "HTTP_301" not in text:
        return "no HTTP to HTTPS redirect (HTTP_301)"
    return None


INVARIANTS = [backups_expire_after_30_days, color_is_validated, arm64_everywhere, https_listener]


def main(argv: list[str]) -> int:
    infra = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent / "infra"
    infra = infra.resolve()
    problems: list[str] = []
    pinned_file = infra / "module-inputs.json"
    try:
        pinned = json.loads(pinned_file.read_text())["modules"]
    except (OSError, ValueError, KeyError) as e:
        print(f"iac-check: cannot read {pinned_file}: {e}")
        return 1
    dirs = sorted({tf.parent for tf in infra.rglob("*.tf") if ".terraform" not in tf.parts})
    modules = {d.resolve(): load(d, problems) for d in dirs}
    refs = inputs = 0
    for module in modules.values():
        refs += check_references(module, modules, pinned, problems)
        inputs += check_module_inputs(module, modules, pinned, problems)
    root = modules.get(infra)
    if root is None:
        problems.append(f"{infra}: no .tf files")
    else:
        for invariant in INVARIANTS:
            found = invariant(root)
            if found:
                problems.append(f"{infra}: invariant broken: {found}")
    for p in problems:
        print(f"iac-check: {p}")
    if problems:
        print(f"iac-check: FAILED: {len(problems)} problem(s)")
        return 1
    print(
        f"iac-check: {len(modules)} module(s), {refs} references resolved, "
        f"{inputs} module inputs known, {len(INVARIANTS)} invariants hold"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
