"""The rollback pin in an app stack's config: `paaskit-app:release: "<number>"`.

`paaskit rollback` moves the services at once; the pin tells the App component
on the next `pulumi up` to keep them on that release (see docs/operations.md).
It is written into the stack's config file (`Pulumi.<stack>.yaml`) line by
line, so comments, order and encrypted values stay exactly as they were; or
the user is told the `pulumi config set` command that does the same.
"""

from __future__ import annotations

import re
from pathlib import Path

from .errors import OpsError

__all__ = ["PIN_KEY", "pin_command", "write_pin"]

PIN_KEY = "paaskit-app:release"

_TOP_KEY = re.compile(r"^[^\s#][^:]*:")


def pin_command(number: int) -> str:
    """The command that sets the pin in the app stack's directory."""
    return f"pulumi config set {PIN_KEY} {number}"


def _pin_line(indent: str, number: int) -> str:
    return f'{indent}{PIN_KEY}: "{number}"\n'


def write_pin(path: Path, number: int) -> None:
    """Set `paaskit-app:release` to `number` in the stack config file at `path`.

    The existing pin is replaced in place; otherwise the line is added at the top
    of the `config:` mapping, indented as its other keys are; a file without
    `config:` gets one at its end.
    """
    try:
        lines = path.read_text().splitlines(keepends=True)
    except OSError as exc:
        raise OpsError(f"--stack-file {path}: {exc.strerror}") from None
    start = next((i for i, line in enumerate(lines) if re.match(r"^config:\s*(#.*)?$", line)), None)
    if start is None:
        if any(re.match(r"^config:", line) for line in lines):
            raise OpsError(
                f"--stack-file {path}: its config is not a block mapping; set the pin with "
                f"`{pin_command(number)}`"
            )
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines += ["config:\n", _pin_line("  ", number)]
        path.write_text("".join(lines))
        return
    end = next((i for i in range(start + 1, len(lines)) if _TOP_KEY.match(lines[i])), len(lines))
    keys = [
        (i, lines[i][: len(lines[i]) - len(lines[i].lstrip(" "))])
        for i in range(start + 1, end)
        if lines[i].strip() and not lines[i].lstrip().startswith("#")
    ]
    indent = keys[0][1] if keys and keys[0][1] else "  "
    for i, this_indent in keys:
        if this_indent == indent and lines[i].lstrip(" ").startswith(f"{PIN_KEY}:"):
            lines[i] = _pin_line(indent, number)
            break
    else:
        lines.insert(start + 1, _pin_line(indent, number))
    path.write_text("".join(lines))
