"""The app manifest, `paaskit.yml`, in Convox's `convox.yml` format: models, coercion, loading.

`load_manifest` and `parse_manifest` (`_load.py`) read one into a `Manifest`
(`_models.py`, where every key documents its default), coercing Convox's
shorthands (`_coerce.py`), translating timer schedules (`_cron.py`) and
reading image references as Docker does (`_reference.py`);
every problem becomes one `ManifestError` naming the file and each key path
(`_errors.py`). Pure Python: the App turns a manifest into resources. The
format, key by key: docs/manifest.md.
"""

from __future__ import annotations

from ._coerce import command_argv
from ._cron import aws_cron_expression
from ._errors import ManifestError
from ._load import MANIFEST_FILENAMES, load_manifest, parse_manifest
from ._models import (
    DEFAULT_CPU_TARGET,
    HOST_PATHS,
    VOLUME_MODES,
    Agent,
    AgentPort,
    AppSettings,
    AwsLogs,
    Build,
    BuildArg,
    Cooldown,
    Count,
    Deployment,
    Environment,
    EnvVar,
    Health,
    Manifest,
    MemcachedOptions,
    MysqlOptions,
    Port,
    PostgresOptions,
    RdsOptions,
    RedisOptions,
    Resource,
    ResourceLink,
    ResourceOptions,
    Scale,
    Service,
    Static,
    Targets,
    Termination,
    Timer,
    Volume,
    env_prefix,
)

__all__ = [
    "DEFAULT_CPU_TARGET",
    "HOST_PATHS",
    "MANIFEST_FILENAMES",
    "VOLUME_MODES",
    "Agent",
    "AgentPort",
    "AppSettings",
    "AwsLogs",
    "Build",
    "BuildArg",
    "Cooldown",
    "Count",
    "Deployment",
    "EnvVar",
    "Environment",
    "Health",
    "Manifest",
    "ManifestError",
    "MemcachedOptions",
    "MysqlOptions",
    "Port",
    "PostgresOptions",
    "RdsOptions",
    "RedisOptions",
    "Resource",
    "ResourceLink",
    "ResourceOptions",
    "Scale",
    "Service",
    "Static",
    "Targets",
    "Termination",
    "Timer",
    "Volume",
    "aws_cron_expression",
    "command_argv",
    "env_prefix",
    "load_manifest",
    "parse_manifest",
]
