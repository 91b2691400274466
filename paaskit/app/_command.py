"""The one place that composes what a container of an app runs: its command, and the overrides.

Docker runs a container's ENTRYPOINT with its CMD as arguments. ECS maps a
task definition's `entryPoint` to the ENTRYPOINT and its `command` to the CMD,
and a one-off task (a release, a timer, `paaskit run`) can override only the
`command` (RunTask's `containerOverrides` has no entry point). Docker also
drops the image's CMD when a task sets an entry point. So paaskit never sets
`entryPoint`: the image's ENTRYPOINT (an official image's
`docker-entrypoint.sh`, say) always runs, with

- the service's `command` from the manifest, when it has one, or else the
  image's own CMD (for a generated Dockerfile: the service's Procfile process);
- a release's, a timer's or a one-off task's command instead, as RunTask
  replaces the CMD.

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


def service_command(service: Service) -> tuple[str, ...] | None:
    """The ECS `command` of a service's container: its manifest `command`, or None to run the
    image's CMD under the image's ENTRYPOINT."""
    return None if service.command is None else command_argv(service.command)


def release_command(service: Service) -> tuple[str, ...] | None:
    """The `containerOverrides.command` of a service's release task, or None without `release`."""
    return None if service.release is None else command_argv(service.release)


def timer_command(timer: Timer) -> tuple[str, ...]:
    """The `containerOverrides.command` of a timer's task."""
    return command_argv(timer.command)


def generated_process(service: Service, context: Path) -> tuple[str, str | tuple[str, ...] | None]:
    """(Procfile process, command) to generate a Dockerfile's CMD from, for a service without one.

    The service's own Procfile process when the Procfile has one by the service's name
    (`worker: python worker.py` for the service `worker`); else its manifest `command`;
    else the `web` process, as Heroku runs by default.
    """
    procfile = context / "Procfile"
    if procfile.is_file():
        try:
            processes = buildpack.parse_procfile(procfile.read_text(encoding="utf-8"))
        except buildpack.BuildpackError:
            processes = {}  # generate_dockerfile reports it, naming the line
        if service.name in processes:
            return service.name, None
    if service.command is not None:
        return "web", service.command
    return "web", None
