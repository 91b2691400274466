"""What a process finds in its environment at run time, as on Heroku: `PORT`, `WEB_CONCURRENCY`.

- `PORT`: the port the service listens on, always set for a service with a port, so Procfile
  commands can say `--bind 0.0.0.0:$PORT` (gunicorn binds to `$PORT` by itself). A manifest
  that sets `PORT` to the same number is accepted; to another number, it is an error: the load
  balancer would send traffic where nothing listens.
- `WEB_CONCURRENCY`: how many worker processes gunicorn and uvicorn start by default, from the
  task's memory and CPU as Heroku computes it for a dyno, unless the manifest sets it.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._errors import BuildpackError

__all__ = ["MIB_PER_WORKER", "process_environment", "web_concurrency"]

MIB_PER_WORKER = 256
"""Heroku's floor of memory per web worker (its buildpack's WEB_CONCURRENCY.sh)."""


def web_concurrency(memory_mib: int, cpu_units: int | None = None) -> int:
    """Heroku's default number of web workers: the smaller of memory / 256 MiB (at least 1)
    and 2 × CPUs + 1.

    `cpu_units` are ECS CPU units (1024 per vCPU), rounded up to whole CPUs; None counts one
    CPU, what a task with no CPU reservation can count on. A 512 MiB task gets 2 workers
    (Heroku's Standard-1X), 1 GiB gets 3 with one vCPU (4 with two).
    """
    if memory_mib < 1:
        raise ValueError(f"memory_mib: expected a positive number of MiB (got {memory_mib})")
    cpus = 1 if not cpu_units else max(1, -(-cpu_units // 1024))
    by_memory = max(1, memory_mib // MIB_PER_WORKER)
    return min(by_memory, cpus * 2 + 1)


def process_environment(
    *,
    port: int | None,
    memory_mib: int | None,
    cpu_units: int | None = None,
    declared: Mapping[str, str | None] | None = None,
    key: str = "environment",
) -> dict[str, str]:
    """The variables paaskit sets for a process: `PORT` and `WEB_CONCURRENCY`.

    `declared` is the manifest's environment for the service (`None` values are declared
    without a default); `key` is how messages name it (`services.web.environment`). A declared
    `PORT` other than the service's port is a BuildpackError naming `<key>.PORT`; a declared
    `WEB_CONCURRENCY` is the user's and is not returned (the manifest's value stands).
    """
    declared = declared or {}
    out: dict[str, str] = {}
    if port is not None:
        given = declared.get("PORT")
        if given is not None and given.strip() != str(port):
            raise BuildpackError(
                f"{key}.PORT: {given!r} differs from the service's port {port}: the load "
                f"balancer sends traffic to {port}, and paaskit sets PORT={port} for the "
                "process; remove PORT from the environment or make the two equal"
            )
        out["PORT"] = str(port)
    if memory_mib is not None and "WEB_CONCURRENCY" not in declared:
        out["WEB_CONCURRENCY"] = str(web_concurrency(memory_mib, cpu_units))
    return out
