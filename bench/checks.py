"""What the bench does with both servers before timing them: take the deep cursors,
check that the floor answers exactly newsgraph's ``data``, and measure what each
request costs in MongoDB."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import orjson
from pymongo import MongoClient

from bench.operations import Pools

HEADERS = {"content-type": "application/json"}
PAGE_QUERY = """query pages($after: String) {
  articles(first: 100, after: $after) { edges { cursor } pageInfo { hasNextPage endCursor } }
}"""


class Mismatch(AssertionError):
    """The floor's answer differs from newsgraph's: the comparison would be unfair."""


def post(client: httpx.Client, url: str, body: bytes) -> dict[str, Any]:
    response = client.post(url, content=body, headers=HEADERS)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:500]}")
    parsed: dict[str, Any] = response.json()
    return parsed


def deep_cursors(url: str, first_page: int, last_page: int, size: int = 20) -> list[str]:
    """The cursors that open pages first_page..last_page of ``articles(first: size)``:
    the cursor of the last article of the page before each, taken by paging newsgraph."""
    wanted = {(page - 1) * size - 1: page for page in range(first_page, last_page + 1)}
    found: dict[int, str] = {}
    after: str | None = None
    seen = 0
    with httpx.Client(timeout=30) as client:
        while len(found) < len(wanted):
            body = orjson.dumps({"query": PAGE_QUERY, "variables": {"after": after}})
            result = post(client, url, body)
            if "errors" in result:
                raise RuntimeError(
                    f"paging newsgraph for the deep cursors failed: {result['errors']}"
                )
            connection = result["data"]["articles"]
            for edge in connection["edges"]:
                if seen in wanted:
                    found[seen] = edge["cursor"]
                seen += 1
            if not connection["pageInfo"]["hasNextPage"]:
                break
            after = connection["pageInfo"]["endCursor"]
    if len(found) < len(wanted):
        raise RuntimeError(f"the corpus has {seen} articles: too few for page {last_page}")
    return [found[index] for index in sorted(found)]


def normalised(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def first_difference(left: Any, right: Any, path: str = "data") -> str | None:
    """Where two JSON values first differ, as a path, with both values."""
    if isinstance(left, dict) and isinstance(right, dict):
        for key in sorted(set(left) | set(right)):
            if key not in left or key not in right:
                return f"{path}.{key}: present in only one answer"
            found = first_difference(left[key], right[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            return f"{path}: {len(left)} items in newsgraph's answer, {len(right)} in the floor's"
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            found = first_difference(a, b, f"{path}[{index}]")
            if found:
                return found
        return None
    if normalised(left) != normalised(right):
        return f"{path}: newsgraph {json.dumps(left)[:200]} != floor {json.dumps(right)[:200]}"
    return None


def ties_unordered(data: Any) -> Any:
    """``search``'s answer with its edges in order of score then id, and the edges tied
    with the page's last one kept by score alone. tantivy orders equal scores by
    document address, and two indexes of the same articles place them differently
    once they hold several segments (at 100,000 articles, not at 10,000): either
    order is right, and so is either choice among a tie cut by the page's end."""
    if not isinstance(data, dict) or not isinstance(data.get("search"), dict):
        return data
    edges = data["search"].get("edges")
    if not isinstance(edges, list) or not edges:
        return data
    last = edges[-1]["score"]
    ranked = sorted(
        (edge for edge in edges if edge["score"] != last),
        key=lambda edge: (-edge["score"], normalised(edge)),
    )
    tied = [{"score": last} for edge in edges if edge["score"] == last]
    return {**data, "search": {**data["search"], "edges": ranked + tied}}


def check_identity(newsgraph_url: str, floor_url: str, pools: Pools, operations: list[str]) -> None:
    """Every request of every pool: newsgraph answers without errors, and the floor's
    body equals newsgraph's ``data`` after key-order normalisation (for ``search``,
    equal scores in any order: ties_unordered). Raises Mismatch."""
    with httpx.Client(timeout=30) as client:
        for operation in operations:
            for body in pools.bodies(operation):
                ours = post(client, newsgraph_url, body)
                if "errors" in ours:
                    raise Mismatch(f"{operation}: newsgraph answered errors: {ours['errors']}")
                floor = post(client, floor_url, body)
                mine, theirs = ours["data"], floor.get("data")
                if operation == "search":
                    mine, theirs = ties_unordered(mine), ties_unordered(theirs)
                if normalised(mine) != normalised(theirs):
                    where = first_difference(mine, theirs)
                    raise Mismatch(
                        f"{operation}: the floor's answer differs from newsgraph's at {where} "
                        f"(request {body.decode()[-200:]})"
                    )


def mongo_cost(
    mongo: MongoClient[dict[str, Any]], url: str, bodies: list[bytes], requests: int
) -> dict[str, float]:
    """MongoDB round trips per request, bytes MongoDB sent per response byte, and the
    latency of one request alone (``sequential_ms``), from the
    deltas of ``serverStatus().network`` over `requests` sequential requests. The bench's
    mongod serves only the two servers and this client, so the deltas are theirs; what
    a serverStatus call itself costs is measured and subtracted, and idle heartbeats
    add at most a few hundredths per request."""

    def network() -> dict[str, int]:
        status: dict[str, int] = mongo.admin.command("serverStatus")["network"]
        return status

    with httpx.Client(timeout=30) as client:  # warm up: pools open their connections
        for body in bodies[:5]:
            client.post(url, content=body, headers=HEADERS)
    # Two calls back to back: what one serverStatus costs, subtracted below.
    calibration = network()
    before = network()
    overhead_requests = before["numRequests"] - calibration["numRequests"]
    overhead_bytes = before["bytesOut"] - calibration["bytesOut"]
    response_bytes = 0
    started = time.perf_counter()
    with httpx.Client(timeout=300) as client:
        for index in range(requests):
            response = client.post(url, content=bodies[index % len(bodies)], headers=HEADERS)
            response_bytes += len(response.content)
    elapsed = time.perf_counter() - started
    after = network()
    round_trips = after["numRequests"] - before["numRequests"] - overhead_requests
    mongo_bytes = after["bytesOut"] - before["bytesOut"] - overhead_bytes
    return {
        "mongo_round_trips": round(round_trips / requests, 2),
        "mongo_bytes_per_response_byte": round(mongo_bytes / max(1, response_bytes), 2),
        "response_bytes": round(response_bytes / requests),
        "sequential_ms": round(elapsed / requests * 1000, 3),
    }
