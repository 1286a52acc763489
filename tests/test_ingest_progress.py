"""What an operator sees while loading: a rich progress bar on a terminal, summary
lines in a log, nothing but the result with --quiet."""

from __future__ import annotations

import io
import re

import pytest

from loaders import progress
from loaders.progress import feedback

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_with_files_rate_rejects_and_eta() -> None:
    screen = Terminal()
    with feedback(100, quiet=False, stream=screen) as update:
        assert update is not None
        update(7, 12, 3)
    shown = ANSI.sub("", screen.getvalue())
    assert "loading" in shown
    assert "7/100 files" in shown
    assert "articles/s" in shown
    assert "3 rejected" in shown
    assert "ETA" in shown


def test_a_log_gets_a_summary_line_every_few_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    log = io.StringIO()
    monkeypatch.setattr(progress, "LINE_EVERY", 0.0)
    with feedback(100, quiet=False, stream=log) as update:
        assert update is not None
        update(7, 12, 3)
    (line,) = log.getvalue().splitlines()
    assert line.startswith("progress: 7/100 files, 12 articles, ")
    assert line.endswith(" articles/s, 3 rejected")


def test_a_log_is_not_flooded(monkeypatch: pytest.MonkeyPatch) -> None:
    log = io.StringIO()
    monkeypatch.setattr(progress, "LINE_EVERY", 3600.0)
    with feedback(100, quiet=False, stream=log) as update:
        assert update is not None
        for done in range(100):
            update(done, done, 0)
    assert log.getvalue() == ""


def test_quiet_shows_no_progress() -> None:
    with feedback(100, quiet=True, stream=Terminal()) as update:
        assert update is None
