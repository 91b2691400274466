"""Reading a user's own Dockerfile: the ENTRYPOINT and CMD its final stage leaves on the image.

The App needs them to know what a container runs when a service sets no command (and what a
`command` is given to, since it replaces CMD and keeps ENTRYPOINT).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ._errors import BuildpackError

__all__ = ["image_command"]


_DIRECTIVE = re.compile(r"^#\s*([A-Za-z]+)\s*=\s*(\S+)\s*$")
_HEREDOC = re.compile(r"(?<!<)<<(?!<)(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")


def _instructions(text: str) -> Iterator[tuple[str, str]]:
    """(KEYWORD, arguments) of each instruction: continuations joined, comments and
    heredoc bodies skipped, the `escape` parser directive honoured."""
    lines = text.splitlines()
    escape = "\\"
    index = 0
    while index < len(lines):  # parser directives: only before anything else
        match = _DIRECTIVE.match(lines[index].strip())
        if not match:
            break
        if match.group(1).lower() == "escape" and match.group(2) in {"\\", "`"}:
            escape = match.group(2)
        index += 1
    current: str | None = None
    while index < len(lines):
        line = lines[index]
        index += 1
        stripped = line.strip()
        if stripped.startswith("#") or (current is None and not stripped):
            continue
        if current is not None and not stripped:
            continue  # an empty line inside a continuation
        body = line.rstrip()
        if body.endswith(escape):
            current = (current or "") + body[: -len(escape)]
            continue
        logical = ((current or "") + line).strip()
        current = None
        match = re.match(r"^([A-Za-z]+)\s*(.*)$", logical, re.DOTALL)
        if not match:
            continue
        keyword, arguments = match.group(1).upper(), match.group(2).strip()
        yield keyword, arguments
        if keyword in {"RUN", "COPY", "ADD"}:
            for strip_tabs, _, delimiter in _HEREDOC.findall(arguments):
                while index < len(lines):
                    body_line = lines[index]
                    index += 1
                    if (body_line.lstrip("\t") if strip_tabs else body_line) == delimiter:
                        break
    if current is not None:
        match = re.match(r"^([A-Za-z]+)\s*(.*)$", current.strip(), re.DOTALL)
        if match:
            yield match.group(1).upper(), match.group(2).strip()


def _command_form(arguments: str, shell: Sequence[str]) -> tuple[str, ...]:
    """Exec form (a JSON array of strings) as is; anything else runs through the shell."""
    if arguments.startswith("["):
        try:
            parsed = json.loads(arguments)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(item, str) for item in parsed):
            return tuple(parsed)
    return (*shell, arguments)


@dataclass
class _Stage:
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    shell: tuple[str, ...] = ("/bin/sh", "-c")
    cmd_set: bool = False


def image_command(dockerfile_text: str) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """The (ENTRYPOINT, CMD) the final stage of a Dockerfile leaves on its image, as argvs.

    Shell forms become `(*SHELL, "the text")`, `("/bin/sh", "-c", ...)` unless the stage sets
    SHELL. A stage built `FROM` an earlier stage inherits that stage's values; as Docker
    does, an ENTRYPOINT clears a CMD inherited from the base. None means "not set here",
    so whatever the external base image has (unknown without pulling it); `()` means
    explicitly empty. Raises BuildpackError for a Dockerfile without FROM.
    """
    stages: dict[str, _Stage] = {}
    stage: _Stage | None = None
    for keyword, arguments in _instructions(dockerfile_text):
        if keyword == "FROM":
            words = [w for w in arguments.split() if not w.startswith("--")]
            if not words:
                raise BuildpackError("Dockerfile: FROM without an image")
            parent = stages.get(words[0].lower())
            if parent is not None:
                stage = _Stage(parent.entrypoint, parent.cmd, parent.shell)
            else:
                stage = _Stage()
            if len(words) >= 3 and words[1].lower() == "as":
                stages[words[2].lower()] = stage
            continue
        if stage is None:
            if keyword in {"ARG"}:
                continue
            raise BuildpackError(f"Dockerfile: {keyword} before the first FROM")
        if keyword == "SHELL":
            parsed = _command_form(arguments, ())
            if not arguments.startswith("[") or not parsed:
                raise BuildpackError(f"Dockerfile: SHELL needs a JSON array (got {arguments!r})")
            stage.shell = parsed
        elif keyword == "ENTRYPOINT":
            stage.entrypoint = _command_form(arguments, stage.shell)
            if not stage.cmd_set:
                stage.cmd = ()
        elif keyword == "CMD":
            stage.cmd = _command_form(arguments, stage.shell)
            stage.cmd_set = True
    if stage is None:
        raise BuildpackError("Dockerfile: no FROM instruction")
    return stage.entrypoint, stage.cmd
