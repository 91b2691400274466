"""Refresh ``paaskit/data/python-images.json``: the official ``python`` image's published tags.

The buildpack turns an app's Python version into a base image tag, ``python:<X.Y.Z>-slim-<debian>``.
An exact patch only exists on the Debian releases that were current while it was built (3.10.8
has ``slim-bullseye`` and ``slim-buster``; trixie images start at 3.10.18), so the buildpack needs
to know which tags exist. CI cannot reach Docker Hub, so the answer ships as a dated table, made
by this script and never edited by hand.

Two sources, the same table:

- ``--hub`` (the default) reads Docker Hub's tag list for ``library/python`` through its public
  API (``hub.docker.com/v2/repositories/library/python/tags``, paged, filtered per variant), with
  each tag's architectures. Run it where Docker Hub is reachable.
- ``--git PATH`` reads the history of ``library/python`` in a clone of
  docker-library/official-images: every tag the official image was ever built under, with the
  architectures it was built for. Docker Hub keeps the tags of official images, so a tag that was
  built once can still be pulled. The shipped table was made this way.

Only what the buildpack uses is kept: final releases ``X.Y.Z`` (no release candidates) of the
``slim-<debian>`` variants in ``VARIANTS``, for Python 3.8 and later, that were built for both
``amd64`` and ``arm64v8`` (the rack's nodes are one or the other). The output is deterministic
(sorted, no timestamp other than the source's own date), so a refresh from the same source is
byte-identical and a hand edit shows up as a diff.

    python -m paaskit.data.python_images [--hub | --git PATH] [--check]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "ARCHITECTURES",
    "OUTPUT",
    "VARIANTS",
    "from_git",
    "from_hub",
    "main",
    "parse_library_file",
    "render",
]

OUTPUT = Path(__file__).with_name("python-images.json")

VARIANTS: tuple[str, ...] = ("trixie", "bookworm", "bullseye")
"""Debian releases whose slim images the buildpack may use, newest (preferred) first: the
current stable and the two before it. Older ones (buster, 2019) no longer get security fixes."""

ARCHITECTURES = frozenset({"amd64", "arm64v8"})
"""Both CPU architectures of the rack's nodes (x86_64 and Graviton): a tag missing either is
left out, so an image that builds on one node type never fails on the other."""

_MIN_MINOR = 8
_TAG = re.compile(r"^3\.(\d+)\.(\d+)-slim-([a-z]+)$")

_HUB = "https://hub.docker.com/v2/repositories/library/python/tags"


def _keep(tag: str, architectures: Iterable[str]) -> tuple[str, str] | None:
    """(variant, version) of a tag the table keeps, else None."""
    match = _TAG.match(tag)
    if not match or match.group(3) not in VARIANTS or int(match.group(1)) < _MIN_MINOR:
        return None
    if not set(architectures) >= ARCHITECTURES:
        return None
    return match.group(3), f"3.{match.group(1)}.{match.group(2)}"


def parse_library_file(text: str) -> Iterator[tuple[str, frozenset[str]]]:
    """(tag, architectures) of each tag in an official-images library file.

    The current format is RFC 2822-like paragraphs (`Tags:`, `Architectures:`; a first paragraph
    without `Tags:` holds defaults); the format before 2016 listed `tag: git://...` lines, built
    for amd64 only.
    """
    defaults: frozenset[str] = frozenset({"amd64"})
    for paragraph in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = ""
        for line in paragraph.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line[0].isspace() and key:
                fields[key] += " " + line.strip()
                continue
            if ":" in line:
                key, _, value = line.partition(":")
                key = key.strip()
                fields[key] = value.strip()
        if "Tags" not in fields and "SharedTags" not in fields:
            if "Architectures" in fields:
                defaults = frozenset(a.strip() for a in fields["Architectures"].split(","))
            for line in paragraph.splitlines():
                old = re.match(r"^([\w.-]+):\s*git://", line)
                if old:
                    yield old.group(1), frozenset({"amd64"})
            continue
        architectures = (
            frozenset(a.strip() for a in fields["Architectures"].split(","))
            if "Architectures" in fields
            else defaults
        )
        for name in ("Tags", "SharedTags"):
            for tag in fields.get(name, "").split(","):
                if tag.strip():
                    yield tag.strip(), architectures


def from_git(repository: Path) -> tuple[dict[str, set[str]], str, str]:
    """(versions per variant, date of the newest commit, its id) from an official-images clone."""
    log = subprocess.run(
        ["git", "-C", str(repository), "log", "--format=%H %cs", "--", "library/python"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    commits = log[0::2]
    if not commits:
        raise SystemExit(f"{repository}: no history of library/python")
    found: dict[str, set[str]] = {variant: set() for variant in VARIANTS}
    for commit in commits:
        text = subprocess.run(
            ["git", "-C", str(repository), "show", f"{commit}:library/python"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        for tag, architectures in parse_library_file(text):
            kept = _keep(tag, architectures)
            if kept:
                found[kept[0]].add(kept[1])
    return found, log[1], commits[0]


def _get_json(url: str) -> Any:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (https only)
        return json.load(response)


def from_hub(base_url: str = _HUB) -> tuple[dict[str, set[str]], str]:
    """(versions per variant, the newest push date) from Docker Hub's tag API."""
    found: dict[str, set[str]] = {variant: set() for variant in VARIANTS}
    newest = ""
    for variant in VARIANTS:
        query = urllib.parse.urlencode({"name": f"-slim-{variant}", "page_size": 100})
        url: str | None = f"{base_url}?{query}"
        while url:
            page = _get_json(url)
            for result in page.get("results", []):
                architectures = {
                    _hub_architecture(image)
                    for image in result.get("images", [])
                    if image.get("os") == "linux"
                }
                kept = _keep(result.get("name", ""), architectures)
                if kept and kept[0] == variant:
                    found[variant].add(kept[1])
                    newest = max(newest, str(result.get("tag_last_pushed", ""))[:10])
            url = page.get("next")
    return found, newest


def _hub_architecture(image: Mapping[str, Any]) -> str:
    """Docker Hub's (architecture, variant) as official-images names it: arm64 -> arm64v8."""
    architecture = str(image.get("architecture", ""))
    variant = str(image.get("variant") or "")
    if architecture == "arm64":
        return "arm64v8"
    if architecture == "arm":
        return f"arm32{variant or 'v7'}"
    return architecture


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def render(found: Mapping[str, Iterable[str]], as_of: str, source: str) -> str:
    """The table as JSON text: per minor version, per variant, its patches in order."""
    minors: dict[str, dict[str, list[str]]] = {}
    for variant in VARIANTS:
        for version in found.get(variant, ()):
            minor = version.rsplit(".", 1)[0]
            minors.setdefault(minor, {}).setdefault(variant, []).append(version)
    header: dict[str, Any] = {
        "image": "python",
        "as_of": as_of,
        "source": source,
        "variants": list(VARIANTS),
        "architectures": sorted(ARCHITECTURES),
        "note": (
            "Generated by `python -m paaskit.data.python_images`; never edit by hand. Tags "
            "`python:<version>-slim-<variant>` published for both architectures, per minor "
            "version, newest Debian first."
        ),
    }
    # One line per (minor, variant): the file diffs by release, and stays readable.
    lines = ["{", *(f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in header.items())]
    lines.append('  "versions": {')
    ordered = sorted(minors, key=_version_key)
    for m_index, minor in enumerate(ordered):
        lines.append(f"    {json.dumps(minor)}: {{")
        variants = [v for v in VARIANTS if v in minors[minor]]
        for v_index, variant in enumerate(variants):
            versions = sorted(minors[minor][variant], key=_version_key)
            comma = "," if v_index < len(variants) - 1 else ""
            lines.append(f"      {json.dumps(variant)}: {json.dumps(versions)}{comma}")
        lines.append("    }" + ("," if m_index < len(ordered) - 1 else ""))
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m paaskit.data.python_images", description=__doc__.split("\n\n")[0]
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--hub", action="store_true", help="read Docker Hub's tag list (default)")
    source.add_argument(
        "--git", metavar="PATH", type=Path, help="read a docker-library/official-images clone"
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the shipped table differs from the source"
    )
    parser.add_argument("--out", type=Path, default=OUTPUT, help=f"default: {OUTPUT}")
    args = parser.parse_args(argv)
    if args.git:
        found, as_of, commit = from_git(args.git)
        origin = (
            "the history of library/python in docker-library/official-images "
            f"(newest commit {commit[:12]}, {as_of})"
        )
    else:
        found, as_of = from_hub()
        origin = f"Docker Hub's tag list for library/python (newest push {as_of})"
    text = render(found, as_of, origin)
    if args.check:
        current = args.out.read_text() if args.out.is_file() else ""
        if current != text:
            print(f"{args.out} is out of date: run without --check", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text)
    print(f"wrote {args.out}: {sum(len(v) for v in found.values())} tags, as of {as_of}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
