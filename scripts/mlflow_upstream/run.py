"""Run MLflow's own tracking integration tests against a genuine ``mlflow server`` and Registre.

    .venv/bin/python scripts/mlflow_upstream/run.py SOURCE [--ref REF] [--workdir DIR] [-- ARGS]

SOURCE is an MLflow source checkout, its ``tests`` directory, or a git directory holding one
(bare or not; ``--ref`` picks the commit, HEAD by default). The test files are copied into a
working directory under /tmp at run time (none of MLflow's code is kept in this repository),
their server fixtures are replaced by ``servers.py``, and pytest runs once per target. The
script prints both pass lists and their difference. See README.md.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEST_FILES = [
    "tests/tracking/test_rest_tracking.py",
    "tests/tracking/test_model_registry.py",
    "tests/tracking/test_mlflow_artifacts.py",
]
TARGETS = ("mlflow", "registre")

# (regular expression searched in "test_name[params]", why it is out of scope). Registre serves
# experiments, runs, metrics, params, tags, logged models, the model registry and the artifact
# proxy; the GenAI side of MLflow's server is not part of the goal.
DESELECT: list[tuple[str, str]] = [
    (r"graphql", "GraphQL API"),
    (r"trace|span", "tracing (traces, spans, OTLP ingestion)"),
    (r"assessment", "GenAI assessments"),
    (r"gateway|endpoint|model_definition|provider|^test_list_models", "AI gateway"),
    (r"secret", "AI gateway secrets"),
    (r"promptlab|prompt", "prompts and prompt lab runs"),
    (r"evaluation_dataset|dataset_to_experiments|dataset_from_experiments"
     r"|experiments_at_once|dataset_experiment_association|idempotent_(add|remove)_experiments"
     r"|client_api_add_remove_experiments", "GenAI evaluation datasets"),
    (r"scorer|online_scoring", "scorers and online scoring"),
    (r"issue", "GenAI issues"),
    (r"workspace", "workspaces"),
    (r"webhook", "webhooks"),
    (r"job", "server jobs"),
    (r"^test_mlflow_artifacts_example", "builds Docker images from MLflow's examples/"),
    (r"^test_create_model_version_with_validation_regex",
     "starts its own mlflow server to test one of its settings"),
]  # fmt: skip


# ---- reading the source -----------------------------------------------------------------------
def source_reader(source: Path, ref: str) -> Callable[[str], str | None]:
    """A function reading ``tests/...`` paths from a checkout, a tests dir, or a git dir."""
    if (source / TEST_FILES[0]).is_file():
        return lambda rel: _read_text(source / rel)
    if (source / TEST_FILES[0].removeprefix("tests/")).is_file():
        return lambda rel: _read_text(source / rel.removeprefix("tests/"))
    git_dir = source / ".git" if (source / ".git").exists() else source
    probe = subprocess.run(["git", "--git-dir", str(git_dir), "rev-parse", "--verify",
                            f"{ref}^{{commit}}"], capture_output=True, text=True)  # fmt: skip
    if probe.returncode != 0:
        sys.exit(f"{source}: not an MLflow checkout, tests directory or git directory "
                 f"with {ref!r} ({probe.stderr.strip()})")  # fmt: skip
    commit = probe.stdout.strip()

    def read(rel: str) -> str | None:
        shown = subprocess.run(["git", "--git-dir", str(git_dir), "show", f"{commit}:{rel}"],
                               capture_output=True)  # fmt: skip
        return shown.stdout.decode() if shown.returncode == 0 else None

    return read


def _read_text(path: Path) -> str | None:
    return path.read_text() if path.is_file() else None


def renamed_package(text: str) -> str | None:
    """The name a fork gave the ``mlflow`` package, if it renamed it (e.g. ``MLForge``)."""
    if re.search(r"^import mlflow\b|^from mlflow\b", text, re.M):
        return None
    match = re.search(r"^from (\w+)\.exceptions import", text, re.M) or re.search(
        r"^import (\w+)\.pyfunc", text, re.M
    )
    return match.group(1) if match else None


def rename_back(text: str, name: str) -> str:
    """Undo a fork's case-losing rename of ``mlflow``: ``X_UPPER`` → ``MLFLOW_UPPER``,
    ``XClient`` → ``MlflowClient``, anything else → ``mlflow``."""
    text = re.sub(rf"{re.escape(name)}_(?=[A-Z])", "MLFLOW_", text)
    text = re.sub(rf"{re.escape(name)}(?=[A-Z])", "Mlflow", text)
    return text.replace(name, "mlflow")


def local_imports(text: str) -> tuple[set[str], set[str]]:
    """``tests.*`` modules that ``text`` imports (at any depth): those it needs, and names
    imported from them that may be submodules too."""
    needed, maybe = set(), set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == "tests":
                needed.add(node.module)
                maybe.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            needed.update(a.name for a in node.names if a.name.split(".")[0] == "tests")
    return needed, maybe


# ---- the working directory --------------------------------------------------------------------
def prepare(read: Callable[[str], str | None], workdir: Path, package: str | None) -> list[str]:
    """Copy the test files and the ``tests.*`` modules they need; returns the copied paths."""
    first = read(TEST_FILES[0])
    if first is None:
        sys.exit(f"{TEST_FILES[0]} not found in the source")
    package = package or renamed_package(first)
    if package:
        print(f"the source renamed the mlflow package to {package!r}: renaming it back")

    def fetch(rel: str) -> str | None:
        text = read(rel)
        return rename_back(text, package) if text is not None and package else text

    tests = workdir / "tests"
    if tests.exists():
        shutil.rmtree(tests)
    pending = list(TEST_FILES)
    copied: list[str] = []
    seen: set[str] = set()
    needed: set[str] = set()
    while pending:
        rel = pending.pop()
        if rel in seen:
            continue
        seen.add(rel)
        text = fetch(rel)
        if text is None:
            continue
        target = workdir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if rel in TEST_FILES:
            text = patch_fixtures(text)
        target.write_text(text)
        copied.append(rel)
        imported, maybe = local_imports(text)
        needed |= imported
        for module in imported | maybe:
            base = module.replace(".", "/")
            pending += [f"{base}.py", f"{base}/__init__.py"]
    for rel in TEST_FILES:
        if not (workdir / rel).exists():
            sys.exit(f"{rel} not found in the source")
    for package_dir in {p.parent for p in tests.rglob("*.py")} | {tests}:
        while package_dir != workdir:
            (package_dir / "__init__.py").touch(exist_ok=True)
            package_dir = package_dir.parent
    shutil.copyfile(HERE / "conftest.py", tests / "conftest.py")
    shutil.copyfile(HERE / "servers.py", tests / "upstream_servers.py")
    (workdir / "pytest.ini").write_text(
        "[pytest]\naddopts = -p no:cacheprovider\n"
        "filterwarnings =\n    ignore::DeprecationWarning\n"
    )
    (workdir / "deselect.json").write_text(json.dumps(DESELECT, indent=1))
    for module in sorted(needed):
        base = workdir / module.replace(".", "/")
        if not base.with_suffix(".py").exists() and not (base / "__init__.py").exists():
            print(f"warning: {module} is imported by the tests but not in the source")
    return sorted(copied)


def patch_fixtures(text: str) -> str:
    """Rebind the module's server fixtures to ``tests.upstream_servers``' (a name assigned later
    in a module wins, and pytest collects fixtures by name from the module)."""
    defined = {
        node.name
        for node in ast.parse(text).body
        if isinstance(node, ast.FunctionDef)
        and any("fixture" in ast.unparse(d) for d in node.decorator_list)
    }
    overridden = [n for n in ("mlflow_client", "mlflow_client_with_secrets", "client",
                              "artifacts_server") if n in defined]  # fmt: skip
    if not overridden:
        return text
    names = ", ".join(overridden)
    return f"{text}\n\n# Server fixtures replaced by Registre's upstream harness.\n" \
           f"from tests.upstream_servers import {names}  # noqa: E402, F401, F811\n"  # fmt: skip


# ---- running ----------------------------------------------------------------------------------
def run_target(
    workdir: Path, target: str, python: str, extra: list[str], registre_src: Path | None = None
) -> subprocess.Popen[bytes]:
    results = workdir / f"results-{target}.jsonl"
    results.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "REGISTRE_"))}
    env.update(
        UPSTREAM_TARGET=target,
        UPSTREAM_RESULTS=str(results),
        UPSTREAM_DESELECT=str(workdir / "deselect.json"),
        UPSTREAM_SERVER_PYTHON=python,
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONPATH=str(workdir),
        TMPDIR=str(_tmp(workdir, target)),
    )
    if registre_src:
        env["UPSTREAM_REGISTRE_PATH"] = str(registre_src.resolve())
    timeout = ["--timeout", "600"] if _has_module(python, "pytest_timeout") else []
    command = [python, "-m", "pytest", *TEST_FILES, "-c", "pytest.ini", "--rootdir", ".",
               "-q", "-rfE", *timeout, *extra]  # fmt: skip
    log = (workdir / f"pytest-{target}.log").open("wb")
    print(f"[{target}] {' '.join(command)}  (log: {workdir / f'pytest-{target}.log'})")
    return subprocess.Popen(command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)


def _tmp(workdir: Path, target: str) -> Path:
    path = workdir / f"tmp-{target}"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir()
    return path


def _has_module(python: str, name: str) -> bool:
    probe = [python, "-c", f"import importlib.util, sys; "
             f"sys.exit(importlib.util.find_spec({name!r}) is None)"]  # fmt: skip
    return subprocess.run(probe, capture_output=True).returncode == 0


def load(workdir: Path, target: str) -> dict[str, str]:
    path = workdir / f"results-{target}.jsonl"
    if not path.exists():
        return {}
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {row["nodeid"]: row["outcome"] for row in rows}


def report(workdir: Path) -> str:
    results = {target: load(workdir, target) for target in TARGETS}
    lines = []
    for target, outcomes in results.items():
        counts: dict[str, int] = {}
        for outcome in outcomes.values():
            counts[outcome] = counts.get(outcome, 0) + 1
        summary = ", ".join(f"{n} {o}" for o, n in sorted(counts.items()))
        lines.append(f"{target}: {summary or 'no results'}")
    passed = {t: {n for n, o in r.items() if o == "passed"} for t, r in results.items()}
    for target in TARGETS:
        lines += ["", f"== passed against {target} ({len(passed[target])})"]
        lines += sorted(passed[target])
    reference = passed["mlflow"]
    missing = sorted(reference - passed["registre"])
    lines += ["", f"== passed against mlflow, not against registre ({len(missing)})"]
    lines += [f"{n}  [{results['registre'].get(n, 'not run')}]" for n in missing]
    extra = sorted(passed["registre"] - reference)
    lines += ["", f"== passed against registre, not against mlflow ({len(extra)})"]
    lines += [f"{n}  [{results['mlflow'].get(n, 'not run')}]" for n in extra]
    lines += ["", f"registre passes {len(reference & passed['registre'])} of the {len(reference)} "
              "tests that pass against mlflow server"]  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "source", type=Path, nargs="?", help="MLflow checkout, its tests dir, or a git dir"
    )
    parser.add_argument("--ref", default="HEAD", help="commit to read from a git directory")
    parser.add_argument("--workdir", type=Path, help="default: a new /tmp/registre-upstream-*")
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter with mlflow, registre and pytest (default: this one)",
    )
    parser.add_argument(
        "--targets",
        default=",".join(TARGETS),
        help="comma-separated: mlflow, registre (default: both)",
    )
    parser.add_argument(
        "--registre-src",
        type=Path,
        help="serve Registre from this src/ directory instead of the installed one",
    )
    parser.add_argument("--parallel", action="store_true", help="run the targets at once")
    parser.add_argument(
        "--package", help="the name a fork gave the mlflow package (detected when omitted)"
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="only print the comparison of the results already in --workdir",
    )
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    pytest_args = argv[split + 1 :]

    if args.source is None and not args.report_only:
        parser.error("SOURCE is required (except with --report-only)")
    if args.report_only and args.workdir is None:
        parser.error("--report-only needs --workdir")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="registre-upstream-", dir="/tmp"))
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        copied = prepare(source_reader(args.source.resolve(), args.ref), workdir, args.package)
        print(f"working directory {workdir}: {len(copied)} files from {args.source}")
        started = time.monotonic()
        targets = [t for t in args.targets.split(",") if t]
        if unknown := set(targets) - set(TARGETS):
            sys.exit(f"unknown targets {sorted(unknown)}: expected {list(TARGETS)}")
        processes = []
        for target in targets:
            processes.append(
                run_target(workdir, target, args.python, pytest_args, args.registre_src)
            )
            if not args.parallel:
                processes[-1].wait()
        for process in processes:
            process.wait()
        print(f"ran in {time.monotonic() - started:.0f}s")
    text = report(workdir)
    (workdir / "summary.txt").write_text(text + "\n")
    print(text)
    print(f"\n(summary in {workdir / 'summary.txt'})")


if __name__ == "__main__":
    main()
