"""Settings come from the environment, with the documented defaults, and a value
the API cannot use is refused with the variable's name."""

from __future__ import annotations

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
            "EXECUTOR": "Reference",
            "PLAN_CACHE_SIZE": "12",
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
    assert (settings.executor, settings.plan_cache_size) == ("reference", 12)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAX_QUERY_DEPTH", "deep"),
        ("MAX_QUERY_COST", "0"),
        ("APQ_SAFELIST", "maybe"),
        ("EXECUTOR", "jit"),
        ("PLAN_CACHE_SIZE", "0"),
    ],
)
def test_an_unusable_value_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"{name}='{value}' is not valid"):
        Settings.from_env({name: value})


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
