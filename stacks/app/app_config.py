"""How the app stack's Pulumi config becomes `AppArgs`.

Keys are those of `Pulumi.yaml` beside this file (`paaskit-app:<key>`);
`environment` is a mapping of the manifest's variables, kept encrypted.
A key nothing reads is an error with a did-you-mean, and every error names
the key as it is written here (`paaskit-app:releaseTimeoutSeconds`).
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
from paaskit.aws_api import region_problem
from paaskit.config import ConfigError, check_keys, key_path, load_settings, shown
from paaskit.manifest import MANIFEST_FILENAMES, Manifest, load_manifest
from paaskit.rack import RackRef

NAMESPACE = "paaskit-app"

CONFIG_KEYS: dict[str, str | None] = {
    "manifest": "manifest",
    "rack": "rack",
    "name": None,
    "environment": "environment",
    "pythonVersion": "python_version",
    "releaseTimeoutSeconds": "release_timeout_seconds",
    "logRetentionDays": "log_retention_days",
    "throwaway": "throwaway",
    "zones": "zones",
    "cdnLogs": "cdn_logs",
    "imageHistory": "image_history",
    "volumeKmsKeyId": "volumes.kms_key_id",
    "volumeBackups": "volumes.backups",
    "volumeUid": "volumes.uid",
    "volumeGid": "volumes.gid",
    "strictInterpolation": None,
    "release": "release",
}
"""Each config key and the field of `AppArgs` it sets; None: read here, not a field."""

DEFAULT_RACK = "organization/paaskit-rack/dev"
_STACK = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


def manifest_path(value: str) -> Path:
    """The manifest a config value names.

    Relative paths are tried from the directory the command was run in (the
    shell's `PWD`), then from this program's directory, then from the
    repository that holds it.
    """
    if not value.strip():
        # Path("") is the current directory: the plan would read whatever manifest is there.
        raise ConfigError(
            f"{NAMESPACE}:manifest: empty; give the path of the app's manifest "
            f"({' or '.join(MANIFEST_FILENAMES[::2])}) or of the folder holding it"
        )
    path = Path(value).expanduser()
    if path.is_absolute():
        candidates = [path]
    else:
        here = Path(__file__).resolve().parent
        bases = [Path(os.environ.get("PWD", os.getcwd())), Path.cwd(), here, *here.parents]
        candidates = [base / path for base in bases]
    for candidate in candidates:
        if candidate.is_dir() and not any((candidate / n).is_file() for n in MANIFEST_FILENAMES):
            raise ConfigError(
                f"{NAMESPACE}:manifest: {candidate} is a folder without a manifest "
                f"(none of {', '.join(MANIFEST_FILENAMES)}); give the manifest's path"
            )
        if candidate.exists():
            return candidate.resolve()
    raise ConfigError(
        f"{NAMESPACE}:manifest: {value!r} does not exist (tried {', '.join(str(c) for c in candidates[:3])})"
    )


_APP_NAME = re.compile(r"[a-z]([a-z0-9-]{0,29}[a-z0-9])?")
"""What `App` takes as a name: it is part of the app's hosts and AWS names."""


def app_name(config: pulumi.Config, manifest: Manifest, path: Path) -> str:
    """`paaskit-app:name`, or the manifest folder's name made into one."""
    given = config.get("name")
    if given is None:
        folder = path if path.is_dir() else path.parent
        derived = re.sub(r"[^a-z0-9-]+", "-", folder.name.lower()).strip("-") or "app"
        if _APP_NAME.fullmatch(derived):
            return derived
        raise ConfigError(
            f"{NAMESPACE}:name: not set, and the manifest folder's name {folder.name!r} "
            "makes no app name; set one: 1-31 lowercase letters, digits and '-', "
            "starting with a letter"
        )
    if not _APP_NAME.fullmatch(given):
        raise ConfigError(
            f"{NAMESPACE}:name: an app's name is part of its hosts and AWS names: 1-31 "
            f"lowercase letters, digits and '-', starting with a letter (got {shown(given)})"
        )
    return given


def rack_stack(config: pulumi.Config) -> str:
    """The rack's stack, fully qualified: a bare name would be a stack of this app's project."""
    value = config.get("rack") or DEFAULT_RACK
    if not _STACK.fullmatch(value):
        raise ConfigError(
            f"{NAMESPACE}:rack: expected the rack's stack as organization/project/stack, "
            f"like {DEFAULT_RACK} (got {shown(value)})"
        )
    return value


def environment() -> dict[str, str]:
    """The manifest's variables from `paaskit-app:environment`, as text.

    Written in the stack file as a mapping (`pulumi config set --secret --path
    'environment.SECRET_KEY' ...`), or as JSON. Numbers and booleans are taken
    as the text they were written as; a variable without a value, or with a
    list or mapping for one, is an error naming it.
    """
    raw = get_config(f"{NAMESPACE}:environment")
    if raw is None:
        return {}
    try:
        values = json.loads(raw)
    except ValueError:
        values = None
    if not isinstance(values, dict):
        raise ConfigError(
            f"{NAMESPACE}:environment: expected a mapping of variables to values, like "
            f'{{"SECRET_KEY": "..."}} or -c {NAMESPACE}:environment.SECRET_KEY=... '
            f"(got {shown(raw)})"
        )
    out: dict[str, str] = {}
    for key, value in values.items():
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, (str, int, float)):
            out[key] = value if isinstance(value, str) else json.dumps(value)
        else:
            what = (
                "no value"
                if value is None
                else ("a list" if isinstance(value, list) else "a mapping")
            )
            raise ConfigError(
                f"{key_path(NAMESPACE + ':environment', [key])}: expected a text value, got {what}"
            )
    return out


def load() -> tuple[str, AppArgs]:
    """The app's name and settings from this stack's config; errors name the config key."""
    check_keys(NAMESPACE, CONFIG_KEYS)
    region = get_config("aws:region")
    if region is not None and (problem := region_problem(region)) is not None:
        raise ConfigError(f"aws:region: {problem}")
    config = pulumi.Config(NAMESPACE)
    env = environment()
    path = manifest_path(config.require("manifest"))
    manifest = load_manifest(
        path,
        env=env,
        strict=config.get_bool("strictInterpolation") or False,
        env_setting=f"{NAMESPACE}:environment",
    )
    _check_environment(manifest, env, path)
    rack = RackRef(rack_stack(config))
    args = load_settings(
        AppArgs,
        NAMESPACE,
        keys=CONFIG_KEYS,
        given={"manifest": manifest, "rack": rack.info, "environment": _secrets(env)},
    )
    return app_name(config, manifest, path), args


def _check_environment(manifest: Manifest, env: dict[str, str], path: Path) -> None:
    """The variables given here against those the manifest declares, named by this stack's
    key: the App refuses the same, but names its own `environment` and the manifest's keys,
    not the setting where a value goes (or should not)."""
    missing = {
        name
        for service in manifest.services
        for name in manifest.service_environment(service).required
        if name not in env
    }
    unknown = manifest.undeclared(env)
    if unknown:
        one = len(unknown) == 1
        it = "it" if one else "them"
        where = (
            key_path(f"{NAMESPACE}:environment", unknown)
            if one
            else f"{NAMESPACE}:environment: {', '.join(unknown)}"
        )
        raise ConfigError(
            f"{where}: not declared in {path}, so no service would read {it}: declare {it} "
            f"under `environment` there, or remove {it} here"
        )
    if missing:
        first = min(missing)
        raise ConfigError(
            f"{NAMESPACE}:environment: {', '.join(sorted(missing))} not set; {path} declares "
            f"{'it' if len(missing) == 1 else 'them'} without a default. Set each: "
            f"pulumi config set --secret --path 'environment.{first}' VALUE "
            f"(offline: -c {NAMESPACE}:environment.{first}=VALUE)"
        )


def _secrets(values: dict[str, str]) -> dict[str, Any]:
    # Every variable is kept encrypted: in the state, and masked in every plan.
    return {key: pulumi.Output.secret(value) for key, value in values.items()}
