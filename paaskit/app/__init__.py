"""App: the services of one manifest (`paaskit.yml` / `convox.yml`) running on a rack.

`AppArgs` (`_settings.py`), the `App` component (`_app.py`), what its containers run
(`_command.py`), what each build reads first (`_builds.py`), what it refuses beyond the
manifest (`_checks.py`), images (`_images.py`, `_ignore.py`: the tag that names exactly what
pulumi-docker builds), the IAM policies of its roles (`_policies.py`) and the rollback pin
(`_pin.py`). What it makes, its settings, costs and runbook: docs/app.md.
"""

from __future__ import annotations

from ._app import App
from ._settings import AppArgs

__all__ = ["App", "AppArgs"]
