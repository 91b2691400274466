""".dockerignore as Docker's own libraries read and apply it, for the digest that names an image.

A port of three small pieces of Go that pulumi-docker's context hash uses:
moby/patternmatcher's `ignorefile.ReadAll` (reading the file) and its
`Pattern` (one pattern as an exact, prefix, suffix or regular-expression
match, with `**`, `*`, `?`, `[...]`, `\\` escapes and `!` exceptions), and
tonistiigi/fsutil's walk filter (`MatchesUsingParentResults`, and when a
whole excluded directory is skipped). Paths are slash-separated and relative
to the build context, as on Linux and macOS, where paaskit plans.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "IgnoreMatcher",
    "read_ignore_file",
    "read_ignore_patterns",
]

_BOM = "\ufeff"
_REGEX_ESCAPED = frozenset(".+()|{}$")
_PATTERN_CHARS = frozenset("*[]?^\\")


def read_ignore_patterns(text: str) -> list[str]:
    """The patterns of an ignore file, as `ignorefile.ReadAll` returns them."""
    patterns = []
    for number, raw in enumerate(text.splitlines()):
        line = raw.removeprefix(_BOM) if number == 0 else raw
        if line.startswith("#"):
            continue
        line = line.strip()
        if not line:
            continue
        invert = line.startswith("!")
        if invert:
            line = line[1:].strip()
        if line:
            line = _go_clean(line)
            if len(line) > 1 and line.startswith("/"):
                line = line[1:]
        patterns.append(("!" if invert else "") + line)
    return patterns


def read_ignore_file(dockerfile: Path, context: Path) -> list[str]:
    """The patterns that apply to a build: `<Dockerfile>.dockerignore` if it exists, else
    `<context>/.dockerignore`, else none (pulumi-docker's `getIgnorePatterns`)."""
    for candidate in (Path(f"{dockerfile}.dockerignore"), context / ".dockerignore"):
        if candidate.is_file():
            return read_ignore_patterns(candidate.read_text(encoding="utf-8"))
    return []


def _go_clean(path: str) -> str:
    """Go's `filepath.Clean` on a slash path: `posixpath.normpath` keeps a leading `//`, Go does not."""
    cleaned = posixpath.normpath(path)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


@dataclass
class _Pattern:
    """One pattern of moby/patternmatcher, compiled the way its `Pattern.compile` does."""

    text: str
    exclusion: bool = False
    kind: str = field(init=False, default="exact")
    regex: re.Pattern[str] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        regex = "^"
        kind = "exact"
        chars = self.text
        index = 0
        position = 0
        while index < len(chars):
            char = chars[index]
            index += 1
            if char == "*":
                if index < len(chars) and chars[index] == "*":
                    index += 1
                    if index < len(chars) and chars[index] == "/":
                        index += 1
                    if index >= len(chars):
                        if kind == "exact":
                            kind = "prefix"
                        else:
                            regex += ".*"
                            kind = "regex"
                    else:
                        regex += "(.*/)?"
                        kind = "regex"
                    if position == 0:
                        kind = "suffix"
                else:
                    regex += "[^/]*"
                    kind = "regex"
            elif char == "?":
                regex += "[^/]"
                kind = "regex"
            elif char in _REGEX_ESCAPED:
                regex += "\\" + char
            elif char == "\\":
                if index < len(chars):
                    regex += "\\" + chars[index]
                    index += 1
                    kind = "regex"
                else:
                    regex += "\\\\"
            elif char in "[]":
                regex += char
                kind = "regex"
            else:
                regex += char
            position += 1
        self.kind = kind
        if kind == "regex":
            try:
                self.regex = re.compile(regex + r"\Z")
            except re.error as exc:
                raise ValueError(f"bad .dockerignore pattern {self.text!r}: {exc}") from None

    def match(self, path: str) -> bool:
        if self.kind == "exact":
            return path == self.text
        if self.kind == "prefix":
            return path.startswith(self.text[:-2])
        if self.kind == "suffix":
            suffix = self.text[2:]
            if path.endswith(suffix):
                return True
            return suffix.startswith("/") and path == suffix[1:]
        assert self.regex is not None
        return self.regex.match(path) is not None

    def without_trailing_glob(self) -> str:
        return self.text.removesuffix("/**").removesuffix("/*")


class IgnoreMatcher:
    """Which paths of a build context the ignore patterns exclude, as fsutil's walk decides."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns: list[_Pattern] = []
        for raw in patterns:
            text = raw.strip()
            if not text:
                continue
            text = _go_clean(text)
            exclusion = text.startswith("!")
            if exclusion:
                if len(text) == 1:
                    raise ValueError('illegal exclusion pattern: "!"')
                text = text[1:]
            self.patterns.append(_Pattern(text, exclusion))
        self.has_exclusions = any(p.exclusion for p in self.patterns)
        self.only_prefix_exceptions = not any(
            p.exclusion and set(p.without_trailing_glob()) & _PATTERN_CHARS for p in self.patterns
        )

    def matches(self, path: str, parent: object) -> tuple[bool, list[bool]]:
        """(excluded, what to pass to this path's children): `MatchesUsingParentResults`.

        `parent` is what `matches` returned for the nearest walked parent folder, or None.
        """
        parent_matched = parent if isinstance(parent, list) else []
        matched = False
        info = [False] * len(self.patterns)
        for i, pattern in enumerate(self.patterns):
            match = bool(parent_matched) and parent_matched[i]
            if not match:
                if pattern.exclusion != matched:
                    continue
                match = pattern.match(path)
                if not match and not parent_matched:
                    parent_path = posixpath.dirname(path)
                    if parent_path:
                        parts = parent_path.split("/")
                        for end in range(1, len(parts) + 1):
                            if pattern.match("/".join(parts[:end])):
                                match = True
                                break
            info[i] = match
            if match:
                matched = not pattern.exclusion
        return matched, info

    def can_skip(self, folder: str) -> bool:
        """Whether an excluded folder is skipped whole: no exception could match inside it."""
        if not self.only_prefix_exceptions:
            return False
        if not self.has_exclusions:
            return True
        inside = folder + "/"
        return not any(
            p.exclusion and (p.without_trailing_glob() + "/").startswith(inside)
            for p in self.patterns
        )
