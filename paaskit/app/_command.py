"""The one place that composes what a container of an app runs: its command, and the overrides.

Docker runs a container's ENTRYPOINT with its CMD as arguments. ECS maps a
task definition's `entryPoint` to the ENTRYPOINT and its `command` to the CMD,
and a one-off task (a release, a timer, `paaskit run`) can override only the
`command` (RunTask's `containerOverrides` has no entry point). Docker also
drops the image's CMD when a task sets an entry point. So paaskit never sets
`entryPoint`: the image's ENTRYPOINT (an official image's
`docker-entrypoint.sh`, say) always runs, with

- the service's `command` from the manifest, when it has one; else the
  Procfile process of its name (the CMD of a generated Dockerfile, or the
  `command` for a folder's own Dockerfile when its Procfile has that process);
  else the image's own CMD;
- a release's (the manifest's `release`, or the folder's Procfile `release:`),
  a timer's or a one-off task's command instead, as RunTask replaces the CMD.

Every command string goes through `paaskit.command.command_argv`, the one rule
(split into words, or `/bin/sh -c` when it has shell syntax). A linked
resource's `<NAME>_URL` is an ECS secret, so no command is ever wrapped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from paaskit import buildpack
from paaskit.command import command_argv
from paaskit.manifest import Service, Timer

__all__ = [
    "ImageCommand",
    "generated_process",
    "release_command",
    "service_command",
    "timer_command",
]


@dataclass(frozen=True)
class ImageCommand:
    """What an image runs by itself: its ENTRYPOINT and CMD, as argvs, when paaskit knows them.

    Known for images built from a Dockerfile (read with `buildpack.image_command`);
    `None` for a prebuilt `image:` (paaskit cannot know it offline, and never needs
    to: it only ever sets the CMD) and for what a Dockerfile inherits from its base.
    """

    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None

    @classmethod
    def of_dockerfile(cls, text: str) -> ImageCommand:
        """What a Dockerfile's final stage runs; unknown when paaskit cannot read it (what
        the image runs is then Docker's business alone: paaskit sets only the command)."""
        try:
            entrypoint, cmd = buildpack.image_command(text)
        except buildpack.BuildpackError:
            return cls()
        return cls(entrypoint, cmd)


def service_command(service: Service, procfile: str | None = None) -> tuple[str, ...] | None:
    """The ECS `command` of a service's container: its manifest `command`; else `procfile`, the
    Procfile process of its name when it runs its folder's own Dockerfile (a generated
    Dockerfile's CMD is that process already); else None, to run the image's CMD under the
    image's ENTRYPOINT."""
    if service.command is not None:
        return command_argv(service.command)
    return None if procfile is None else command_argv(procfile)


def release_command(service: Service, procfile: str | None = None) -> tuple[str, ...] | None:
    """The `containerOverrides.command` of a service's release task: its manifest `release`,
    else `procfile`, its folder's Procfile `release:` when this service runs it; or None."""
    if service.release is not None:
        return command_argv(service.release)
    return None if procfile is None else command_argv(procfile)


def timer_command(timer: Timer) -> tuple[str, ...]:
    """The `containerOverrides.command` of a timer's task."""
    return command_argv(timer.command)


def generated_process(service: Service, context: Path) -> tuple[str, str | tuple[str, ...] | None]:
    """(Procfile process, command) to generate a Dockerfile's CMD from.

    The service's own Procfile process when the Procfile has one by the service's name
    (`worker: python worker.py` for the service `worker`); else its manifest `command`;
    else the process of its name all the same, which the buildpack then reports missing,
    naming the Procfile and the processes it has (`buildpack.service_process`'s rule: a
    worker never runs the web server by default).
    """
    procfile = context / "Procfile"
    if procfile.is_file():
        try:
            processes = buildpack.parse_procfile(procfile.read_text(encoding="utf-8"))
        except (buildpack.BuildpackError, UnicodeDecodeError):
            processes = {}  # the buildpack reports it, naming the line
        if service.name in processes:
            return service.name, None
    if service.command is not None:
        return "web", service.command
    return service.name, None
