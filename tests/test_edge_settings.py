"""Settings come from the environment, with the documented defaults, and a value
the API cannot use is refused with the variable's name."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from api.settings import Settings, SettingsError


def test_defaults_are_the_documented_ones() -> None:
    settings = Settings.from_env({})
    assert (settings.max_depth, settings.max_aliases, settings.max_tokens) == (12, 30, 5000)
    assert (settings.max_query_bytes, settings.max_body_bytes) == (100_000, 2_000_000)
    assert (settings.max_cost, settings.cache_max_age, settings.mongo_timeout_ms) == (
        50_000,
        30,
        2000,
    )
    assert settings.cors_origins == ()
    assert (settings.apq_max_queries, settings.apq_safelist) == (10_000, False)
    assert (settings.search_index_dir, settings.search_writer_heap_mb) == (None, 16)
    assert (settings.executor, settings.plan_cache_size) == ("compiled", 1000)


def test_every_limit_is_read_from_its_variable() -> None:
    settings = Settings.from_env(
        {
            "MAX_QUERY_DEPTH": "5",
            "MAX_QUERY_ALIASES": "6",
            "MAX_QUERY_TOKENS": "700",
            "MAX_QUERY_BYTES": "800",
            "MAX_BODY_BYTES": "900",
            "MAX_QUERY_COST": "1000",
            "CACHE_MAX_AGE": "0",
            "CORS_ORIGINS": " https://a.example/ ,http://localhost:*,",
            "APQ_MAX_QUERIES": "11",
            "APQ_SAFELIST": "true",
            "MONGO_TIMEOUT_MS": "1500",
            "SEARCH_INDEX_DIR": "/var/lib/newsgraph/search",
            "SEARCH_WRITER_HEAP_MB": "32",
            "EXECUTOR": "Reference",
            "PLAN_CACHE_SIZE": "12",
            "GC_MODE": "Python",
            "SEARCH_THREAD_POSTINGS": "0",
        }
    )
    assert (settings.max_depth, settings.max_aliases, settings.max_tokens) == (5, 6, 700)
    assert (settings.max_query_bytes, settings.max_body_bytes, settings.max_cost) == (
        800,
        900,
        1000,
    )
    assert settings.cache_max_age == 0
    assert settings.cors_origins == ("https://a.example", "http://localhost:*")
    assert (settings.apq_max_queries, settings.apq_safelist) == (11, True)
    assert settings.mongo_timeout_ms == 1500
    assert str(settings.search_index_dir) == "/var/lib/newsgraph/search"
    assert settings.search_writer_heap_mb == 32
    assert (settings.executor, settings.plan_cache_size) == ("reference", 12)
    assert settings.gc_mode == "python"
    assert settings.search_thread_postings == 0


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("MAX_QUERY_DEPTH", "deep", "expected a whole number"),
        ("MAX_QUERY_DEPTH", "1.5", "expected a whole number"),
        ("MAX_QUERY_COST", "0", "expected a whole number above 0"),
        ("KEEPALIVE_INTERVAL", "-1", "expected a whole number, 0 or more"),
        ("APQ_SAFELIST", "maybe", "expected true, false or the path of a persisted query"),
        ("SEARCH_WRITER_HEAP_MB", "8", "expected a whole number of MiB, at least 15"),
        ("SEARCH_WRITER_HEAP_MB", "lots", "expected a whole number of MiB, at least 15"),
        ("MONGO_MAX_STALENESS_S", "30", "expected a whole number of seconds, 90 or more"),
        ("MONGO_MAX_STALENESS_S", "soon", "expected a whole number of seconds, 90 or more"),
        ("EXECUTOR", "jit", "expected one of compiled, reference"),
        ("PLAN_CACHE_SIZE", "0", "expected a whole number above 0"),
        ("GC_MODE", "off", "expected one of tuned, python"),
    ],
)
def test_an_unusable_value_names_its_variable_and_what_is_expected(
    name: str, value: str, reason: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({name: value})
    assert str(caught.value).startswith(f"{name}='{value}' is not valid: {reason}")


def test_every_setting_is_read_from_one_variable() -> None:
    """The table is the one list: each Settings field is set by exactly one
    variable, and a variable left blank keeps the default."""
    from api.settings import TABLE

    read = [field for variable in TABLE for field in variable.fields]
    assert sorted(read) == sorted(field.name for field in dataclasses.fields(Settings))
    assert len({variable.name for variable in TABLE}) == len(TABLE)
    assert Settings.from_env({variable.name: "  " for variable in TABLE}) == Settings()


def test_python_m_api_names_a_bad_setting_without_a_traceback() -> None:
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {**os.environ, "PORT": "eighty"}
    run = subprocess.run(
        [sys.executable, "-m", "api"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=30, check=False,
    )  # fmt: skip
    assert run.returncode == 1
    assert "PORT='eighty' is not valid" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("PORT", "70000", "expected a port number from 1 to 65535"),
        ("PORT", "0", "expected a port number from 1 to 65535"),
        ("HOST", "256.1.1.1", "expected an IP address"),
        ("HOST", "not a host", "expected an IP address or a host name"),
        ("MONGODB_URI", "localhost:27017", "expected a URI starting with mongodb://"),
        ("NEWSGRAPH_DB", "news.graph", "expected a database name"),
    ],
)
def test_python_m_api_refuses_a_malformed_setting_in_one_sentence(
    name: str, value: str, reason: str
) -> None:
    run = _python_m_api({name: value})
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith(f"error: {name}='{value}' is not valid: {reason}")
    assert "Traceback" not in run.stderr


def test_a_uri_password_is_masked_in_the_message() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"MONGODB_URI": "mongodb://user:s3cret@a:b:c/"})
    assert "s3cret" not in str(caught.value)
    assert "mongodb://user:***@" in str(caught.value)


def test_good_hosts_are_accepted() -> None:
    for host in ("127.0.0.1", "0.0.0.0", "::1", "localhost", "api.example.org"):
        assert Settings.from_env({"HOST": host}).host == host


def test_python_m_api_help_lists_the_variables_and_does_not_start() -> None:
    from api.settings import VARIABLES
    from tests.conftest import ROOT

    run = _python_m_api({"PORT": "1"}, "--help")  # port 1 would fail to bind if it started
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("usage: python -m api")
    readme = (ROOT / "README.md").read_text()
    for name, _, _ in VARIABLES:
        assert f"  {name} " in run.stdout
        assert f"| `{name}` |" in readme  # documented in the Configuration table
    other = _python_m_api({}, "--port", "9000")
    assert other.returncode == 1
    assert "takes no arguments" in other.stderr and "--help" in other.stderr


def _python_m_api(env: dict[str, str], *args: str) -> Any:
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    return subprocess.run(
        [sys.executable, "-m", "api", *args], cwd=ROOT, env={**os.environ, **env},
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
