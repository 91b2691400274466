"""What an App is given: its manifest, its rack and the values of its settings."""

from __future__ import annotations

import re

from pydantic import Field, InstanceOf, field_validator

from paaskit._aws import DNS_NAME
from paaskit.config import ComponentArgs, Input, RetentionDays
from paaskit.manifest import Manifest
from paaskit.rack import RackInfo
from paaskit.volume import VolumeSettings

__all__ = [
    "AppArgs",
]

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class AppArgs(ComponentArgs):
    """Settings of an App. Every field says its default and why."""

    manifest: Manifest
    """The app's manifest (`paaskit.manifest.load_manifest(path)`). Required."""

    rack: InstanceOf[RackInfo]
    """The rack to run on: `rack.info` of a `Rack` in this program, or
    `RackRef(stack).info` for a rack made by another stack. Required."""

    environment: dict[str, Input] = Field(default_factory=dict)
    """Values for the manifest's variables: every variable declared without a
    default must be here; one with a default may be overridden. They reach the
    tasks as ECS secrets (SSM SecureString parameters), so pass secrets from
    Pulumi config (`config.require_secret`). Default: none."""

    python_version: str | None = None
    """Python for generated Dockerfiles (`3.12` or `3.12.7`). Default: from the
    app's `runtime.txt`, `.python-version` or `pyproject.toml`, else paaskit's."""

    release_timeout_seconds: int = Field(840, ge=60, le=870)
    """How long a release command may run before the deploy fails. Default 840 s,
    what a Lambda function can wait; longer work belongs in a timer."""

    image_history: int = Field(20, ge=1, le=1000)
    """How many images of each built service ECR keeps: the rollback window, in deploys
    that changed that service's image. Default 20; older images expire (ECR's lifecycle
    policy), and a task definition that runs one can no longer start tasks."""

    log_retention_days: RetentionDays | None = None
    """Days to keep the app's logs. Default: the rack's setting."""

    throwaway: bool = False
    """This app is disposable: its databases, images and static bucket go with
    `pulumi destroy`. Default off."""

    zones: list[str] = Field(default_factory=list)
    """Public Route 53 zones (`example.com`) of this account where paaskit may write
    the records of the app's custom domains: a domain in one of them is served in
    one `pulumi up` (validation and alias records made here). Default none: the
    rack's zone for a rack in the same program; otherwise the `dns` output lists
    the records to create, and the next `pulumi up` completes."""

    volumes: VolumeSettings = Field(default_factory=VolumeSettings)
    """The app's EFS file system, made when a service has a volume of its own (`/data` or
    `name:/data`): its KMS key, throughput, backups and the POSIX user files belong to.
    Default: encrypted with EFS's AWS-managed key, elastic throughput, backed up, user and
    group 1000. Its `throwaway` follows the app's."""

    cdn_logs: bool = True
    """Deliver the standard logs (v2) of the app's distributions to the rack's
    CloudFront log destination. Default on: requests answered at the edge reach
    no other log. Off for a rack without one (its edgeLogging off)."""

    release: int | None = Field(None, ge=1)
    """The rollback pin: keep the services on this release (its number in
    `paaskit releases`, `13` or `v13`), as `paaskit rollback` sets it in the app
    stack's config (`paaskit-app:release`). While set, each service runs the
    release's task definition, read from its record at deploy time; new images
    and task definitions are built but not used, release commands do not run,
    and every preview and update warns. Default none: deploy the manifest's
    version."""

    @field_validator("zones")
    @classmethod
    def _check_zones(cls, value: list[str]) -> list[str]:
        cleaned = []
        for zone in value:
            name = zone.rstrip(".").lower()
            if not DNS_NAME.match(name):
                raise ValueError(f"{zone!r} is not a zone name (like example.com)")
            cleaned.append(name)
        return cleaned

    @field_validator("release", mode="before")
    @classmethod
    def _release_number(cls, value: object) -> object:
        # As `paaskit releases` shows them (v13), and as the stack file stores them ("13").
        if isinstance(value, str):
            text = value.strip()
            digits = text[1:] if text[:1] in ("v", "V") else text
            if not digits.isdigit():
                raise ValueError(f"expected a release number such as 13 or v13 (got {value!r})")
            return int(digits)
        return value

    @field_validator("environment")
    @classmethod
    def _check_environment(cls, value: dict[str, Input]) -> dict[str, Input]:
        bad = [key for key in value if not _ENV_NAME.match(key)]
        if bad:
            raise ValueError(f"{bad[0]!r} is not an environment variable name")
        return value
