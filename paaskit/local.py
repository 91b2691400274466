"""`paaskit start [DIR]`: an app's services on this machine, as `heroku local` runs a Procfile.

What runs is what the image would run: for a manifest (`paaskit.yml` / `convox.yml`), each
service built from a folder runs its `command`, else the Procfile process of its own name, else
its own Dockerfile's ENTRYPOINT and CMD; a folder with only a Procfile runs every process but
`release`. A command with shell syntax runs through `/bin/sh -c`, any other is split into words
(`paaskit.buildpack.command_argv`, the rule of the generated images' CMD). Services that run a
prebuilt `image:` are not started: there is nothing of theirs here.

Each process gets this machine's environment, then the manifest's defaults for variables the
shell does not set, then the `.env` file beside the manifest (Heroku's format), then `PORT`
(one per service with a port: 5000, 5100, ... as `heroku local` counts), `WEB_CONCURRENCY`
(from the service's memory, unless set) and `APP`, `SERVICE`, `RACK=local`. It runs in its own
process group, its output prefixed by its name. When one process exits, or on Ctrl-C, every
group gets SIGTERM, and SIGKILL after a grace (default 10 s); the exit status is the first
failing process's (128 + N for a signal), else 130 after Ctrl-C, else 0.

Nothing is installed: the commands run in the environment `paaskit start` runs in (activate the
app's virtualenv first), against whatever `.env` points them at (a local database, say).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .buildpack import (
    BuildpackError,
    command_argv,
    image_command,
    process_environment,
    read_procfile,
    service_process,
)
from .errors import PaaskitError
from .manifest import MANIFEST_FILENAMES, ManifestError, load_manifest

__all__ = [
    "DEFAULT_BASE_PORT",
    "DEFAULT_GRACE",
    "LocalError",
    "LocalProcess",
    "add_arguments",
    "local_processes",
    "main",
    "read_env_file",
    "run",
]

DEFAULT_BASE_PORT = 5000
"""The first service's `PORT`, and each next one 100 more: `heroku local`'s numbers."""

DEFAULT_GRACE = 10.0
"""Seconds between SIGTERM and SIGKILL: enough for a web server to finish its requests."""


class LocalError(PaaskitError, ValueError):
    """The app cannot be started here; the message names the file or key."""


@dataclass(frozen=True)
class LocalProcess:
    """One process `paaskit start` runs."""

    name: str
    argv: tuple[str, ...]
    cwd: Path
    environment: Mapping[str, str]
    """The whole environment it runs with."""
    port: int | None = None
    notes: tuple[str, ...] = field(default=())


# --------------------------------------------------------------------------- .env

_ENV_LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")


def read_env_file(path: Path) -> dict[str, str]:
    """A `.env` file as `heroku local` reads it: `KEY=value` lines, `#` comments, optional
    `export`, values in single quotes (literal) or double quotes (`\\n` escapes), or bare (a
    ` #` starts a comment). Any other line is a LocalError naming the file and line."""
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _ENV_LINE.match(stripped)
        if not match:
            raise LocalError(f"{path}:{number}: expected KEY=value (got {line!r})")
        key, raw = match.group(1), match.group(2).strip()
        quoted = re.match(r"""^'([^']*)'(.*)$|^"((?:[^"\\]|\\.)*)"(.*)$""", raw, re.DOTALL)
        if quoted:
            rest = quoted.group(2) if quoted.group(1) is not None else quoted.group(4)
            if rest.strip() and not rest.strip().startswith("#"):
                raise LocalError(f"{path}:{number}: {key}: unexpected text after the quotes")
            if quoted.group(1) is not None:
                value = quoted.group(1)  # single quotes: literal
            else:
                value = re.sub(
                    r"\\(.)",
                    lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1), m.group(1)),
                    quoted.group(3),
                )
        elif raw[:1] in {"'", '"'}:
            raise LocalError(f"{path}:{number}: {key}: the quote is not closed")
        else:
            value = re.sub(r"\s+#.*$", "", raw)
        values[key] = value
    return values


# --------------------------------------------------------------------------- what runs


def _manifest_path(root: Path) -> Path | None:
    for name in MANIFEST_FILENAMES:
        if (root / name).is_file():
            return root / name
    return None


def _base_environment(root: Path, env_file: Path | None) -> tuple[dict[str, str], dict[str, str]]:
    """(this machine's environment, the .env file's values)."""
    if env_file is not None and not env_file.exists():
        raise LocalError(f"{env_file}: no such file")
    dotenv = env_file if env_file is not None else root / ".env"
    from_file = read_env_file(dotenv) if dotenv.exists() else {}
    return dict(os.environ), from_file


def local_processes(
    app_dir: str | Path = ".",
    *,
    services: Sequence[str] = (),
    base_port: int = DEFAULT_BASE_PORT,
    env_file: str | Path | None = None,
) -> tuple[list[LocalProcess], list[str]]:
    """The processes `paaskit start` runs for the app in `app_dir`, and notes for the user
    (what is not started, variables the manifest requires that nothing sets).

    `services` limits them to those names. Raises LocalError, ManifestError or BuildpackError
    naming the file, line or key of what cannot run.
    """
    root = Path(app_dir)
    if not root.is_dir():
        raise LocalError(f"{root}: no such folder")
    shell, dotenv = _base_environment(root, Path(env_file) if env_file is not None else None)
    manifest_path = _manifest_path(root)
    if manifest_path is None:
        processes, notes = _from_procfile(root, shell, dotenv, base_port)
    else:
        processes, notes = _from_manifest(manifest_path, shell, dotenv, base_port)
    if services:
        known = {p.name for p in processes}
        unknown = [name for name in services if name not in known]
        if unknown:
            raise LocalError(
                f"no process {', '.join(map(repr, unknown))} to start "
                f"(there are: {', '.join(sorted(known)) or 'none'})"
            )
        processes = [p for p in processes if p.name in services]
    if not processes:
        raise LocalError(f"{root}: nothing to start")
    return processes, notes


def _from_procfile(
    root: Path, shell: dict[str, str], dotenv: dict[str, str], base_port: int
) -> tuple[list[LocalProcess], list[str]]:
    procfile = read_procfile(root)
    if procfile is None:
        raise LocalError(
            f"{root}: no {' or '.join(MANIFEST_FILENAMES[::2])} and no Procfile: nothing says "
            "what to run"
        )
    processes = []
    notes = []
    index = 0
    for name, command in procfile.processes.items():
        if name == "release":
            notes.append(f"release: not run by paaskit start (it runs on deploy): {command}")
            continue
        port = base_port + 100 * index
        index += 1
        environment = {**shell, **dotenv}
        environment["PORT"] = str(port)
        environment.setdefault("APP", root.resolve().name)
        environment.update({"SERVICE": name, "RACK": "local"})
        processes.append(LocalProcess(name, command_argv(command), root, environment, port))
    return processes, notes


def _from_manifest(
    path: Path, shell: dict[str, str], dotenv: dict[str, str], base_port: int
) -> tuple[list[LocalProcess], list[str]]:
    manifest = load_manifest(path)
    root = manifest.root or path.parent
    processes: list[LocalProcess] = []
    notes: list[str] = []
    index = 0
    for name, service in manifest.services.items():
        key = f"services.{name}"
        if service.build is None:
            notes.append(f"{name}: runs the image {service.image}: not started here")
            continue
        folder = (root / service.build.path).resolve()
        argv = _service_argv(name, service.command, folder, service.build.manifest, key)
        declared = manifest.service_environment(name)
        environment = dict(shell)
        for variable, default in declared.defaults.items():
            environment.setdefault(variable, default)
        environment.update(dotenv)
        port = None
        if service.port is not None:
            port = base_port + 100 * index
            index += 1
        # The manifest's PORT is checked as for the container; a WEB_CONCURRENCY set anywhere
        # (manifest, shell, .env) is the user's.
        runtime = process_environment(
            port=service.port.port if service.port else None,
            memory_mib=service.scale.memory,
            cpu_units=service.scale.cpu,
            declared=declared.variables,
            key=f"{manifest.source}: {key}.environment",
        )
        if "WEB_CONCURRENCY" in environment:
            runtime.pop("WEB_CONCURRENCY", None)
        if port is not None:
            runtime["PORT"] = str(port)  # this machine's port, not the container's
        environment.update(runtime)
        environment.setdefault("APP", root.resolve().name)
        environment.update({"SERVICE": name, "RACK": "local"})
        missing = [v for v in declared.required if v not in environment]
        if missing:
            notes.append(
                f"{name}: {', '.join(missing)} required by {manifest.source} and not set "
                "(add to .env)"
            )
        for link in service.resources:
            url = link.url_env or f"{link.env_prefix}_URL"
            if url not in environment:
                notes.append(
                    f"{name}: {url} is not set: paaskit start runs no resources (set it in .env)"
                )
        processes.append(LocalProcess(name, argv, folder, environment, port))
    return processes, notes


def _service_argv(
    name: str,
    command: str | tuple[str, ...] | None,
    folder: Path,
    dockerfile: str,
    key: str,
) -> tuple[str, ...]:
    """What the service's container runs: its command, its Procfile process, its image's CMD."""
    if command is not None:
        return command_argv(command) if isinstance(command, str) else tuple(command)
    own = (folder / dockerfile).is_file()
    process = service_process(folder, name, own_dockerfile=own)
    procfile = read_procfile(folder)
    if process is not None and procfile is not None:
        return command_argv(procfile.command(process))
    if own:
        entrypoint, cmd = image_command((folder / dockerfile).read_text(encoding="utf-8"))
        argv = (*(entrypoint or ()), *(cmd or ()))
        if argv:
            return argv
        raise LocalError(
            f"{key}: no command, and {folder / dockerfile} sets no ENTRYPOINT or CMD "
            "(its base image's is unknown here): set command"
        )
    raise LocalError(f"{key}: nothing to run: no command, and {folder / 'Procfile'} does not exist")


# --------------------------------------------------------------------------- running


_COLOURS = (36, 33, 32, 35, 34, 31)


class _Output:
    """Lines of every process, prefixed by its name, written whole and in order of arrival."""

    def __init__(self, stream: IO[str], width: int) -> None:
        self.stream = stream
        self.width = width
        self.lock = threading.Lock()
        self.colour = stream.isatty() and "NO_COLOR" not in os.environ

    def write(self, name: str, index: int, line: str) -> None:
        label = f"{name:<{self.width}} |"
        if self.colour:
            label = f"\033[{_COLOURS[index % len(_COLOURS)]}m{label}\033[0m"
        with self.lock:
            self.stream.write(f"{label} {line}\n")
            self.stream.flush()


def _pump(pipe: IO[bytes], output: _Output, name: str, index: int) -> None:
    for raw in iter(pipe.readline, b""):
        output.write(name, index, raw.decode("utf-8", errors="replace").rstrip("\r\n"))
    pipe.close()


def _status(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def _signal_groups(popens: Sequence[subprocess.Popen[bytes]], sig: int) -> None:
    for popen in popens:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(popen.pid, sig)


def run(
    processes: Sequence[LocalProcess],
    *,
    grace: float = DEFAULT_GRACE,
    stream: IO[str] | None = None,
) -> int:
    """Runs the processes until one exits or this process gets SIGINT or SIGTERM; then stops
    them all (SIGTERM to each process group, SIGKILL after `grace` seconds). Returns the first
    failing process's exit status (128 + N for signal N), else 130/143 when interrupted, else 0.
    """
    out = _Output(stream or sys.stdout, max(len("paaskit"), *(len(p.name) for p in processes)))
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        received.append(signum)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    popens: list[subprocess.Popen[bytes]] = []
    names: dict[int, str] = {}
    pumps: list[threading.Thread] = []
    first_failure: int | None = None
    try:
        for index, process in enumerate(processes):
            where = f"port {process.port}" if process.port is not None else "no port"
            out.write("paaskit", 0, f"{process.name}: {shlex.join(process.argv)} ({where})")
            try:
                popen = subprocess.Popen(
                    list(process.argv),
                    cwd=process.cwd,
                    env=dict(process.environment),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group, stopped as one
                )
            except OSError as exc:
                out.write(process.name, index, f"paaskit: cannot start: {exc}")
                first_failure = 127
                stop.set()
                break
            popens.append(popen)
            names[popen.pid] = process.name
            assert popen.stdout is not None
            pump = threading.Thread(
                target=_pump, args=(popen.stdout, out, process.name, index), daemon=True
            )
            pump.start()
            pumps.append(pump)
        while not stop.is_set():
            for popen in popens:
                code = popen.poll()
                if code is not None:
                    out.write("paaskit", 0, f"{names[popen.pid]} exited with {_status(code)}")
                    if code != 0 and first_failure is None:
                        first_failure = _status(code)
                    stop.set()
                    break
            stop.wait(0.1)
    finally:
        running = [p for p in popens if p.poll() is None]
        if running:
            out.write(
                "paaskit",
                0,
                f"stopping {', '.join(names[p.pid] for p in running)} (SIGTERM, then SIGKILL "
                f"after {grace:g} s)",
            )
        _signal_groups(popens, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for popen in popens:
            with contextlib.suppress(subprocess.TimeoutExpired):
                popen.wait(timeout=max(0.0, deadline - time.monotonic()))
        # The whole group: a leader that exited may leave children behind.
        _signal_groups(popens, signal.SIGKILL)
        for popen in popens:
            popen.wait()
        for pump in pumps:
            pump.join(timeout=5)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if first_failure is not None:
        return first_failure
    if received:
        return 128 + received[0]
    return 0


# --------------------------------------------------------------------------- command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`paaskit start`'s arguments."""
    parser.add_argument(
        "dir", metavar="DIR", nargs="?", default=".", help="the app's folder (default: here)"
    )
    parser.add_argument(
        "services",
        metavar="SERVICE",
        nargs="*",
        help="start only these services (or Procfile processes)",
    )
    parser.add_argument(
        "-p",
        "--port",
        type=int,
        default=DEFAULT_BASE_PORT,
        help=f"the first service's PORT; each next one 100 more (default: {DEFAULT_BASE_PORT})",
    )
    parser.add_argument(
        "-e", "--env", metavar="FILE", help="the environment file (default: .env in DIR, if any)"
    )
    parser.add_argument(
        "--grace",
        type=float,
        default=DEFAULT_GRACE,
        help=f"seconds between SIGTERM and SIGKILL when stopping (default: {DEFAULT_GRACE:g})",
    )


def main(args: argparse.Namespace) -> int:
    """`paaskit start`: reads the app, says what it starts and what it does not, runs it."""
    folder, services = args.dir, list(args.services)
    if not Path(folder).exists() and re.fullmatch(r"[A-Za-z0-9_-]+", folder):
        folder, services = ".", [folder, *services]  # `paaskit start web`, as `heroku local web`
    try:
        processes, notes = local_processes(
            folder, services=services, base_port=args.port, env_file=args.env
        )
    except (LocalError, ManifestError, BuildpackError) as exc:
        print(f"paaskit start: error: {exc}", file=sys.stderr)
        return 1
    for note in notes:
        print(f"paaskit start: note: {note}", file=sys.stderr)
    return run(processes, grace=args.grace)
