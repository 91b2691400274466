"""How the app stack's Pulumi config becomes `AppArgs`.

Keys are those of `Pulumi.yaml` beside this file (`paaskit-app:<key>`);
`environment` is a mapping of the manifest's variables, kept encrypted.
Fork this file to read more (or fewer) settings without touching the library.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime.config import get_config

from paaskit.app import AppArgs
from paaskit.config import ConfigError
from paaskit.manifest import Manifest, load_manifest
from paaskit.rack import RackRef

NAMESPACE = "paaskit-app"


def manifest_path(value: str) -> Path:
    """The manifest a config value names.

    Relative paths are tried from the directory the command was run in (the
    shell's `PWD`), then from this program's directory, then from the
    repository that holds it.
    """
    path = Path(value).expanduser()
    if path.is_absolute():
        candidates = [path]
    else:
        here = Path(__file__).resolve().parent
        bases = [Path(os.environ.get("PWD", os.getcwd())), Path.cwd(), here, *here.parents]
        candidates = [base / path for base in bases]
    for candidate in candidates:
        if candidate.exists():
            return candidate.resolve()
    raise ConfigError(
        f"{NAMESPACE}:manifest: {value!r} does not exist (tried {', '.join(str(c) for c in candidates[:3])})"
    )


def app_name(config: pulumi.Config, manifest: Manifest, path: Path) -> str:
    given = config.get("name")
    if given:
        return given
    folder = path if path.is_dir() else path.parent
    return re.sub(r"[^a-z0-9-]+", "-", folder.name.lower()).strip("-") or "app"


def environment_values() -> dict[str, str]:
    """`paaskit-app:environment` as plain values: the manifest's `${NAME}` read them."""
    raw = get_config(f"{NAMESPACE}:environment")
    if raw is None:
        return {}
    try:
        values = json.loads(raw)
    except ValueError:
        raise ConfigError(
            f"{NAMESPACE}:environment: expected a mapping of variables to values"
        ) from None
    if not isinstance(values, dict):
        raise ConfigError(f"{NAMESPACE}:environment: expected a mapping of variables to values")
    return {str(k): str(v) for k, v in values.items()}


def environment() -> dict[str, Any]:
    """The manifest's variables from `paaskit-app:environment`, each a Pulumi secret."""
    return {k: pulumi.Output.secret(v) for k, v in environment_values().items()}


def load() -> tuple[str, AppArgs]:
    """The app's name and settings from this stack's config; errors name the config key."""
    config = pulumi.Config(NAMESPACE)
    path = manifest_path(config.require("manifest"))
    manifest = load_manifest(
        path,
        env=environment_values(),
        strict=config.get_bool("strictInterpolation") or False,
        env_setting=f"{NAMESPACE}:environment",
    )

    rack = RackRef(config.get("rack") or "organization/paaskit-rack/dev")
    settings: dict[str, Any] = {
        "manifest": manifest,
        "rack": rack.info,
        "environment": environment(),
        "python_version": config.get("pythonVersion"),
        "release_timeout_seconds": config.get_int("releaseTimeoutSeconds") or 840,
        "throwaway": config.get_bool("throwaway") or False,
    }
    retention = config.get_int("logRetentionDays")
    if retention is not None:
        settings["log_retention_days"] = retention
    return app_name(config, manifest, path), AppArgs(**settings)
