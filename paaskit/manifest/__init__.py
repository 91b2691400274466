"""The app manifest, `paaskit.yml`: what an app runs on a rack, in Convox's `convox.yml` format.

A Convox user brings their `convox.yml` unchanged: `load_manifest` reads `paaskit.yml`,
`paaskit.yaml`, `convox.yml` or `convox.yaml`, and every key Convox documents for
`environment`, `resources`, `services` and `timers` either means the same thing here or
fails with a message saying paaskit does not support it (yet) and why. paaskit adds two
service keys: `release` (a command run once before a new version takes traffic, such as
database migrations) and `static` (a folder of files served from the rack's CDN).

    environment:
      - COMPANY=Acme              # a default, overridden by the app's settings
      - SECRET_KEY                # required: the app's settings must give it
    resources:
      database:
        type: postgres            # an RDS PostgreSQL database (paaskit's Database)
        options: {storage: 50}
    services:
      web:
        build: .
        command: gunicorn app:app --bind 0.0.0.0:$PORT
        port: 8000
        health: /health
        scale: {count: 2-10, cpu: 512, memory: 1024, targets: {cpu: 70}}
        resources: [database]     # injects DATABASE_URL, DATABASE_USER, ...
        release: python manage.py migrate
        static: {path: staticfiles, prefix: /static}
      worker:
        build: .
        command: celery -A app worker
        resources: [database]
    timers:
      cleanup:
        schedule: "0 3 * * *"     # crontab form, UTC; Convox v2's AWS form also reads
        command: python manage.py clearsessions
        service: worker

Shorthands are coerced as Convox does (`port: https:3000`, `scale: "2-10"`,
`health: /check`, `build: ./api`, ...); every default follows Convox where that is
sensible and each field's docstring says which and why. Anything wrong fails with one
`ManifestError` naming the file and every bad key path:

    paaskit.yml: 2 problems
      services.web.scale: expected a count, "min-max" or a mapping (got "lots")
      services.web.sclae: unknown key (did you mean "scale"?)

Top-level keys starting with `x-` are ignored, so they can hold YAML anchors that the
services reuse (Compose's convention; Convox ignores every unknown key, paaskit only these).

Interpolation: as in Convox, `${NAME}` in any string value is replaced by the value of
NAME from the `env` mapping given to `parse_manifest` / `load_manifest` (Convox uses the
app's environment). Unlike Convox, which silently substitutes an empty string for an
unset NAME, paaskit fails naming the key and the variable; pass `env={"NAME": ""}` to
get Convox's behaviour on purpose. Substitution happens on parsed string values, never
on keys, so a value can never change the YAML's structure.

This module is pure Python (pydantic and PyYAML): the App component (`paaskit/app.py`)
turns a `Manifest` into resources.
"""

from __future__ import annotations

from ._coerce import command_argv
from ._cron import aws_cron_expression
from ._errors import ManifestError
from ._load import MANIFEST_FILENAMES, load_manifest, parse_manifest
from ._models import (
    DEFAULT_CPU_TARGET,
    Agent,
    AgentPort,
    Build,
    BuildArg,
    Cooldown,
    Count,
    Deployment,
    Environment,
    EnvVar,
    Health,
    Manifest,
    Port,
    PostgresOptions,
    Resource,
    ResourceLink,
    Scale,
    Service,
    Static,
    Targets,
    Termination,
    Timer,
    env_prefix,
)

__all__ = [
    "DEFAULT_CPU_TARGET",
    "MANIFEST_FILENAMES",
    "Agent",
    "AgentPort",
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
    "Port",
    "PostgresOptions",
    "Resource",
    "ResourceLink",
    "Scale",
    "Service",
    "Static",
    "Targets",
    "Termination",
    "Timer",
    "aws_cron_expression",
    "command_argv",
    "env_prefix",
    "load_manifest",
    "parse_manifest",
]
