"""App: the services of one manifest (`paaskit.yml` / `convox.yml`) running on a rack.

For each service of the manifest, on the rack's ECS cluster:

- an image: the service's `image`, or built from its Dockerfile with
  pulumi-docker for the nodes' CPU architecture and pushed to the app's ECR
  repository (scanned on push, old images expired); a Python app without a
  Dockerfile gets one generated from `requirements.txt` or `pyproject.toml`
  and its `Procfile` (`paaskit.buildpack`), like a buildpack;
- a task definition and an ECS service on the rack's capacity provider, with
  the deployment circuit breaker rolling a bad release back, less than 100%
  minimum healthy so nodes can drain, tasks spread across zones then nodes,
  logs in CloudWatch with retention, an execution role that can only pull
  this app's image, write its logs and read its own settings and database
  secret, and a task role with the manifest's `policies` and nothing else;
- for web services, a target group with the manifest's health check and
  drain time, and a listener rule for the service's domains (or
  `<app>-<service>.<rack domain>`); autoscaling by target tracking when
  `scale` gives a range;
- `release`: the command runs as a one-off task of the new task definition
  before any service moves to it (`paaskit.release`, invoked through
  `aws.lambda_.Invocation`); if it fails, `pulumi up` stops with the task's
  exit code and reason and the services keep the old version;
- `static`: the folder's files are uploaded to the rack's CDN bucket under
  `<app>/<service>/` and the service's hosts are registered with the CDN,
  so apps never collide;
- `postgres` resources: a `Database` per resource (or the rack's shared one,
  with `options: {shared: true}`); linked services get `<NAME>_HOST`,
  `_PORT`, `_NAME`, `_USER` and the password as an ECS secret (`<NAME>_PASS`),
  and `<NAME>_URL` is built inside the container at start (see below);
- timers: EventBridge Scheduler runs the timer's command as a task of its service.

Settings. A manifest variable declared `KEY` (no default) must be given a
value in `AppArgs.environment`; such values, and any that override a
default, are stored as SSM SecureString parameters and reach the task as ECS
secrets: never in the task definition in plain text. Defaults (`KEY=value`)
are ordinary environment variables.

`DATABASE_URL` without a password anywhere outside the container: the
service's command is wrapped in a few lines of POSIX sh
(`paaskit.buildpack.url_env_snippet`) that build the URL from the separate
variables, percent-encoding the password, and then `exec` the command. paaskit
knows the command of a service with `command`, of an image it builds from a
Dockerfile (its ENTRYPOINT/CMD), and of a generated Dockerfile; for a
prebuilt `image` without `command` it cannot wrap, and the app reads the
separate variables (libpq reads `PG*` by itself). Images without `/bin/sh`
(distroless) need `command` given as they run it.
"""

from __future__ import annotations

from ._app import App
from ._settings import AppArgs

__all__ = ["App", "AppArgs"]
