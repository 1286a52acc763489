"""The compiled path's place in a request: it answers what it compiles, leaves
introspection and errors to the reference path, keeps its plans in a bounded
cache, and EXECUTOR=reference turns it off."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import ServedAPI

PAGE = "query($n: Int) { articles(first: $n) { nodes { title } } }"


def test_compiled_answers_and_plans_are_cached_per_document(seeded_api: ServedAPI) -> None:
    plans = seeded_api.plans
    before = plans.compiled
    for n in (1, 2, 1):
        assert len(seeded_api.data(PAGE, {"n": n})["articles"]["nodes"]) == n
    assert plans.compiled - before == 3
    assert len(plans.entries) == 1  # one plan, the variables bound at run time


def test_skip_and_include_on_variables_compile_one_plan_per_combination(
    seeded_api: ServedAPI,
) -> None:
    query = """query($t: Boolean!) { articles(first: 1) { nodes {
      title @include(if: $t) excerpt @skip(if: $t) } } }"""
    shown = seeded_api.data(query, {"t": True})["articles"]["nodes"][0]
    hidden = seeded_api.data(query, {"t": False})["articles"]["nodes"][0]
    assert list(shown) == ["title"]
    assert list(hidden) == ["excerpt"]
    (entry,) = [e for e in seeded_api.plans.entries.values() if e.directive_variables]
    assert set(entry.plans) == {(True,), (False,)}


def test_introspection_and_errors_run_on_the_reference_path(seeded_api: ServedAPI) -> None:
    plans = seeded_api.plans
    declined = plans.declined
    types = seeded_api.data("{ __schema { queryType { name } } }")
    assert types == {"__schema": {"queryType": {"name": "Query"}}}
    body = seeded_api.query("{ articles(first: 101) { totalCount } }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert plans.declined - declined == 2


def test_the_plan_cache_is_bounded(serve_api: Callable[..., ServedAPI], load: Any) -> None:
    api = serve_api(plan_cache_size=2)
    for n in range(5):
        api.data(f"{{ articles(first: {n}) {{ totalCount }} }}")
    assert len(api.plans.entries) == 2


def test_executor_reference_never_compiles(serve_api: Callable[..., ServedAPI]) -> None:
    api = serve_api(executor="reference")
    assert api.data("{ articles { totalCount } }") == {"articles": {"totalCount": 0}}
    assert (api.plans.compiled, api.plans.declined) == (0, 0)


def test_a_fault_of_the_compiled_path_is_answered_by_the_reference(
    seeded_api: ServedAPI, monkeypatch: Any
) -> None:
    from api.execution import hook

    def broken(*args: Any) -> None:
        raise RuntimeError("a bug in the planner")

    monkeypatch.setattr(hook, "_plan", broken)
    declined = seeded_api.plans.declined
    assert seeded_api.data("{ articles { totalCount } }") == {"articles": {"totalCount": 2}}
    assert seeded_api.plans.declined == declined + 1
