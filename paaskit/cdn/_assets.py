"""Static files: which to upload, under which keys, with which content type and cache headers."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from paaskit.config import ConfigError, Input

__all__ = [
    "CONTENT_TYPES",
    "IMMUTABLE",
    "SHORT_LIVED",
    "Asset",
    "asset_object_args",
    "content_type",
    "find_assets",
    "is_fingerprinted",
    "upload_assets",
]

IMMUTABLE = "public, max-age=31536000, immutable"
"""Cache-Control of fingerprinted assets: a year, never revalidated."""

SHORT_LIVED = "public, max-age=300"
"""Cache-Control of other assets: five minutes, so deploys show without invalidations."""


_PREFIX_SEGMENT = re.compile(r"^[A-Za-z0-9_~-][A-Za-z0-9._~-]*$")
_SAFE_KEY = re.compile(r"[^A-Za-z0-9._/-]")
# A content hash in a file name: 8+ hex characters with a digit and a letter, as a
# dot-, dash- or underscore-separated segment before the extension.
_FINGERPRINT = re.compile(r"(?:^|[._-])(?=[0-9a-f]*[0-9])(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\.")

# Hidden files and folders are skipped (.git, .DS_Store), except the one dot-folder
# the web uses on purpose (RFC 8615).
_PUBLIC_DOT_DIRS = frozenset({".well-known"})


CONTENT_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".cjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".bmp": "image/bmp",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".eot": "application/vnd.ms-fontobject",
    ".wasm": "application/wasm",
    ".pdf": "application/pdf",
    ".zip": "application/zip",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".wav": "audio/wav",
}
"""Content types by extension, fixed here so that uploads do not depend on the
machine's MIME database. Anything else is `application/octet-stream`."""


def content_type(filename: str) -> str:
    """The Content-Type of a file, from `CONTENT_TYPES` by its extension."""
    return CONTENT_TYPES.get(os.path.splitext(filename)[1].lower(), "application/octet-stream")


def is_fingerprinted(filename: str) -> bool:
    """Whether a file name carries a content hash: 8+ hex characters before the extension.

    `app.3f9a1c2e.js`, `main-5d41402abc4b.css` and `3f9a1c2e.chunk.js` do;
    `favicon.ico` and `report-20240101.csv` (digits only) do not. A miss
    only costs caching (five minutes instead of a year); a false hit would
    serve a stale file for a year, so the rule errs on the side of missing.
    """
    return _FINGERPRINT.search(os.path.basename(filename)) is not None


@dataclass(frozen=True)
class Asset:
    """One file of a folder to upload, with what S3 will be told about it."""

    path: Path
    key: str
    content_type: str
    cache_control: str
    sha256: str
    immutable: bool

    @property
    def slug(self) -> str:
        """A Pulumi-name-safe form of the key, distinct for distinct keys."""
        safe = _SAFE_KEY.sub("_", self.key)
        if safe != self.key or len(safe) > 120:
            digest = hashlib.sha256(self.key.encode()).hexdigest()[:8]
            safe = f"{safe[:100]}-{digest}"
        return safe


def _check_prefix(prefix: str) -> str:
    cleaned = prefix.strip("/")
    if "\\" in cleaned:
        raise ConfigError(f"prefix: {prefix!r}: use '/' between folders")
    for segment in cleaned.split("/") if cleaned else []:
        if segment in ("", ".", "..") or not _PREFIX_SEGMENT.match(segment):
            raise ConfigError(
                f"prefix: {prefix!r}: each part is letters, digits or . _ ~ - "
                "(no empty parts, no '.' or '..')"
            )
    return cleaned


def find_assets(
    folder: str | os.PathLike[str],
    prefix: str,
    *,
    fingerprinted: Callable[[str], bool] = is_fingerprinted,
) -> list[Asset]:
    """The files of `folder` to upload under `prefix`, sorted by key.

    Hidden files and folders are skipped, except `.well-known/`.

    `fingerprinted` decides from a file name whether it is content-hashed
    (immutable); pass your own for a bundler whose hashes are not hex.
    """
    root = Path(folder)
    if not root.is_dir():
        raise ConfigError(f"folder: {str(folder)!r} does not exist or is not a directory")
    base = _check_prefix(prefix)
    found: list[Asset] = []
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d in _PUBLIC_DOT_DIRS or not d.startswith("."))
        for filename in sorted(files):
            if filename.startswith("."):
                continue
            path = Path(directory) / filename
            if not path.is_file():
                continue
            relative = path.relative_to(root).as_posix()
            key = f"{base}/{relative}" if base else relative
            immutable = fingerprinted(filename)
            found.append(
                Asset(
                    path=path,
                    key=key,
                    content_type=content_type(filename),
                    cache_control=IMMUTABLE if immutable else SHORT_LIVED,
                    sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                    immutable=immutable,
                )
            )
    return sorted(found, key=lambda a: a.key)


def asset_object_args(bucket: Input, asset: Asset) -> dict[str, Any]:
    """The keyword arguments of the `aws.s3.BucketObjectv2` that uploads `asset` to `bucket`."""
    return {
        "bucket": bucket,
        "key": asset.key,
        "source": pulumi.FileAsset(str(asset.path)),
        "source_hash": asset.sha256,
        "content_type": asset.content_type,
        "cache_control": asset.cache_control,
    }


def upload_assets(
    name: str,
    bucket: Input,
    folder: str | os.PathLike[str],
    prefix: str,
    *,
    fingerprinted: Callable[[str], bool] = is_fingerprinted,
    keep_replaced: bool = True,
    opts: pulumi.ResourceOptions | None = None,
) -> list[aws.s3.BucketObjectv2]:
    """Upload a folder to a bucket (by name) under `prefix`, one object per file.

    For apps in other stacks, which know the rack's static bucket only by
    name. Objects are named `<name>-<key>`. With `keep_replaced` (default),
    fingerprinted objects stay in the bucket when a later deploy no longer
    has them, for pages and tasks that still refer to them.
    """
    made = []
    for asset in find_assets(folder, prefix, fingerprinted=fingerprinted):
        options = pulumi.ResourceOptions.merge(
            pulumi.ResourceOptions(retain_on_delete=keep_replaced and asset.immutable), opts
        )
        made.append(
            aws.s3.BucketObjectv2(
                f"{name}-{asset.slug}", opts=options, **asset_object_args(bucket, asset)
            )
        )
    return made
