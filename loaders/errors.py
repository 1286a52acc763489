"""The one error an input can cause: it names where (line, field) and why."""

from __future__ import annotations


class InputError(ValueError):
    """An input that cannot become an article. ``line`` is 1-based, when known;
    ``field`` is a path such as ``related[1].webUrl``."""

    def __init__(self, reason: str, line: int | None = None, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.field = field

    def within(self, parent: str) -> InputError:
        """The same error seen from the enclosing value: ``parent`` (a field name or an
        ``[index]``) goes in front of the field path."""
        if self.field is None:
            self.field = parent
        elif self.field.startswith("["):
            self.field = parent + self.field
        else:
            self.field = f"{parent}.{self.field}"
        return self

    def describe(self, source: str) -> str:
        """``path[:line]: field.path: reason``, the form every rejection is reported in."""
        where = f"{source}:{self.line}" if self.line else source
        what = f"{self.field}: {self.reason}" if self.field else self.reason
        return f"{where}: {what}"
