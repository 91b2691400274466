"""Convox Gen1's docker-compose keys that have an exact paaskit equivalent.

Convox Gen1 racks read a `docker-compose.yml`, and manifests moved to Convox v2's
`convox.yml` by hand still carry some of its keys. Two of them mean exactly what a
paaskit key means, so they are read as it, each with a warning that says which:

- `cpu_shares` is Docker's CPU shares, the very number ECS's container `cpu` (CPU units)
  sets: `cpu_shares: 128` reads as `scale.cpu: 128`;
- `mem_limit` is Docker's hard memory limit, which ECS's container `memory` sets in MiB:
  `mem_limit: 256m` reads as `scale.memory: 256`. Compose writes bytes, with an optional
  unit (`b`, `k`/`kb`, `m`/`mb`, `g`/`gb`, powers of 1024); a limit that is not a whole
  number of MiB rounds up, so the process never gets less than it asked for.

Both are refused when the service's `scale` gives the same setting (which one was meant is
not clear), and a value `scale` refuses (`mem_limit: 64m`, under 128 MiB) is reported at
the key written, not at the `scale` key it became. Every other compose key is refused with what to write instead
(`Service.convox_unsupported`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from ._errors import Loc, show

__all__ = ["COMPOSE_KEYS", "ComposeReading", "read_compose_keys"]

COMPOSE_KEYS: Mapping[str, str] = {"cpu_shares": "cpu", "mem_limit": "memory"}
"""A service's docker-compose key -> the `scale` key it reads as."""

_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
_BYTES = re.compile(r"(\d+)\s*([bkmg]?)b?", re.IGNORECASE)
_MIB = 1024**2


def _cpu_shares(value: Any) -> int | str:
    """CPU units, or the reason `value` is not a count of CPU shares."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return f"expected a whole number of CPU shares (got {show(value)})"
    text = str(value).strip()
    if not text.isdigit():
        return f"expected a whole number of CPU shares (got {show(value)})"
    return int(text)


def _mem_limit(value: Any) -> int | str:
    """MiB, rounded up, or the reason `value` is not a compose byte value."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return f"expected bytes, as compose writes them: 256m, 1g, 268435456 (got {show(value)})"
    match = _BYTES.fullmatch(str(value).strip())
    if match is None or len(match.group(1)) > 20:
        return f"expected bytes, as compose writes them: 256m, 1g, 268435456 (got {show(value)})"
    size = int(match.group(1)) * _UNITS[match.group(2).lower()]
    return math.ceil(size / _MIB)


_READERS = {"cpu_shares": _cpu_shares, "mem_limit": _mem_limit}
_MEANING = {
    "cpu_shares": "ECS's CPU units are Docker's CPU shares",
    "mem_limit": "MiB, a hard limit as mem_limit was",
}


class ComposeReading(NamedTuple):
    """What `read_compose_keys` made of a manifest."""

    data: Any
    """The manifest, each service's `cpu_shares` and `mem_limit` moved to its `scale`."""
    problems: list[tuple[Loc, str]]
    """Values that cannot be read, or that `scale` contradicts."""
    warnings: list[tuple[Loc, str]]
    """One per key read: what it became."""
    written: dict[Loc, Loc]
    """The `scale` key each value became -> the key it was written as, to report a value
    `scale` refuses where the user wrote it."""


def read_compose_keys(data: Any) -> ComposeReading:
    """`data` (a parsed manifest) read as `ComposeReading`. Anything not shaped as a
    manifest is returned as it is, for the models to report."""
    problems: list[tuple[Loc, str]] = []
    warnings: list[tuple[Loc, str]] = []
    written: dict[Loc, Loc] = {}
    if not isinstance(data, Mapping) or not isinstance(data.get("services"), Mapping):
        return ComposeReading(data, problems, warnings, written)
    services: dict[Any, Any] = {}
    for name, service in data["services"].items():
        services[name] = service
        if not isinstance(service, Mapping) or not any(k in service for k in COMPOSE_KEYS):
            continue
        found = list(_read(name, service, problems, warnings))
        if not found:
            continue
        service = {k: v for k, v in service.items() if k not in COMPOSE_KEYS}
        scale = service.get("scale")
        if scale is None:
            scale = {}
        elif isinstance(scale, int | str) and not isinstance(scale, bool):
            scale = {"count": scale}  # the count shorthand, `scale: 2`
        if not isinstance(scale, Mapping):
            services[name] = service  # the model reports the bad scale
            continue
        scale = dict(scale)
        for key, target, amount in found:
            if target in scale:
                problems.append(
                    (
                        ("services", name, key),
                        f"a docker-compose key (Convox Gen1) for scale.{target}, which this "
                        f"service also sets: keep scale.{target} and remove {key}",
                    )
                )
            else:
                scale[target] = amount
                written[("services", name, "scale", target)] = ("services", name, key)
        service["scale"] = scale
        services[name] = service
    return ComposeReading({**data, "services": services}, problems, warnings, written)


def _read(
    name: Any,
    service: Mapping[str, Any],
    problems: list[tuple[Loc, str]],
    warnings: list[tuple[Loc, str]],
) -> Iterator[tuple[str, str, int]]:
    for key, target in COMPOSE_KEYS.items():
        if key not in service:
            continue
        amount = _READERS[key](service[key])
        if isinstance(amount, str):
            problems.append((("services", name, key), amount))
            continue
        warnings.append(
            (
                ("services", name, key),
                f"a docker-compose key (Convox Gen1), read as scale.{target}: {amount} "
                f"({_MEANING[key]}); write scale.{target} instead",
            )
        )
        yield key, target, amount
