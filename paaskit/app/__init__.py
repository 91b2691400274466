"""App: the services of one manifest (`paaskit.yml` / `convox.yml`) running on a rack.

`AppArgs` (`_settings.py`), the `App` component (`_app.py`), the one place
that composes what its containers run (`_command.py`), what each build reads
before anything is made (`_builds.py`: its Dockerfile, the buildpack's plan,
the Procfile's process and `release:`), what the App refuses beyond the
manifest (`_checks.py`: paaskit's variables and PORT, tasks the rack cannot
hold, task definitions ECS would not take), images (`_images.py` and
`_ignore.py`: the tag that names exactly what pulumi-docker builds) and the
IAM policies of its roles (`_policies.py`). What it makes, its settings,
costs and runbook: docs/app.md.
"""

from __future__ import annotations

from ._app import App
from ._settings import AppArgs

__all__ = ["App", "AppArgs"]
