"""A service's image: what a build reads, the tag that names its content, generated Dockerfiles."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import tempfile
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path

from paaskit import buildpack
from paaskit.config import Input

__all__ = [
    "Built",
    "context_digest",
    "image_owners",
    "write_generated",
]

_IGNORED_IN_CONTEXT = (
    ".git",
    "__pycache__",
    ".venv",
    "node_modules",
    ".pytest_cache",
    ".mypy_cache",
)


@dataclass(frozen=True)
class Built:
    """The image a service runs, and the command it starts with when known."""

    image: Input
    command: tuple[str, ...] | None
    """The full argv the container runs (ENTRYPOINT + CMD), when paaskit knows it."""


def image_owners(identities: Mapping[str, Hashable]) -> dict[str, str]:
    """Which service's image each service runs: the first service, in the manifest's order,
    whose build has an equal identity (what the build reads: context, Dockerfile, arguments).

    Services with identical `build` sections (a web and a worker of one codebase) so build
    and push one image, as Convox does, instead of one each.
    """
    first: dict[Hashable, str] = {}
    return {name: first.setdefault(identity, name) for name, identity in identities.items()}


def context_digest(context: Path, dockerfile: str, build_args: dict[str, str]) -> str:
    """A digest of everything a build reads, so an image's tag names its content."""
    ignore = _dockerignore(context)
    digest = hashlib.sha256()
    digest.update(dockerfile.encode())
    digest.update(json.dumps(build_args, sort_keys=True).encode())
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        relative = path.relative_to(context).as_posix()
        if any(part in _IGNORED_IN_CONTEXT for part in relative.split("/")):
            continue
        if any(fnmatch.fnmatch(relative, pattern) for pattern in ignore):
            continue
        digest.update(relative.encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _dockerignore(context: Path) -> list[str]:
    file = context / ".dockerignore"
    if not file.is_file():
        return []
    patterns = []
    for line in file.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "!")):
            patterns.extend([line.strip("/"), line.strip("/") + "/*"])
    return patterns


def write_generated(text: str) -> Path:
    """Write a generated Dockerfile where docker can read it: a path named by its content."""
    folder = (
        Path(tempfile.gettempdir())
        / "paaskit-dockerfiles"
        / hashlib.sha256(text.encode()).hexdigest()[:16]
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "Dockerfile"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
        (folder / "Dockerfile.dockerignore").write_text(buildpack.DOCKERIGNORE)
    return path
