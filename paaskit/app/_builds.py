"""What each built service's image is made from, read before anything is registered.

For every service built from a folder (`build:`), `plan_builds` reads, once and first:

- the Dockerfile: the folder's own, or the one `paaskit.buildpack` generates for a Python app
  without one, with the buildpack's warnings for the plan (an old patch, no whitenoise) and,
  for a Django app, the `STATIC_URL` its image serves;
- the Procfile process its container runs when the manifest gives it no command (the one of
  its own name: `buildpack.service_process`, the rule `paaskit start` follows too);
- a Procfile `release:` line, which becomes the app's release unless the manifest sets one
  on a service built from that folder: on the folder's `web` service, else its first.

A Procfile or lock file that cannot be read, a Python with no image, a Procfile without the
service's process: a ConfigError naming `services.<name>.build` and the file and line, before
any resource.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from paaskit import buildpack
from paaskit.config import ConfigError
from paaskit.manifest import Manifest, Service

from ._command import generated_process

__all__ = ["PYTHON_VERSION_KEY", "BuildSource", "plan_builds", "procfile_releases"]

PYTHON_VERSION_KEY = "paaskit-app:pythonVersion"
"""How build messages name the App's `python_version`: by the app stack's key, where it is set."""

_PATH_PATTERN = re.compile(r"/[A-Za-z0-9_.~/-]*")
"""A URL path CloudFront can match as a cache behavior's path pattern, without wildcards."""


@dataclass(frozen=True)
class BuildSource:
    """What one service's image is built from."""

    context: Path
    """The build context, an absolute path."""
    dockerfile: Path
    """The folder's own Dockerfile; for a generated one, where it would be (it is not)."""
    text: str
    """The Dockerfile's text."""
    plan: buildpack.BuildPlan | None = None
    """What the buildpack made, for a generated Dockerfile; None for the folder's own."""
    procfile_command: str | None = None
    """For the folder's own Dockerfile: the Procfile command the container runs when the
    manifest gives none (the process of the service's name); None: the image's CMD. A
    generated Dockerfile's CMD is that process already."""
    warnings: tuple[str, ...] = field(default=())
    """The buildpack's, for the plan."""

    @property
    def generated(self) -> bool:
        """True when paaskit generates the Dockerfile (a Python app built like Heroku's)."""
        return self.plan is not None

    @property
    def app_static_path(self) -> str | None:
        """For a Django app built by the buildpack, its `STATIC_URL` when it is a path the
        image serves (`/static/`): its files were collected into the image at build time."""
        django = self.plan.django if self.plan is not None else None
        url = django.static_url if django is not None else None
        if url is None or not _PATH_PATTERN.fullmatch(url) or url == "/":
            return None
        return url if url.endswith("/") else f"{url}/"


def _root(manifest: Manifest) -> Path:
    return manifest.root or Path.cwd()


def _context(manifest: Manifest, service: Service) -> Path:
    assert service.build is not None
    return (_root(manifest) / service.build.path).resolve()


def _source(service: Service, context: Path, python_version: str | None) -> BuildSource:
    assert service.build is not None
    key = f"services.{service.name}.build"
    if not context.is_dir():
        raise ConfigError(f"{key}.path: {context} is not a folder")
    dockerfile = context / service.build.manifest
    if dockerfile.is_file():
        procfile_command = None
        if service.command is None:
            try:
                process = buildpack.service_process(context, service.name, own_dockerfile=True)
                procfile = buildpack.read_procfile(context) if process else None
            except buildpack.BuildpackError as exc:
                raise ConfigError(f"{key}: {exc}") from None
            if process is not None and procfile is not None:
                procfile_command = procfile.command(process)
        return BuildSource(
            context=context,
            dockerfile=dockerfile,
            text=dockerfile.read_text(encoding="utf-8", errors="replace"),
            procfile_command=procfile_command,
        )
    process, command = generated_process(service, context)
    try:
        plan = buildpack.plan_build(
            context,
            python_version=python_version,
            python_version_source=PYTHON_VERSION_KEY,
            process=process,
            command=command,
            port=service.port.port if service.port else None,
        )
    except buildpack.BuildpackError as exc:
        raise ConfigError(
            f"{key}: no {service.build.manifest} in {context}, and no Dockerfile can be "
            f"generated: {exc}"
        ) from None
    return BuildSource(
        context=context,
        dockerfile=dockerfile,
        text=plan.dockerfile,
        plan=plan,
        warnings=plan.warnings,
    )


def plan_builds(manifest: Manifest, python_version: str | None = None) -> dict[str, BuildSource]:
    """Per built service, in the manifest's order, what its image is made from.

    Raises ConfigError naming `services.<name>.build` (and the file and line) for what
    cannot be built; reads files only, registers nothing.
    """
    return {
        service.name: _source(service, _context(manifest, service), python_version)
        for service in manifest.services.values()
        if service.build is not None
    }


def procfile_releases(manifest: Manifest, builds: Mapping[str, BuildSource]) -> dict[str, str]:
    """Per service, the Procfile `release:` command it runs as the app's release.

    Heroku runs a Procfile's `release:` once per deploy; here one service per build folder
    runs it, in a one-off task of its image (its `web` service when one is built there, else
    the first, in the manifest's order), unless a service built from that folder has
    `release` in the manifest, which then decides.
    """
    by_folder: dict[Path, list[Service]] = {}
    for name in builds:
        service = manifest.services[name]
        by_folder.setdefault(builds[name].context, []).append(service)
    out: dict[str, str] = {}
    for folder, services in by_folder.items():
        if any(s.release is not None for s in services):
            continue
        runner = next((s for s in services if s.name == "web"), services[0])
        try:
            command = buildpack.release_command(folder)
        except buildpack.BuildpackError as exc:
            raise ConfigError(f"services.{runner.name}.build: {exc}") from None
        if command is not None:
            out[runner.name] = command
    return out
