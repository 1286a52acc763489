"""The compact set of ids a run has seen (duplicate detection at a million files)."""

from __future__ import annotations

import hashlib

from loaders import seen
from loaders.seen import SeenIds


def test_ids_are_found_before_and_after_a_merge(monkeypatch: object) -> None:
    monkeypatch.setattr(seen, "MERGE_EVERY", 7)  # type: ignore[attr-defined]
    ids = [hashlib.blake2b(str(n).encode(), digest_size=12).hexdigest() for n in range(100)]
    found = SeenIds()
    for number, article_id in enumerate(ids):
        assert article_id not in found
        found.add(article_id)
        assert article_id in found
        assert all(earlier in found for earlier in ids[: number + 1])
    assert len(found) == 100
    assert "f" * 24 not in found and "0" * 24 not in found
