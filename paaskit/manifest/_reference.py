"""Image references as Docker reads them, and what ECS adds: `image_problem`.

Docker parses `image:` with the grammar of distribution/reference (written again here, from
its documented grammar, so that paaskit needs no new dependency):

    reference        := name [ ":" tag ] [ "@" digest ]
    name             := [domain "/"] path-component ["/" path-component]*
    domain           := host [":" port-number]
    host             := domain-name | "[" IPv6 address "]"
    domain-name      := domain-component ["." domain-component]*
    domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
    path-component   := alpha-numeric [separator alpha-numeric]*
    alpha-numeric    := /[a-z0-9]+/
    separator        := /[_.]|__|[-]+/
    tag              := /[\\w][\\w.-]{0,127}/
    digest           := algorithm ":" hex, hex at least 32 digits

(with the digests Docker knows: sha256, sha384 and sha512, in lowercase hex of their length)
and, as `docker pull` normalises a name: the first component is a registry only when it has a
`.` or a `:`, is `localhost`, or has a capital letter; the repository (the rest) must be
lowercase (`NGINX:Latest` is refused, `nginx:Latest` is fine); the repository is at most
255 characters as normalised (`library/nginx`); a bare 64-digit hex string is an image ID, not a name.

ECS then takes at most 255 characters before a digest, and only `sha256:` digests of exactly
64 hex digits (RegisterTaskDefinition, `ContainerDefinition.image`).
"""

from __future__ import annotations

import re

__all__ = ["IMAGE_EXAMPLE", "NAME_MAX", "docker_problem", "image_problem"]

IMAGE_EXAMPLE = "nginx:1.27"

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])"
_DOMAIN = re.compile(rf"{_HOST}(?::[0-9]+)?")
_PATH = re.compile(rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")
_DIGEST_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
"""The digest algorithms Docker knows (go-digest's), with their hex lengths."""
_ECS_DIGEST = re.compile(r"sha256:[0-9a-fA-F]{64}")
_IMAGE_ID = re.compile(r"[a-f0-9]{64}")

NAME_MAX = 255
"""Docker's longest name (distribution/reference's NameTotalLengthMax), and ECS's longest
image before its digest."""


def _split_domain(name: str) -> tuple[str | None, str]:
    """(registry, repository) as `docker pull` splits a name."""
    first, slash, rest = name.partition("/")
    if not slash:
        return None, name
    if "." in first or ":" in first or first == "localhost" or first.lower() != first:
        return first, rest
    return None, name


def _short(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _tag_problem(tag: str) -> str:
    return (
        f"the tag {_short(tag)} is not one Docker reads: 1-128 letters, digits, '_', '.' and '-', "
        "not starting with '.' or '-'"
    )


def docker_problem(reference: str) -> str | None:
    """What Docker finds wrong with an image reference (`docker pull` refuses it), or None."""
    name, at, digest = reference.partition("@")
    tag = None
    # A tag follows the last ':' after the last '/' (a registry's port has a '/' after it).
    head, colon, tail = name.rpartition(":")
    if colon and "/" not in tail:
        name, tag = head, tail
    if _IMAGE_ID.fullmatch(reference):
        return "that is an image ID (64 hex digits), not a name: give the repository too"
    if not name:
        return "it has no repository name"
    registry, repository = _split_domain(name)
    if registry is not None and not _DOMAIN.fullmatch(registry):
        if _PATH.fullmatch(name):
            return None if tag is None or _TAG.fullmatch(tag) else _tag_problem(tag)
        return (
            f"the registry {_short(registry)} is not a host name, optionally with :port "
            "(such as public.ecr.aws or localhost:5000)"
        )
    if repository.lower() != repository and _PATH.fullmatch(repository.lower()):
        fixed = "/".join(filter(None, (registry, repository.lower())))
        fixed += (f":{tag}" if tag is not None else "") + (f"@{digest}" if at else "")
        return f"the repository name must be lowercase (Docker's rule): {fixed}"
    if not _PATH.fullmatch(repository):
        return (
            f"the repository {_short(repository)} is not a name Docker reads: lowercase letters "
            "and digits, separated by '.', '_', '__' or '-', in components joined by '/'"
        )
    # Docker counts the repository's path as it normalises it: library/nginx.
    path = repository if registry is not None or "/" in repository else f"library/{repository}"
    if len(path) > NAME_MAX:
        return (
            f"the repository is {len(path)} characters as Docker reads it "
            f"({_short(path, 30)}); Docker takes at most {NAME_MAX}"
        )
    if tag is not None and not _TAG.fullmatch(tag):
        return _tag_problem(tag)
    if at:
        algorithm, _, encoded = digest.partition(":")
        if not _DIGEST.fullmatch(digest) or algorithm not in _DIGEST_LENGTHS:
            return (
                f"what follows '@' must be a digest Docker reads, sha256:<64 hex digits> "
                f"(got {_short(digest)})"
            )
        if not re.fullmatch(rf"[a-f0-9]{{{_DIGEST_LENGTHS[algorithm]}}}", encoded):
            return (
                f"the digest {_short(digest)} is not one Docker reads: {algorithm}: and "
                f"{_DIGEST_LENGTHS[algorithm]} lowercase hex digits"
            )
    return None


def image_problem(reference: str) -> str | None:
    """What is wrong with an image reference, in words, or None when Docker and ECS take it."""
    problem = docker_problem(reference)
    if problem is not None:
        return problem
    name, at, digest = reference.partition("@")
    if at and not _ECS_DIGEST.fullmatch(digest):
        return (
            f"the digest {_short(digest)} is not one ECS takes: sha256: and exactly 64 hex digits"
        )
    if len(name) > NAME_MAX:
        return f"it is {len(name)} characters before any digest; ECS takes at most {NAME_MAX}"
    return None
