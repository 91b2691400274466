"""`paaskit rollback APP [RELEASE]`: put an earlier release back, now, and pin it for `pulumi up`.

A release is the set of task definition revisions deployed together (see
`paaskit.release.records`). Rolling back to one:

1. finds it among the app's release records (default: the newest release
   before the live one that runs something different);
2. checks that its images are still in ECR: the repository's lifecycle policy
   keeps a fixed number of images (the retention window), and a release whose
   image has expired cannot come back;
3. makes sure its task definition revisions can run: Pulumi deregisters a
   revision it replaces unless the component keeps it, and ECS refuses to move
   a service to an INACTIVE revision, so such a revision is registered again
   as a new revision of the same family with the same content (image digest,
   command, settings, roles, tags);
4. moves each service with UpdateService, at once, as Heroku does (ECS then
   rolls the tasks over with the service's own deployment settings and
   circuit breaker);
5. writes a release record of kind `rollback` (`rollbackOf` = the release put
   back), which is what runs now;
6. pins it for infrastructure as code: the App component keeps the services on
   the pinned release on every `pulumi up` until the pin is removed, so the
   next deploy does not silently undo the rollback. The pin is
   `paaskit-app:release` in the app stack's config: written into the stack file
   with `--stack-file`, else printed as the `pulumi config set` command.

What a rollback does not do: run the release command (migrations are not
reversed), restore settings' values (SSM parameters and secrets are read at
task start, so tasks get today's values), or change scale (the manifest and
autoscaling own it). Services added since the release keep running what they
run; services removed since are not brought back.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from paaskit.release import records
from paaskit.release.records import Release, ServiceRelease

from .aws import Aws
from .discovery import App, describe_services
from .errors import OpsError
from .fields import short_task_definition
from .pin import PIN_KEY, pin_command, write_pin
from .releases import history, live_release, running
from .status import service_state

__all__ = ["choose_release", "ecr_image", "rollback"]

_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(?P<repository>[^@:]+)@(?P<digest>sha256:[0-9a-f]{64})$"
)


def ecr_image(image: str) -> dict[str, str] | None:
    """Account, region, repository and digest of an ECR image pinned by digest; None otherwise."""
    match = _ECR_IMAGE.match(image)
    return match.groupdict() if match else None


def _task_definitions(release: Release) -> dict[str, str]:
    return {name: entry.task_definition for name, entry in release.services.items()}


def choose_release(
    past: list[Release], now_running: dict[str, str], wanted: int | None, app: str
) -> Release:
    """The release to go back to: `wanted`, or the newest earlier one that differs from what is live."""
    if not past:
        raise OpsError(
            f"app {app} has no release records: nothing to roll back to (records are written "
            "by each deploy; see `paaskit releases`)"
        )
    live = live_release(past, now_running)
    if wanted is not None:
        found = next((r for r in past if r.number == wanted), None)
        if found is None:
            kept = f"v{past[-1].number}-v{past[0].number}"
            raise OpsError(f"app {app} has no release v{wanted} (releases kept: {kept})")
        if live is not None and found.number == live.number:
            raise OpsError(f"release v{wanted} of app {app} is already live")
        return found
    reference = live or past[0]
    for release in past:
        older = (release.number or 0) < (reference.number or 0)
        if older and _task_definitions(release) != _task_definitions(reference):
            return release
    raise OpsError(f"app {app} has no release before v{reference.number} to roll back to")


def _check_images(aws: Aws, app: App, release: Release) -> None:
    ecr = aws.client("ecr")
    gone = []
    for name, entry in sorted(release.services.items()):
        if name not in app.services:
            continue
        image = ecr_image(entry.image)
        if image is None:
            continue  # not an ECR image pinned by digest (e.g. `image:` from a public registry)
        try:
            ecr.describe_images(
                registryId=image["account"],
                repositoryName=image["repository"],
                imageIds=[{"imageDigest": image["digest"]}],
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code not in ("ImageNotFoundException", "RepositoryNotFoundException"):
                raise
            gone.append(f"service {name}: {image['digest'][:19]}... in {image['repository']}")
    if gone:
        raise OpsError(
            f"release v{release.number} of app {app.name} cannot come back: its images are no longer "
            f"in ECR ({'; '.join(gone)}); the repository's lifecycle policy keeps only the newest "
            "images, so releases older than that window are gone"
        )


def _runnable(aws: Aws, task_definition: str, on_status: Callable[[str], None]) -> str:
    """The ARN of an ACTIVE revision with `task_definition`'s content (registered again if INACTIVE)."""
    ecs = aws.client("ecs")
    try:
        described = ecs.describe_task_definition(taskDefinition=task_definition, include=["TAGS"])
    except ClientError as exc:
        raise OpsError(
            f"task definition {task_definition}: {exc.response['Error'].get('Message')}"
        ) from None
    definition = described["taskDefinition"]
    if definition.get("status") != "INACTIVE":
        return str(definition["taskDefinitionArn"])
    members = ecs.meta.service_model.operation_model("RegisterTaskDefinition").input_shape.members
    request = {key: value for key, value in definition.items() if key in members}
    if described.get("tags"):
        request["tags"] = described["tags"]
    registered = ecs.register_task_definition(**request)["taskDefinition"]["taskDefinitionArn"]
    on_status(
        f"{task_definition} was deregistered: registered its content again as "
        f"{short_task_definition(registered)}"
    )
    return str(registered)


def _image_of(aws: Aws, task_definition: str, container: str) -> str:
    definition = aws.client("ecs").describe_task_definition(taskDefinition=task_definition)[
        "taskDefinition"
    ]
    found: dict[str, Any] = next(
        (c for c in definition.get("containerDefinitions", []) if c.get("name") == container), {}
    )
    return str(found.get("image", ""))


def _wait(
    aws: Aws, app: App, on_status: Callable[[str], None], *, timeout: float, poll_seconds: float
) -> dict[str, str]:
    """Poll the services until none is deploying; return each one's final state."""
    deadline = time.monotonic() + timeout
    shown: dict[str, str] = {}
    while True:
        described = describe_services(aws, app.rack.cluster_arn, app.services.values())
        states = {
            name: service_state(described[arn])
            for name, arn in app.services.items()
            if arn in described
        }
        for name, state in states.items():
            if shown.get(name) != state:
                on_status(f"service {name}: {state}")
        shown = states
        if all(state != "deploying" for state in states.values()) or time.monotonic() >= deadline:
            return states
        time.sleep(poll_seconds)


def rollback(
    aws: Aws,
    app: App,
    wanted: int | None = None,
    *,
    stack_file: Path | None = None,
    wait: bool = False,
    on_status: Callable[[str], None] = lambda _: None,
    timeout: float = 900.0,
    poll_seconds: float = 5.0,
) -> dict[str, Any]:
    """Roll `app` back to release `wanted` (default: the one before the live one); return what was done."""
    past = history(aws, app)
    now_running = running(app)
    live = live_release(past, now_running)
    target = choose_release(past, now_running, wanted, app.name)
    _check_images(aws, app, target)
    skipped = sorted(set(target.services) - set(app.services))
    for name in skipped:
        on_status(f"service {name} of release v{target.number} no longer exists: skipped")
    ecs = aws.client("ecs")
    moved: dict[str, dict[str, Any]] = {}
    recorded: dict[str, ServiceRelease] = {}
    for name, arn in app.services.items():
        entry = target.services.get(name)
        if entry is None:
            current = app.described[name]["taskDefinition"]
            recorded[name] = ServiceRelease(
                short_task_definition(current), _image_of(aws, current, name)
            )
            on_status(
                f"service {name} is not in release v{target.number}: it keeps {short_task_definition(current)}"
            )
            continue
        if now_running.get(name) == entry.task_definition:
            recorded[name] = ServiceRelease(entry.task_definition, entry.image)
            continue  # already runs it: no new deployment
        task_definition = _runnable(aws, entry.task_definition, on_status)
        ecs.update_service(
            cluster=app.rack.cluster_arn, service=arn, taskDefinition=task_definition
        )
        short = short_task_definition(task_definition)
        on_status(f"service {name}: {now_running.get(name)} -> {short}")
        moved[name] = {
            "from": now_running.get(name),
            "to": short,
            "reregistered": short != entry.task_definition,
        }
        recorded[name] = ServiceRelease(short, entry.image)  # no release command ran
    number = records.write(
        aws.client("ssm"),
        rack=app.rack.name,
        app=app.name,
        release=Release(
            services=recorded, time=datetime.now(UTC), kind="rollback", rollback_of=target.number
        ),
    )
    if stack_file is not None:
        write_pin(stack_file, number)
    states = (
        _wait(aws, app, on_status, timeout=timeout, poll_seconds=poll_seconds) if wait else None
    )
    return {
        "app": app.name,
        "rack": app.rack.name,
        "from": live.number if live else None,
        "to": target.number,
        "release": number,
        "services": moved,
        "skipped": skipped,
        "states": states,
        "pin": {
            "key": PIN_KEY,
            "value": str(number),
            "stackFile": str(stack_file) if stack_file else None,
            "command": pin_command(number),
        },
    }
