"""User-facing errors: one line that says what is wrong and how to fix it.

The CLI prints `error: <message>` and exits with code 2 for any `SummaristError`; tracebacks are
shown only with `--debug`. Library callers can catch the specific subclasses.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class SummaristError(Exception):
    """Base class for errors caused by user input or environment, not by bugs."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(self.one_line())

    def one_line(self) -> str:
        return f"{self.message}; {self.hint}" if self.hint else self.message


class DataError(SummaristError):
    """A data source is missing, malformed, or empty after filtering."""


class ColumnError(DataError):
    """A requested column does not exist or cannot be detected."""


class ConfigError(SummaristError):
    """A configuration value or combination of flags is invalid."""


class ModelError(SummaristError):
    """A model cannot be found, loaded or used as asked."""


class OfflineError(SummaristError):
    """Something needs the network (Hugging Face Hub) and it is not reachable."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ", did you mean 'x'?" for the closest choice, or "" when none is close."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if not matches:
        lowered = {c.lower(): c for c in choices}
        if word.lower() in lowered:
            matches = [lowered[word.lower()]]
    return f"; did you mean '{matches[0]}'?" if matches else ""


def check_choice(flag: str, value: str, choices: Iterable[str]) -> str:
    """`value` if it is one of `choices`, else a ConfigError naming the flag and the closest one.

    >>> check_choice("--dedupe", "pair", ("pair", "source", "none"))
    'pair'
    """
    options = list(choices)
    if value not in options:
        raise ConfigError(
            f"unknown {flag} '{value}'{did_you_mean(value, options)}",
            f"use one of {', '.join(options)}",
        )
    return value
