"""Markdown tables of the benchmark's results, as the README shows them."""

from __future__ import annotations

from typing import Any


def markdown_table(results: dict[str, Any]) -> str:
    servers = results["servers"]
    versions = results["versions"]
    lines = [
        f"N = {results['n']:,} articles, {results['load_generator']}, "
        f"{results['connections']} connections, {results['duration_s']:g} s per operation "
        f"and server (longer where one request alone is slow: `duration_s` in the JSON), "
        f"median of {results['rounds']} round(s); {results['date']}; "
        f"{results['machine']['cpu_count']} CPUs; newsgraph {versions['newsgraph_commit']}, "
        f"mongod {versions['mongod']}; deep = pages {results['deep_pages'][0]}"
        f"..{results['deep_pages'][1]}. Peak RSS: newsgraph "
        f"{servers['newsgraph']['peak_rss_mb']} MiB, floor {servers['floor']['peak_rss_mb']} MiB.",
        "",
        "| operation | req/s newsgraph | req/s floor | ratio_rps | p50 ms newsgraph "
        "| p50 ms floor | ratio_p50 | p99 ms newsgraph | p99 ms floor "
        "| Mongo round trips (ng / floor) | Mongo bytes per response byte (ng / floor) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, entry in results["operations"].items():
        ours, floor = entry["newsgraph"], entry["floor"]
        lines.append(
            f"| {name} | {_rate(ours['rps'])} | {_rate(floor['rps'])} | {entry['ratio_rps']:.2f} "
            f"| {ours['p50_ms']:.2f} | {floor['p50_ms']:.2f} | {entry['ratio_p50']:.2f} "
            f"| {ours['p99_ms']:.2f} | {floor['p99_ms']:.2f} "
            f"| {ours['mongo_round_trips']:g} / {floor['mongo_round_trips']:g} "
            f"| {ours['mongo_bytes_per_response_byte']:g} / "
            f"{floor['mongo_bytes_per_response_byte']:g} |"
        )
    return "\n".join(lines) + "\n"


def _rate(rps: float) -> str:
    return f"{rps:.0f}" if rps >= 10 else f"{rps:.2f}"


def scale_table(scale: dict[str, Any]) -> str:
    small, large = scale["sizes"][0], scale["sizes"][-1]
    lines = [
        f"p50 latency by corpus size ({', '.join(f'{n:,}' for n in scale['sizes'])} articles); "
        f"{scale['date']}.",
        "",
        f"| operation | p50 ms newsgraph at {small:,} | at {large:,} | ratio "
        f"| p50 ms floor at {small:,} | at {large:,} | ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, entry in scale["operations"].items():
        ours, floor = entry["newsgraph"], entry["floor"]
        lines.append(
            f"| {name} | {ours['p50_ms'][str(small)]:.2f} | {ours['p50_ms'][str(large)]:.2f} "
            f"| {ours['ratio_p50']:.2f} | {floor['p50_ms'][str(small)]:.2f} "
            f"| {floor['p50_ms'][str(large)]:.2f} | {floor['ratio_p50']:.2f} |"
        )
    return "\n".join(lines) + "\n"
