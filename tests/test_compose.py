"""docker-compose.yml is valid compose with the services the README promises.

No Docker engine runs on these machines, so the file is checked as data."""

from __future__ import annotations

from typing import Any

import yaml

from tests.conftest import ROOT


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def test_services_and_wiring() -> None:
    services = compose()["services"]
    assert set(services) == {"mongo", "api", "loader"}
    mongo = services["mongo"]
    assert mongo["image"].startswith("mongo:")
    assert "--replSet" in mongo["command"]
    assert any(volume.endswith(":/data/db") for volume in mongo["volumes"])
    assert "test" in mongo["healthcheck"]
    assert "rs.initiate" in " ".join(mongo["healthcheck"]["test"])

    for name in ("api", "loader"):
        service = services[name]
        assert service["build"] == "."
        assert service["environment"]["MONGODB_URI"].startswith("mongodb://mongo:27017/")
        assert service["depends_on"]["mongo"]["condition"] == "service_healthy"
    assert services["loader"]["command"] == ["python", "-m", "loaders", "seeds"]
    assert "mongo-data" in compose()["volumes"]
    # The API's search index outlives a container, on a volume of its own.
    api = services["api"]
    assert f"search-index:{api['environment']['SEARCH_INDEX_DIR']}" in api["volumes"]
    assert "search-index" in compose()["volumes"]


def test_dockerfile_runs_the_api() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'CMD ["python", "-m", "api"]' in dockerfile
    for package in ("api", "loaders", "storage", "seeds"):
        assert f"COPY {package} ./{package}" in dockerfile


def test_compose_runs_a_supported_mongodb_and_waits_for_the_loader() -> None:
    services = compose()["services"]
    assert services["mongo"]["image"].startswith("mongo:8.0.")  # exact 8.0 patch release
    api = services["api"]
    assert api["depends_on"]["loader"]["condition"] == "service_completed_successfully"
    assert "http://localhost:*" in api["environment"]["CORS_ORIGINS"]
    # The loader mounts a directory for the user's own files, and the README says how.
    assert any(volume.endswith(":/feeds:ro") for volume in services["loader"]["volumes"])
    readme = (ROOT / "README.md").read_text()
    assert "docker compose run --rm loader python -m loaders /feeds" in readme


def test_dockerfile_pins_its_base_and_installs_the_lock_before_the_code() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    (base,) = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("FROM ")]
    version = base.split(":")[1].split("-")[0]
    assert version.count(".") == 2, f"{base}: pin an exact Python release"
    lock = dockerfile.index("pip install --require-hashes -r requirements.lock")
    code = dockerfile.index("COPY api ./api")
    assert lock < code, "the dependency layer must come before the code"
    assert "pip install --no-deps ." in dockerfile


def test_dockerignore_keeps_the_heavy_directories_out_of_the_context() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".venv", ".data", "bench/corpus", "node_modules", ".git"} <= ignored
    needed = {"api", "loaders", "storage", "seeds", "requirements.lock", "pyproject.toml"}
    assert not needed & ignored
