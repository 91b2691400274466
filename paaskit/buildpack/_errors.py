"""The buildpack's one exception, and how its messages name a file and a line."""

from __future__ import annotations

import re
from pathlib import Path

from paaskit.errors import PaaskitError

__all__ = ["BuildpackError", "line_of", "toml_error", "where"]


class BuildpackError(PaaskitError, ValueError):
    """Nothing to build, or an input file is wrong. The message names the file (and line)."""


def where(path: Path | str, line: int | None = None) -> str:
    """`path:line` as compilers print it, or `path` when the line is not known."""
    return f"{path}:{line}" if line else str(path)


def toml_error(path: Path, exc: Exception) -> BuildpackError:
    """`path:line: invalid TOML: ...` from tomllib's error (its line is in the message on 3.11)."""
    message = str(exc)
    match = re.search(r"\s*\(at line (\d+), column \d+\)$", message)
    line = int(match.group(1)) if match else None
    if match:
        message = message[: match.start()]
    return BuildpackError(f"{where(path, line)}: invalid TOML: {message}")


def line_of(text: str, pattern: str) -> int | None:
    """The 1-based number of the first line matching the regular expression, if any."""
    compiled = re.compile(pattern)
    for number, line in enumerate(text.splitlines(), 1):
        if compiled.search(line):
            return number
    return None
