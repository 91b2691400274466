"""A service's image: the tag that names exactly what is built, and where generated Dockerfiles live.

pulumi-docker rebuilds and pushes an image whenever its inputs differ from the
last deploy: the build context's path and Dockerfile path as strings, the
build args, the platform, and `contextDigest`, its own hash of the build
context (`provider/provider.go`, `hashContext`, unchanged from v4.11 to v5).
paaskit's tag is made from the same things, so that

- the same code, from another checkout of the same layout, plans the very same
  inputs (paths are given relative to the program's working directory) and
  pulumi-docker neither rebuilds nor pushes;
- what pulumi-docker would rebuild (a changed file, a file mode, a file a local
  run left behind that `.dockerignore` does not exclude) gets a new tag.

`context_digest` mirrors `hashContext`: the Dockerfile's content under the
fixed name `Dockerfile`, then every entry of the context that the effective
ignore file (`<Dockerfile>.dockerignore`, else `<context>/.dockerignore`)
does not exclude, walked as Go's `filepath.WalkDir` walks (depth first, names
in byte order), each as its slash-separated relative path, Go's
`FileMode.String()` and the sha256 of its content (of its resolved path for a
symlink; nothing for a directory, which is skipped). Exclusion follows
moby/patternmatcher and tonistiigi/fsutil, ported in `_ignore.py`.

Tags are mutable and task definitions run the pushed image by digest
(`repo_digest`), so a push of a tag that exists never fails and never changes
what a running task definition names; see `App._repository` for how long old
images are kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path

from paaskit import buildpack
from paaskit.config import Input

from ._command import ImageCommand
from ._ignore import IgnoreMatcher, read_ignore_file

__all__ = [
    "TAG_DIGEST_LENGTH",
    "TAG_SEPARATOR",
    "Built",
    "context_digest",
    "go_file_mode",
    "image_owners",
    "image_tag",
    "relative_to_program",
    "write_generated",
]

TAG_DIGEST_LENGTH = 16
"""Hex digits of the digest in a tag: 64 bits, never equal by chance among a service's images."""

TAG_SEPARATOR = "."
"""Between a service's name and its digest. Not `-`, which service names contain: the
lifecycle rule of service `web` selects tags starting with `web.`, never `web-api.`'s."""


@dataclass(frozen=True)
class Built:
    """The image a service runs, and what the image runs by itself."""

    image: Input
    """The image reference: `<repository>@sha256:...` for a built image, as given for `image:`."""
    command: ImageCommand
    """The image's ENTRYPOINT and CMD, when paaskit builds it from a Dockerfile it reads."""


def image_owners(identities: Mapping[str, Hashable]) -> dict[str, str]:
    """Which service's image each service runs: the first service, in the manifest's order,
    whose build has an equal identity (what the build reads: context, Dockerfile, arguments).

    Services with identical `build` sections (a web and a worker of one codebase) so build
    and push one image, as Convox does, instead of one each.
    """
    first: dict[Hashable, str] = {}
    return {name: first.setdefault(identity, name) for name, identity in identities.items()}


def go_file_mode(mode: int) -> str:
    """Go's `os.FileMode.String()` of a file's `st_mode`, as Go's `os.Lstat` reports it.

    The type letters Go sets, in its order (`d`, `L`, `D` device, `p` pipe,
    `S` socket, `u` setuid, `g` setgid, `c` character device, `t` sticky),
    or `-` when none; then the nine permission bits as `rwx`.
    """
    letters = [
        ("d", stat.S_ISDIR(mode)),
        ("L", stat.S_ISLNK(mode)),
        ("D", stat.S_ISBLK(mode) or stat.S_ISCHR(mode)),
        ("p", stat.S_ISFIFO(mode)),
        ("S", stat.S_ISSOCK(mode)),
        ("u", bool(mode & stat.S_ISUID)),
        ("g", bool(mode & stat.S_ISGID)),
        ("c", stat.S_ISCHR(mode)),
        ("t", bool(mode & stat.S_ISVTX)),
    ]
    kind = "".join(letter for letter, present in letters if present)
    perms = "".join(char if mode & (1 << (8 - i)) else "-" for i, char in enumerate("rwxrwxrwx"))
    return (kind or "-") + perms


def _go_eval_symlinks(path: Path) -> str:
    """Go's `filepath.EvalSymlinks`: relative in, relative out, unless a link points elsewhere absolutely."""
    resolved = os.path.realpath(path)
    if path.is_absolute():
        return resolved
    relative = os.path.relpath(resolved)
    return resolved if relative.startswith("..") and os.path.isabs(os.readlink(path)) else relative


def _entry_hash(path: Path, name: str, mode: int, *, go_mode: str | None = None) -> bytes:
    content = hashlib.sha256()
    # Go's FileMode.IsRegular() is "no type bits": true for the mode 0 the Dockerfile gets.
    regular = stat.S_ISREG(mode) or stat.S_IFMT(mode) == 0
    if stat.S_ISLNK(mode):
        target = _go_eval_symlinks(path)
        content.update(Path(os.path.normpath(target)).as_posix().encode())
    elif regular:
        with path.open("rb") as file:
            for chunk in iter(lambda: file.read(1 << 20), b""):
                content.update(chunk)
    mode_text = go_mode if go_mode is not None else go_file_mode(mode)
    return name.encode() + mode_text.encode() + content.digest() + b"\0"


def _walk(context: Path, matcher: IgnoreMatcher) -> list[tuple[str, Path, int]]:
    """(relative path, path, lstat mode) of every non-directory entry the ignore file keeps,
    in `filepath.WalkDir`'s order: depth first, each directory's names in byte order."""
    found: list[tuple[str, Path, int]] = []

    def visit(folder: Path, relative: str, parent: object) -> None:
        names = sorted(os.listdir(folder), key=lambda n: n.encode())
        for name in names:
            path = folder / name
            rel = f"{relative}/{name}" if relative else name
            mode = os.lstat(path).st_mode
            is_dir = stat.S_ISDIR(mode)
            excluded, info = matcher.matches(rel, parent)
            if excluded:
                if is_dir and matcher.can_skip(rel):
                    continue
                if is_dir:
                    visit(path, rel, info)
                continue
            if is_dir:
                visit(path, rel, info)
            else:
                found.append((rel, path, mode))

    visit(context, "", None)
    return found


def context_digest(context: Path, dockerfile: Path) -> str:
    """pulumi-docker's `contextDigest` of a build: see the module's docstring."""
    patterns = read_ignore_file(dockerfile, context)
    matcher = IgnoreMatcher(patterns)
    accumulated = bytearray(_entry_hash(dockerfile, "Dockerfile", 0, go_mode="-" + "-" * 9))
    for rel, path, mode in _walk(context, matcher):
        accumulated += _entry_hash(path, rel, mode)
    return hashlib.sha256(bytes(accumulated)).hexdigest()


def image_tag(
    service: str, context: Path, dockerfile: Path, build_args: Mapping[str, str], platform: str
) -> str:
    """`<service>.<digest>`: the digest of pulumi-docker's context digest, the build args and
    the platform, so the tag changes exactly when pulumi-docker would rebuild."""
    digest = hashlib.sha256()
    digest.update(context_digest(context, dockerfile).encode())
    digest.update(json.dumps(dict(build_args), sort_keys=True).encode())
    digest.update(platform.encode())
    return f"{service}{TAG_SEPARATOR}{digest.hexdigest()[:TAG_DIGEST_LENGTH]}"


def relative_to_program(path: Path) -> str:
    """`path` relative to the program's working directory (where Pulumi runs it, and where
    pulumi-docker resolves relative paths), slash-separated: the same in every checkout
    of the same layout."""
    return Path(os.path.relpath(path.resolve(), Path.cwd().resolve())).as_posix()


def _generated_root() -> Path:
    # A fixed folder, not $TMPDIR (random per user on macOS): the Dockerfile's path is an
    # input of the image, and must be the same wherever the same app is planned.
    fixed = Path("/tmp")  # noqa: S108 - a content-addressed, read-only use; see write_generated
    if fixed.is_dir() and os.access(fixed, os.W_OK):
        return fixed / "paaskit-dockerfiles"
    return Path(tempfile.gettempdir()) / "paaskit-dockerfiles"


def write_generated(text: str) -> Path:
    """Write a generated Dockerfile where docker can read it: a path named by its content,
    with `Dockerfile.dockerignore` (`buildpack.DOCKERIGNORE`) beside it."""
    folder = _generated_root() / hashlib.sha256(text.encode()).hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "Dockerfile"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    ignore = folder / "Dockerfile.dockerignore"
    if not ignore.exists() or ignore.read_text() != buildpack.DOCKERIGNORE:
        ignore.write_text(buildpack.DOCKERIGNORE)
    return path
