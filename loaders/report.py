"""What a run did: totals, rejections, duplicates, and a per-input outcome log kept
in a temporary file (a million inputs never sit in memory) for ``--report``."""

from __future__ import annotations

import json
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson


@dataclass
class Duplicate:
    """The same article (URL) in two inputs of one run: the later one won."""

    id: str
    earlier: str
    later: str

    def describe(self) -> str:
        return f"{self.later}: same URL as {self.earlier}; the later input in sorted order wins"


@dataclass
class Report:
    files: int = 0  # inputs read: files, or standard input
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    superseded: int = 0
    valid: int = 0  # dry run: articles that would be written
    errors: list[str] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    unknown_fields: Counter[str] = field(default_factory=Counter)
    dry_run: bool = False
    # --strict's check found rejections, so nothing was written: not a dry run asked for.
    strict_refused: bool = False
    not_found: list[str] = field(default_factory=list)  # paths that do not exist
    _log: IO[str] = field(default_factory=lambda: tempfile.TemporaryFile("w+", encoding="utf-8"))  # noqa: SIM115
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def rejected(self) -> int:
        return len(self.errors)

    @property
    def articles(self) -> int:
        return self.inserted + self.updated + self.unchanged + self.valid

    def reject(self, source: str, reason: str) -> None:
        with self._lock:
            self.errors.append(reason)
            self._write({"input": source, "outcome": "rejected", "reasons": [reason]})

    def outcome(self, source: str, article_id: str, outcome: str) -> None:
        with self._lock:
            setattr(self, outcome, getattr(self, outcome) + 1)
            self._write({"input": source, "outcome": outcome, "id": article_id})

    def _write(self, entry: dict[str, Any]) -> None:
        self._log.write(orjson.dumps(entry).decode() + "\n")

    def entries(self) -> Any:
        """Every input's outcome, in the order they were decided."""
        with self._lock:
            self._log.flush()
            self._log.seek(0)
            for line in self._log:
                yield json.loads(line)
            self._log.seek(0, 2)

    def source_of(self, article_ids: set[str]) -> dict[str, str]:
        """The first input each of these articles came from in this run."""
        found: dict[str, str] = {}
        for entry in self.entries():
            if entry.get("id") in article_ids and entry["id"] not in found:
                found[entry["id"]] = entry["input"]
        return found

    def totals(self) -> dict[str, int]:
        totals = {"files": self.files, "rejected": self.rejected, "notFound": len(self.not_found)}
        names = ("valid",) if self.dry_run else ("inserted", "updated", "unchanged", "superseded")
        totals.update({name: getattr(self, name) for name in names})
        totals["duplicates"] = len(self.duplicates)
        totals["unknownFields"] = sum(self.unknown_fields.values())
        return totals

    def summary(self) -> str:
        if self.strict_refused:
            text = f"strict: nothing written: files read {self.files}, articles valid {self.valid}"
        elif self.dry_run:
            text = f"dry run: files read {self.files}, articles valid {self.valid}"
        else:
            text = (
                f"files read {self.files}, articles inserted {self.inserted}, "
                f"updated {self.updated}, unchanged {self.unchanged}"
            )
        text += f", rejected {self.rejected}"
        if self.not_found:
            text += f", paths not found {len(self.not_found)}"
        if self.duplicates:
            text += f", duplicate URLs {len(self.duplicates)}"
        if self.unknown_fields:
            fields = ", ".join(f"{name} ({n})" for name, n in self.unknown_fields.most_common(5))
            text += f"; unknown fields kept under extra: {fields}"
        return text

    def write_json(self, path: Path) -> None:
        """The ``--report`` file: totals, duplicates, unknown fields, every input."""
        with path.open("w", encoding="utf-8") as out:
            head = {
                "totals": self.totals(),
                "duplicates": [vars(d) for d in self.duplicates],
                "notFound": self.not_found,
                "unknownFields": dict(self.unknown_fields.most_common()),
            }
            out.write(json.dumps(head, ensure_ascii=False, indent=1)[:-2])
            out.write(',\n "inputs": [')
            for number, entry in enumerate(self.entries()):
                separator = "\n  " if number == 0 else ",\n  "
                out.write(separator + json.dumps(entry, ensure_ascii=False))
            out.write("\n ]\n}\n")

    def close(self) -> None:
        self._log.close()
