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
