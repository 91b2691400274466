"""The Procfile: an app's process types and their commands, and how a command becomes an argv.

Heroku's contract, which paaskit keeps: a service runs the Procfile process of its own name
(`web` for the web service), and a `release:` line is the app's release command. The App asks
`process_command` and `release_command`; the generated Dockerfile's CMD is `command_argv` of the
image's own process.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from paaskit.command import command_argv as _command_argv
from paaskit.command import has_shell_syntax

from ._errors import BuildpackError, where

__all__ = [
    "Procfile",
    "command_argv",
    "has_shell_syntax",
    "parse_procfile",
    "process_command",
    "read_procfile",
    "release_command",
    "service_process",
]

_PROCESS_TYPE = re.compile(r"^([A-Za-z0-9_-]{1,63})\s*:\s*(.*)$")


@dataclass(frozen=True)
class Procfile:
    """A Procfile as read: each process's command and the line it is on."""

    path: Path
    processes: Mapping[str, str]
    """Process type -> command, in file order."""
    lines: Mapping[str, int]
    """Process type -> its 1-based line number, for messages."""

    def command(self, name: str) -> str:
        """The command of process `name`; a BuildpackError naming the Procfile if it has none."""
        if name not in self.processes:
            have = ", ".join(self.processes) or "none"
            raise BuildpackError(f"{self.path}: no {name!r} process (has: {have})")
        return self.processes[name]


def _parse(text: str, source: str) -> tuple[dict[str, str], dict[str, int]]:
    processes: dict[str, str] = {}
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _PROCESS_TYPE.match(stripped)
        if not match:
            raise BuildpackError(
                f"{where(source, number)}: expected `<process type>: <command>`: {line!r}"
            )
        name, command = match.group(1), match.group(2).strip()
        if not command:
            raise BuildpackError(f"{where(source, number)}: process {name!r} has no command")
        if name in processes:
            raise BuildpackError(
                f"{where(source, number)}: process {name!r} is declared twice "
                f"(first on line {lines[name]})"
            )
        processes[name] = command
        lines[name] = number
    return processes, lines


def parse_procfile(text: str, *, source: str = "Procfile") -> dict[str, str]:
    """Reads a Procfile: `<process type>: <command>` per line, `#` comments and blank lines.

    Process types are letters, digits, `_` and `-` (at most 63). Unlike Heroku, which skips
    lines it cannot read, any other line is an error naming `source` and the line number,
    so a merge conflict marker never silently drops a process; so is a type given twice.
    """
    return _parse(text, source)[0]


def read_procfile(app_dir: str | Path) -> Procfile | None:
    """The app's `Procfile`, or None when it has none."""
    path = Path(app_dir) / "Procfile"
    if not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise BuildpackError(f"{path}: not UTF-8 text ({exc.reason})") from None
    processes, lines = _parse(text, str(path))
    return Procfile(path, processes, lines)


def process_command(app_dir: str | Path, name: str) -> str | None:
    """The Procfile command of process `name` (a service runs the process of its own name).

    None when the app has no Procfile. A Procfile without that process is a BuildpackError
    naming the file and the processes it has: a service that silently ran another process's
    command (a worker running the web server) is worse than no deploy.
    """
    procfile = read_procfile(app_dir)
    return None if procfile is None else procfile.command(name)


def service_process(app_dir: str | Path, service: str, *, own_dockerfile: bool) -> str | None:
    """The Procfile process a service with no `command` runs: the one of its own name.

    The one rule of the App and `paaskit start`. A folder with its own Dockerfile runs the
    Procfile process only when the Procfile has one by the service's name, else the image's
    ENTRYPOINT and CMD (None). A folder built by the buildpack must have it: a Procfile
    without it is a BuildpackError naming the file and the processes it has (a worker that
    ran the web server instead would be worse than no deploy). None without a Procfile.
    """
    procfile = read_procfile(app_dir)
    if procfile is None or (own_dockerfile and service not in procfile.processes):
        return None
    procfile.command(service)
    return service


def release_command(app_dir: str | Path) -> str | None:
    """The Procfile's `release:` command (Heroku's release phase), or None."""
    procfile = read_procfile(app_dir)
    return None if procfile is None else procfile.processes.get("release")


def command_argv(command: str) -> tuple[str, ...]:
    """The argv that runs a Procfile command in a container or on this machine.

    paaskit's one command rule (`paaskit.command`), which the App applies to services,
    releases and timers too: a command without shell syntax is split into words (no shell
    between the container and the app); one with shell syntax runs as
    `/bin/sh -c "exec <command>"` (the `exec` where it keeps the meaning), so `$PORT`
    expands and the app still receives the container's signals.
    """
    try:
        return _command_argv(command)
    except ValueError as exc:
        raise BuildpackError(str(exc)) from None
