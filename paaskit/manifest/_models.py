"""The manifest's models: environment, services, resources, timers and the manifest itself."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from paaskit.aws_api import member_rules
from paaskit.config import RETENTION_DAYS

from ._coerce import (
    ENV_NAME,
    Bool,
    Command,
    Int,
    Name,
    boolean,
    command_argv,
    nonblank,
    string,
    whole_number,
)
from ._cron import aws_cron_expression
from ._errors import Loc, ManifestError, Problems, problems_from, show
from ._reference import IMAGE_EXAMPLE, image_problem

V = TypeVar("V")

__all__ = [
    "DEFAULT_CPU_TARGET",
    "ECS_TASKS_PER_SERVICE",
    "HOST_PATHS",
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
    "env_prefix",
]

# --------------------------------------------------------------------------- base model


class _Model(BaseModel):
    """Base of every manifest model: unknown keys fail, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    convox_unsupported: ClassVar[Mapping[str, str]] = {}
    """Keys Convox documents at this level that paaskit refuses, with the reason."""


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    raise ValueError(f"expected {what} (got {show(value)})")


# --------------------------------------------------------------------------- environment


EVERYTHING = "*"
"""The `environment` entry that passes every one of the app's settings, declared or not."""


class EnvVar(_Model):
    """One `environment` entry: `KEY=default`, or `KEY` (required: the app's settings give it)."""

    name: str
    """The variable's name: letters, digits and underscores, not starting with a digit."""

    default: str | None = None
    """The value used when the app's settings do not give one. Default: none, so required."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str) and data.strip() == EVERYTHING:
            return {"name": EVERYTHING}
        if isinstance(data, str):
            name, sep, default = data.partition("=")
            name = name.strip()
            if not ENV_NAME.fullmatch(name):
                raise ValueError(
                    f"expected KEY or KEY=default with KEY made of letters, digits and "
                    f"underscores (got {show(data)})"
                )
            return {"name": name, "default": default if sep else None}
        if isinstance(data, EnvVar) or (
            isinstance(data, Mapping) and "name" in data and set(data) <= {"name", "default"}
        ):
            return data
        raise ValueError(f"expected KEY or KEY=default (got {show(data)})")

    @property
    def required(self) -> bool:
        """True when the app's settings must give a value (never for `*`)."""
        return self.default is None and self.name != EVERYTHING


def _env_list(value: Any) -> Any:
    """Convox flattens nested lists so YAML anchors can share a block of variables."""
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"expected a list of KEY or KEY=default (got {show(value)})")
    flat: list[Any] = []
    for item in value:
        if isinstance(item, (list, tuple)):
            flat.extend(item)
        else:
            flat.append(item)
    return tuple(flat)


def _unique_env(items: tuple[EnvVar, ...]) -> tuple[EnvVar, ...]:
    seen: set[str] = set()
    for item in items:
        if item.name in seen:
            raise ValueError(f"{item.name} is declared twice")
        seen.add(item.name)
    return items


EnvList = Annotated[tuple[EnvVar, ...], BeforeValidator(_env_list)]


@dataclass(frozen=True)
class Environment:
    """A service's effective environment: the top-level list, then the service's own.

    As in Convox a later entry wins, so a service can give a top-level variable another
    default, or make it required again by listing it without one.
    """

    variables: Mapping[str, str | None]
    """Name -> default, in declaration order; None means required."""

    everything: bool = False
    """True when `*` is listed: every one of the app's settings reaches the service, declared
    or not (Convox's meaning)."""

    def passed(self, settings: Iterable[str]) -> tuple[str, ...]:
        """Which of the app's settings (by name) reach the service: the declared ones, or
        all of them with `*`."""
        return tuple(k for k in settings if self.everything or k in self.variables)

    @property
    def names(self) -> tuple[str, ...]:
        """Every declared name, in order."""
        return tuple(self.variables)

    @property
    def defaults(self) -> dict[str, str]:
        """The variables that have a default, with it."""
        return {k: v for k, v in self.variables.items() if v is not None}

    @property
    def required(self) -> tuple[str, ...]:
        """The variables the app's settings must give."""
        return tuple(k for k, v in self.variables.items() if v is None)


# --------------------------------------------------------------------------- service parts


class BuildArg(_Model):
    """One build argument: `KEY=value`, or `KEY` to take the value from the app's settings."""

    name: str
    """The `ARG` name in the Dockerfile."""

    value: str | None = None
    """The value. Default: none, so it comes from the app's settings at build time."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            name, sep, value = data.partition("=")
            if not ENV_NAME.fullmatch(name.strip()):
                raise ValueError(f"expected KEY or KEY=value (got {show(data)})")
            return {"name": name.strip(), "value": value if sep else None}
        if isinstance(data, BuildArg) or (
            isinstance(data, Mapping) and "name" in data and set(data) <= {"name", "value"}
        ):
            return data
        raise ValueError(f"expected KEY or KEY=value (got {show(data)})")


def _relative_path(value: Any) -> Any:
    text = nonblank(value)
    if text.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", text):
        raise ValueError(f"must be relative to the manifest's folder (got {show(text)})")
    return text


RelativePath = Annotated[str, BeforeValidator(_relative_path)]


class Build(_Model):
    """How to build a service's image: `build: ./api` or a mapping.

    A folder without the named Dockerfile is built with paaskit's buildpack
    (`paaskit.buildpack`) when it holds a Python app.
    """

    path: RelativePath = "."
    """The build context, relative to the manifest's folder. Default `.` (Convox's)."""

    manifest: RelativePath = "Dockerfile"
    """The Dockerfile's name inside `path`. Default `Dockerfile` (Convox's)."""

    args: tuple[BuildArg, ...] = ()
    """Build arguments, `KEY=value` or `KEY` (value from the app's settings). Default none."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"path": data}
        if isinstance(data, Build):
            return data
        return _mapping(data, "a path or a mapping of path, manifest and args")


def _port_number(number: int) -> int:
    """A TCP port, 1-65535, or the reason it is none."""
    if number < 1:
        raise ValueError(f"must be at least 1 (got {number})")
    if number > 65535:
        raise ValueError(f"must be at most 65535 (got {show(number)})")
    return number


class Port(_Model):
    """The port load-balanced traffic goes to: `3000`, `https:3000` or a mapping."""

    port: Annotated[Int, Field(ge=1, le=65535)]
    """The container port the load balancer sends requests to."""

    scheme: Literal["http", "https"] = "http"
    """What the container speaks on that port. Default `http` (Convox's): the load balancer
    ends TLS, so the app needs no certificate; `https` when the app serves TLS itself."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, Port):
            return data
        if isinstance(data, bool):
            raise ValueError(f"expected a port, scheme:port or a mapping (got {show(data)})")
        # A port written as one value (`70000`, `grpc:5551`) is wrong at `port`, where it
        # was written, not at `port.port` or `port.scheme`.
        if isinstance(data, int):
            return {"port": _port_number(data)}
        if isinstance(data, str):
            scheme, sep, number = data.strip().rpartition(":")
            if not re.fullmatch(r"\d+", number):
                raise ValueError(f"expected a port, scheme:port or a mapping (got {show(data)})")
            out: dict[str, Any] = {"port": _port_number(int(number))}
            if sep:
                if scheme.lower() not in ("http", "https"):
                    raise ValueError(
                        f"expected http:<port> or https:<port> (got {show(data)}); a scheme "
                        "other than http or https is not supported"
                    )
                out["scheme"] = scheme.lower()
            return out
        data = _mapping(data, "a port, scheme:port or a mapping")
        if isinstance(data.get("port"), str) and ":" in data["port"]:
            scheme, _, number = data["port"].rpartition(":")
            data["port"] = number
            data.setdefault("scheme", scheme)
        if isinstance(data.get("scheme"), str):
            data["scheme"] = data["scheme"].lower()
        return data


_HEALTH_PATH = member_rules("elbv2:CreateTargetGroup.HealthCheckPath")
_HEALTH_INTERVAL = member_rules("elbv2:CreateTargetGroup.HealthCheckIntervalSeconds")
_HEALTH_TIMEOUT = member_rules("elbv2:CreateTargetGroup.HealthCheckTimeoutSeconds")
"""The load balancer's rules for a health check (botocore's, through paaskit's table)."""


class Health(_Model):
    """The load balancer's health check: `health: /check` or a mapping.

    Defaults are Convox's: `/` every 5 seconds, a 4 second timeout and a 5 second grace.
    """

    path: str = "/"
    """The path requested, up to 1024 characters (the load balancer's). Default `/` (Convox's);
    it must answer 200-399 to count as healthy."""

    interval: Annotated[Int, Field(ge=_HEALTH_INTERVAL.min, le=_HEALTH_INTERVAL.max)] = 5
    """Seconds between checks, 5-300 (the load balancer's range). Default 5 (Convox's)."""

    grace: Annotated[Int, Field(ge=0, le=7200)] = 5
    """Seconds after a process starts before failed checks count. Default: the interval
    (Convox's). Raise it for apps that take long to boot."""

    timeout: Annotated[Int, Field(ge=_HEALTH_TIMEOUT.min, le=_HEALTH_TIMEOUT.max)] = 4
    """Seconds to wait for an answer, less than the interval on a web service (its load
    balancer requires it). Default: interval - 1 (Convox's)."""

    disable: Bool = False
    """No health check (Convox v3). Not on a web service: the load balancer checks the
    targets of every one (AWS lets only Lambda targets go unchecked); nothing checks a
    worker or an internal service anyway. Default false."""

    convox_unsupported: ClassVar[Mapping[str, str]] = {
        "port": "the load balancer checks the port it sends traffic to (the process's port, "
        "on a dynamic port of its node)",
    }

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, Health):
            return data
        if isinstance(data, str):
            data = {"path": data}
        data = _mapping(data, "a path or a mapping of path, interval, grace and timeout")
        try:
            interval = whole_number(data.get("interval", 5))
        except ValueError:
            return data  # the interval's own error says what is wrong
        data.setdefault("grace", interval)
        data.setdefault("timeout", max(2, interval - 1))
        return data

    @field_validator("path", mode="before")
    @classmethod
    def _path(cls, value: Any) -> Any:
        value = nonblank(value)
        if not value.startswith("/") or any(c.isspace() for c in value):
            raise ValueError(f"expected a URL path starting with / (got {show(value)})")
        longest = _HEALTH_PATH.max or len(value)
        if len(value) > longest:
            raise ValueError(
                f"{len(value)} characters, more than the {longest} the load balancer takes "
                f"(HealthCheckPath): {show(value[:40] + '...')}"
            )
        return value


_COUNT = re.compile(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?")


class Count(_Model):
    """How many processes run: a number, or a range `min-max` to autoscale in."""

    min: Annotated[Int, Field(ge=0)] = 1
    """The fewest processes. Default 1 (Convox's). 0 keeps a service for one-off runs and timers."""

    max: Annotated[Int, Field(ge=0)] = 1
    """The most processes. Default: the same as `min`, a fixed count."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        shapes = 'a count, "min-max" or a mapping of min and max'
        expected = f"expected {shapes}"
        if isinstance(data, Count):
            return data
        if isinstance(data, bool):
            raise ValueError(f"{expected} (got {show(data)})")
        if isinstance(data, int):
            return {"min": data, "max": data}
        if isinstance(data, str):
            match = _COUNT.fullmatch(data)
            if not match:
                raise ValueError(f"{expected} (got {show(data)})")
            low = int(match.group(1))
            return {"min": low, "max": int(match.group(2)) if match.group(2) else low}
        data = _mapping(data, shapes)
        if "max" not in data and "min" in data:
            data["max"] = data["min"]
        return data

    @model_validator(mode="after")
    def _ordered(self) -> Count:
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        return self

    def __str__(self) -> str:
        return str(self.min) if self.min == self.max else f"{self.min}-{self.max}"


class Targets(_Model):
    """What autoscaling keeps steady. Each is a target-tracking policy; the busiest wins."""

    cpu: Annotated[Int, Field(ge=1, le=100)] | None = None
    """Average CPU use to hold, in percent of the reservation. Default: not used."""

    memory: Annotated[Int, Field(ge=1, le=100)] | None = None
    """Average memory use to hold, in percent of the reservation. Default: not used."""

    requests: Annotated[Int, Field(ge=1)] | None = None
    """Requests per minute per process to hold (the load balancer's count per target).
    Needs a port. Default: not used."""

    convox_unsupported: ClassVar[Mapping[str, str]] = {
        "custom": "custom CloudWatch metric targets are not supported yet",
        "external": "external metrics are a Kubernetes (Convox v3) feature",
    }

    @property
    def any(self) -> bool:
        """True when at least one target is set."""
        return any(v is not None for v in (self.cpu, self.memory, self.requests))


class Cooldown(_Model):
    """Seconds autoscaling waits after scaling before scaling again: `60` or `{down, up}`."""

    down: Annotated[Int, Field(ge=0, le=3600)] = 300
    """After scaling in. Default 300, Application Auto Scaling's own default."""

    up: Annotated[Int, Field(ge=0, le=3600)] = 300
    """After scaling out. Default 300, Application Auto Scaling's own default."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, Cooldown):
            return data
        if isinstance(data, (int, str)) and not isinstance(data, bool):
            return {"down": data, "up": data}
        return _mapping(data, "seconds or a mapping of down and up")


# Fargate's task sizes: CPU units -> the memory sizes (MiB) it accepts.
_FARGATE_SIZES: dict[int, frozenset[int]] = {
    256: frozenset({512, 1024, 2048}),
    512: frozenset(range(1024, 4096 + 1, 1024)),
    1024: frozenset(range(2048, 8192 + 1, 1024)),
    2048: frozenset(range(4096, 16384 + 1, 1024)),
    4096: frozenset(range(8192, 30720 + 1, 1024)),
    8192: frozenset(range(16384, 61440 + 1, 4096)),
    16384: frozenset(range(32768, 122880 + 1, 8192)),
}


DEFAULT_CPU_TARGET = 70
"""Average CPU % a count range tracks when it names no targets: busy enough to be cheap,
with headroom for a burst while new processes start."""


class Scale(_Model):
    """How many processes run and how big each is: `scale: 2`, `scale: "2-10"` or a mapping."""

    count: Count = Field(default_factory=Count)
    """Processes to run, fixed or a `min-max` range to autoscale in, at most 5,000 (ECS's
    tasks per service). Default 1 (Convox's)."""

    cpu: Annotated[Int, Field(ge=2, le=196608)] = 256
    """CPU units reserved per process (1024 = one vCPU), 2-196608. Default 256 (Convox v2's,
    on ECS): a quarter vCPU is enough for a typical web process. On EC2 a container's CPU is
    a relative share, so less than 128 is fine (`cpu: 64`); 2 is the Linux kernel's smallest
    share (ECS passes 0 and 1 as 2)."""

    memory: Annotated[Int, Field(ge=128, le=1048576)] = 512
    """MiB of memory per process, also its hard limit. Default 512 (Convox's). paaskit refuses
    less than 128, which no Python process runs in."""

    targets: Targets = Field(default_factory=Targets)
    """What autoscaling tracks; needs a `count` range. Default: none for a fixed count; for a
    range, average CPU at 70% (`DEFAULT_CPU_TARGET`). Convox ignores a range without targets
    and runs `min`; paaskit autoscales it rather than silently drop `max`."""

    cooldown: Cooldown | None = None
    """Seconds between scaling actions (Convox v2). Default: Application Auto Scaling's 300."""

    convox_unsupported: ClassVar[Mapping[str, str]] = {
        "gpu": "GPUs are not supported yet",
        "limit": "limits above the reservation are a Kubernetes (Convox v3) feature",
        "keda": "KEDA is a Kubernetes (Convox v3) feature",
        "vpa": "vertical autoscaling is a Kubernetes (Convox v3) feature",
        "autoscale": 'Convox v3\'s autoscale block is not supported: use count: "min-max" '
        "and targets",
        "min": 'use count: "min-max"',
        "max": 'use count: "min-max"',
    }

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, Scale):
            return data
        if isinstance(data, (int, str)) and not isinstance(data, bool):
            if isinstance(data, str) and not _COUNT.fullmatch(data):
                raise ValueError(f'expected a count, "min-max" or a mapping (got {show(data)})')
            data = {"count": data}
        if not isinstance(data, Mapping):
            raise ValueError(f'expected a count, "min-max" or a mapping (got {show(data)})')
        data = dict(data)
        if "targets" not in data or data["targets"] in (None, {}):
            try:
                count = Count.model_validate(data.get("count", 1))
            except ValidationError:
                return data  # the count's own error says what is wrong
            if count.min != count.max:
                data["targets"] = {"cpu": DEFAULT_CPU_TARGET}
        return data

    @model_validator(mode="after")
    def _targets_need_a_range(self) -> Scale:
        if self.count.min == 0 and self.count.max > 0 and self.targets.any:
            raise Problems(
                [
                    (
                        ("count",),
                        f'autoscaling cannot start from 0 (count is "{self.count}"): with no '
                        "process running there is no CPU, memory or request metric to scale out "
                        "on; use a minimum of 1",
                    )
                ]
            )
        if self.targets.any and self.count.min == self.count.max:
            example = f"{self.count.min}-{max(self.count.min * 3, 2)}"
            raise Problems(
                [
                    (
                        ("targets",),
                        f'autoscaling targets need a count range such as "{example}" '
                        f"(count is {self.count})",
                    )
                ]
            )
        return self

    @property
    def min(self) -> int:
        """The fewest processes (the desired count when not autoscaling)."""
        return self.count.min

    @property
    def max(self) -> int:
        """The most processes."""
        return self.count.max

    @property
    def autoscaling(self) -> bool:
        """True when the count is a range with targets to track."""
        return self.count.min != self.count.max

    @property
    def fits_fargate(self) -> bool:
        """True when cpu/memory is one of Fargate's task sizes (the spot cluster needs not)."""
        return self.memory in _FARGATE_SIZES.get(self.cpu, frozenset())


class Termination(_Model):
    """What happens when a process is stopped."""

    grace: Annotated[Int, Field(ge=0, le=120)] = 30
    """Seconds between SIGTERM and SIGKILL, 0-120. Default 30 (Convox's). ECS allows no more
    than 120, and a spot interruption gives only 120 seconds' notice anyway."""


class Deployment(_Model):
    """How a rolling deploy replaces processes, in percent of the desired count."""

    minimum: Annotated[Int, Field(ge=0, le=100)] = 50
    """The fewest healthy processes kept during a deploy, 0-100%. Default 50 (Convox's);
    0 for agents and singletons, which cannot run two at once."""

    maximum: Annotated[Int, Field(ge=100, le=200)] = 200
    """The most processes running during a deploy, 100-200%. Default 200 (Convox's), so
    new processes start before old ones stop; 100 for agents and singletons."""


class AgentPort(_Model):
    """A host port an agent listens on: `8125` or `8125/udp`."""

    port: Annotated[Int, Field(ge=1, le=65535)]
    """The port, on the instance and in the container."""

    protocol: Literal["tcp", "udp"] = "tcp"
    """The protocol. Default tcp."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, AgentPort):
            return data
        if isinstance(data, int) and not isinstance(data, bool):
            return {"port": data}
        if isinstance(data, str):
            number, _, protocol = data.strip().partition("/")
            return {"port": number, "protocol": (protocol or "tcp").lower()}
        return _mapping(data, "a port, port/protocol or a mapping")


class Agent(_Model):
    """An agent runs one process on every instance of the rack (an ECS daemon service):
    `agent: true`, or Convox v2's mapping with `ports`."""

    enabled: Bool = False
    """Run as an agent. Default false (Convox's)."""

    ports: tuple[AgentPort, ...] = ()
    """Host ports the agent listens on, for processes on the same instance. Default none."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, Agent):
            return data
        if isinstance(data, (bool, str)):
            return {"enabled": data}
        data = _mapping(data, "true, false or a mapping of enabled and ports")
        if data:
            data.setdefault("enabled", True)  # Convox v2: a mapping declares an agent
        return data


class ResourceLink(_Model):
    """A service's link to a resource: `database`, or `database:DB_URL` to rename the URL variable.

    As in Convox a link injects `<NAME>_URL`, `<NAME>_USER`, `<NAME>_PASS`, `<NAME>_HOST`,
    `<NAME>_PORT` and `<NAME>_NAME` (NAME: the resource's name upper-cased, dashes as
    underscores); a renamed link injects only the URL, under the given name.
    """

    resource: Name
    """The name of a resource declared under the top-level `resources`."""

    url_env: str | None = None
    """The URL variable's name when renamed. Default: `<NAME>_URL` with the credentials."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, ResourceLink):
            return data
        text = string(data)
        name, sep, env = text.partition(":")
        env = env.strip()
        if sep and not ENV_NAME.fullmatch(env):
            raise ValueError(f"expected name or name:ENV_NAME (got {show(text)})")
        return {"resource": name.strip(), "url_env": env if sep else None}

    @property
    def env_prefix(self) -> str:
        """`DATABASE` for a resource named `database`."""
        return env_prefix(self.resource)

    @property
    def env_names(self) -> dict[str, str]:
        """Which variables this link injects: role (url, user, pass, host, port, name) -> name."""
        if self.url_env is not None:
            return {"url": self.url_env}
        prefix = self.env_prefix
        return {
            role: f"{prefix}_{role.upper()}"
            for role in ("url", "user", "pass", "host", "port", "name")
        }


def env_prefix(resource_name: str) -> str:
    """The variable prefix for a resource: `my-db` -> `MY_DB` (Convox's rule)."""
    return resource_name.upper().replace("-", "_")


_STATIC_PREFIX = re.compile(r"^(/[A-Za-z0-9._~-]+)+$")


class Static(_Model):
    """paaskit addition: a folder of files served from the rack's CDN under a URL prefix.

    `static: staticfiles` or `static: {path: staticfiles, prefix: /static}`. The files are
    uploaded at deploy time from the manifest's folder (after `collectstatic` or a front-end
    build has filled it); the CDN answers `<prefix>/*` from them and sends every other path
    to the service.
    """

    path: RelativePath
    """The folder, relative to the manifest's folder."""

    prefix: str = "/static"
    """The URL path the files are served under. Default `/static`, Django's and Flask's."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, Static):
            return data
        if isinstance(data, str):
            return {"path": data}
        return _mapping(data, "a folder or a mapping of path and prefix")

    @field_validator("path")
    @classmethod
    def _inside(cls, value: str) -> str:
        parts = PurePosixPath(value.replace("\\", "/")).parts
        if ".." in parts:
            raise ValueError(f"must stay inside the manifest's folder (got {show(value)})")
        return value

    @field_validator("prefix", mode="before")
    @classmethod
    def _prefix(cls, value: Any) -> Any:
        text = nonblank(value)
        if text != "/" and text.endswith("/"):
            text = text.rstrip("/")
        segments = text.split("/")[1:]
        if not _STATIC_PREFIX.fullmatch(text) or any(s in {".", ".."} for s in segments):
            raise ValueError(
                "expected a URL path such as /static: segments of letters, digits and . _ ~ -, "
                f"not / alone (got {show(value)})"
            )
        return text

    @property
    def path_pattern(self) -> str:
        """The CDN path pattern: `/static/*`."""
        return f"{self.prefix}/*"


_POLICY_ARN = re.compile(
    r"^arn:aws(-cn|-us-gov|-iso|-iso-[a-z]|-eusc)?:iam::(aws|\d{12}):policy/[\w+=,.@/-]+$"
)
_DOMAIN = re.compile(
    r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"
)


def _domains(value: Any) -> Any:
    """Convox: a string (comma-separated) or a list; blanks are dropped."""
    if value is None:
        return ()
    if isinstance(value, str):
        items: list[Any] = value.split(",")
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise ValueError(
            f"expected a domain, comma-separated domains or a list (got {show(value)})"
        )
    out: list[str] = []
    for item in items:
        text = string(item).strip().rstrip(".").lower()
        if not text:
            continue
        if len(text) > 253 or not _DOMAIN.fullmatch(text):
            raise ValueError(f"not a domain name: {show(item)}")
        if text not in out:
            out.append(text)
    return tuple(out)


def _policies(value: Any) -> Any:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"expected a list of IAM policy ARNs (got {show(value)})")
    for item in value:
        if not isinstance(item, str) or not _POLICY_ARN.fullmatch(item.strip()):
            raise ValueError(
                "expected an IAM policy ARN such as "
                "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess "
                f"(got {show(item)})"
            )
    return tuple(item.strip() for item in value)


def _name_list(value: Any) -> Any:
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"expected a list of names (got {show(value)})")
    return tuple(value)


def _image(value: Any) -> Any:
    text = nonblank(value)
    if any(c.isspace() for c in text) or text.startswith("-"):
        raise ValueError(f"expected an image reference such as {IMAGE_EXAMPLE} (got {show(value)})")
    problem = image_problem(text)
    if problem is not None:
        raise ValueError(f"{show(text)} is not an image reference Docker and ECS take: {problem}")
    return text


def _labels(value: Any) -> Any:
    """Convox v3's mapping, or Gen1's (and annotations') list of `key=value`."""
    if value is None:
        return {}
    if isinstance(value, (list, tuple)):
        pairs: list[tuple[Any, Any]] = []
        for item in value:
            text = string(item)
            key, sep, val = text.partition("=")
            if not sep:
                raise ValueError(f"expected key=value (got {show(item)})")
            pairs.append((key, val))
    elif isinstance(value, Mapping):
        pairs = list(value.items())
    else:
        raise ValueError(f"expected a mapping or a list of key=value (got {show(value)})")
    out: dict[str, str] = {}
    for key, val in pairs:
        if not isinstance(key, str) or not key.strip():
            raise ValueError(f"a label's key must be a non-empty string (got {show(key)})")
        if isinstance(val, bool):
            val = "true" if val else "false"
        elif isinstance(val, (int, float)):
            val = str(val)
        elif val is None:
            val = ""
        out[key.strip()] = string(val)
    return out


Labels = Annotated[dict[str, str], BeforeValidator(_labels)]


_GEN1_LABELS: tuple[tuple[str, str], ...] = (
    (r"convox\.agent", "use agent: true"),
    (r"convox\.balancer", "a service without a port gets no load balancer"),
    (r"convox\.cron\.[^.]+", "use timers"),
    (r"convox\.deployment\.(minimum|maximum)", "use deployment.{0}"),
    (r"convox\.draining\.timeout", "use drain"),
    (r"convox\.environment\.secure", "settings always reach processes as ECS secrets"),
    (r"convox\.health\.(path|interval|timeout)", "use health.{0}"),
    (r"convox\.health\.port", "the load balancer checks the port it sends traffic to"),
    (r"convox\.health\.threshold\.(?:un)?healthy", "paaskit counts 2 checks healthy, 3 unhealthy"),
    (r"convox\.idle\.timeout", "use timeout"),
    (r"convox\.port\.(\d+)\.protocol", "use port: https:{0} if the process speaks HTTPS"),
    (
        r"convox\.port\.\d+\.(?:proxy|secure)",
        "the rack's load balancer ends TLS and adds X-Forwarded-For",
    ),
    (r"convox\.start\.shift", "convox start has no paaskit equivalent"),
)


def _gen1_label_advice(key: str) -> str:
    """What does in a manifest what a Convox Gen1 `convox.*` label did on a Gen1 rack."""
    for pattern, advice in _GEN1_LABELS:
        match = re.fullmatch(pattern, key)
        if match:
            return advice.format(*match.groups())
    return "remove it, or see docs/convox.md"


HOST_PATHS: frozenset[str] = frozenset(
    {
        "/cgroup",
        "/dev/log",
        "/etc/passwd",
        "/proc",
        "/sys/fs/cgroup",
        "/sys/kernel/debug",
        "/var/lib/docker/containers",
        "/var/log/audit",
        "/var/run",
        "/var/run/docker.sock",
    }
)
"""The node's own paths a `host:container` volume mounts from the node (Convox v2's list and
v3's, less microk8s's socket): what monitoring and log agents read. Any other host part names
a volume of the app's own. Written with or without a trailing `/` (Convox matched them only as
written, `/proc/` but not `/proc`)."""

VOLUME_MODES: frozenset[str] = frozenset({"ro", "rw"})
"""The mount modes a volume may end with (Docker's `:ro` and `:rw`)."""

_VOLUME_PATH = re.compile(r"^(/[^/\x00:]+)+$")
_VOLUME_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _clean_path(text: str) -> str | None:
    """An absolute path with one `/` between segments and none at the end, or None."""
    trimmed = text.rstrip("/") if text != "/" else text
    if not _VOLUME_PATH.fullmatch(trimmed):
        return None
    if any(part in {".", ".."} for part in trimmed.split("/")[1:]):
        return None
    return trimmed


class Volume(_Model):
    """One `volumes` entry: what a process sees at `path`, and where it lives.

    - `/data`: storage of the service's own that outlives its processes (on EFS, the
      app's file system); every process of the service, on any node, sees the same files.
    - `name:/data` (`/files:/data`): storage of the app's own named by `name`, shared by
      every service that mounts that name (Convox v2 and v3 both share it by name).
    - `/var/run/docker.sock:/var/run/docker.sock`: a path of the node itself, from Convox's
      list (`HOST_PATHS`); for agents only.

    `:ro` at the end mounts it read-only; `:rw` (the default) read-write.
    """

    path: str
    """Where the process sees the volume: an absolute path."""

    source: str | None = None
    """The name before the `:` (a host path or a shared volume's name). Default none: a
    volume of the service's own."""

    read_only: bool = False
    """Mounted read-only (`:ro`). Default false."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, Volume):
            return data
        text = nonblank(data) if not isinstance(data, Mapping) else None
        if text is None:
            raise ValueError(f"expected a path, name:path or host:path (got {show(data)})")
        # Docker's [SOURCE:]TARGET[:MODE]; two parts are TARGET:MODE when the second is a mode.
        parts = text.strip().split(":")
        mode = None
        if len(parts) == 3 or (len(parts) == 2 and parts[1] in VOLUME_MODES):
            mode = parts.pop()
            if mode not in VOLUME_MODES:
                raise ValueError(
                    f"{show(mode)} is not a mode: ro or rw (other Docker modes do not apply on "
                    f"ECS) (got {show(data)})"
                )
        if len(parts) > 2:
            raise ValueError(
                f"expected a path, name:path or host:path, with :ro or :rw at the end (got "
                f"{show(data)})"
            )
        target = _clean_path(parts[-1])
        if target is None or target == "/":
            raise ValueError(
                f"{show(parts[-1])} is not a path to mount at: an absolute path below /, "
                f"without . or .. segments (got {show(data)})"
            )
        source: str | None = None
        if len(parts) == 2:
            raw = parts[0].strip()
            source = _clean_path(raw) if raw.startswith("/") else raw
            if source is None or not (source.startswith("/") or _VOLUME_NAME.fullmatch(source)):
                raise ValueError(
                    f"{show(raw)} is neither a path nor a volume name (letters, digits, . _ -) "
                    f"(got {show(data)})"
                )
        return {"path": target, "source": source, "read_only": mode == "ro"}

    @property
    def kind(self) -> Literal["service", "shared", "host"]:
        """`service`: the service's own storage; `shared`: the app's, by name; `host`: the node's."""
        if self.source is None:
            return "service"
        return "host" if self.source in HOST_PATHS else "shared"

    def key(self, service: str) -> str:
        """The volume's name in the app: `<service>:<path>` for a service's own, the name for
        a shared one, the node's path for a host mount."""
        if self.source is None:
            return f"{service}:{self.path}"
        return self.source


def _volumes(value: Any) -> Any:
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"expected a list of volumes (got {show(value)})")
    return tuple(value)


def _port_list(value: Any) -> Any:
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"expected a list of ports such as 5000 or 8125/udp (got {show(value)})")
    return tuple(value)


def _loose_bool(value: Any) -> bool:
    try:
        return bool(boolean(value))
    except ValueError:
        return False


ECS_TASKS_PER_SERVICE = 5000
"""ECS's quota of tasks per service (a service's desired count): 5,000."""


def _blocked(count: int, minimum: int, maximum: int) -> bool:
    """True when a rolling deploy of `count` processes can neither start a new process (the
    maximum, rounded down, allows no more than `count`) nor stop an old one (the minimum,
    rounded up, keeps all `count`): ECS's "unable to stop or start tasks during a deployment
    because of the service deployment configuration"."""
    return count * maximum // 100 <= count and -(-count * minimum // 100) >= count


class Service(_Model):
    """A horizontally scalable set of processes running one image (an ECS service).

    A service with a `port` that is not `internal` is a *web* service: the rack's load
    balancer routes its domains to it. Others are workers.
    """

    agent: Agent = Field(default_factory=Agent)
    """Run one process per instance instead of a count. Default false (Convox's)."""

    build: Build | None = None
    """How to build the image. Default `.` with `Dockerfile` when there is no `image` (Convox's)."""

    command: Command | None = None
    """What the process runs, as arguments of the image's ENTRYPOINT: a string (split into
    words, or run by `/bin/sh -c` when it has shell syntax) or a list (as is). Default: the
    image's CMD. See `command_argv`."""

    deployment: Deployment = Field(default_factory=Deployment)
    """Rolling deploy limits. Default minimum 50%, maximum 200% (Convox's). Limits with
    which ECS could neither start a new process nor stop an old one at some count (minimum
    and maximum both 100; 50 and 100 with one process) are refused, and an agent's maximum
    is 100 (ECS's for a daemon)."""

    domain: Annotated[tuple[str, ...], BeforeValidator(_domains)] = ()
    """Custom domains routed to this service (`${HOST}`, a comma-separated string or a list):
    any hostnames, up to 10, each with a certificate paaskit requests (docs/app.md). Default
    none: the service's own `*.cloudfront.net` name (and `<app>-<service>.<rack domain>`)."""

    drain: Annotated[Int, Field(ge=0, le=3600)] = 30
    """Seconds the load balancer lets in-flight requests finish before a process is stopped,
    0-3600. Default 30 (Convox's)."""

    environment: EnvList = ()
    """This service's variables, added to (and overriding) the top-level list; `*` passes
    every one of the app's settings, declared or not (Convox's meaning). Default none."""

    health: Health = Field(default_factory=Health)
    """The load balancer's health check of a web service. Default `/` every 5 s (Convox's).
    Nothing requests an internal service's (a warning)."""

    image: Annotated[str, BeforeValidator(_image)] | None = None
    """A ready image to run instead of building one (`nginx:1.27`, an ECR URI), as Docker
    reads references (a lowercase repository: `NGINX:Latest` is refused) and ECS takes them
    (a `sha256:` digest, 255 characters before it). Default none."""

    init: Bool = True
    """Run an init process as PID 1 that forwards signals and reaps zombies. Default true
    (Convox v3's): without it a shell-form command ignores SIGTERM until SIGKILL."""

    internal: Bool = False
    """Reachable only from inside the rack, never from the internet. Default false (Convox's)."""

    labels: Labels = Field(default_factory=dict)
    """Docker labels on the service's containers (`com.datadoghq.ad.logs: ...`), over the
    top-level `labels`: a mapping (Convox v3) or a list of `key=value` (Gen1). They are
    metadata for tools that read containers' labels (monitoring agents); `convox.*` labels,
    which configured Convox Gen1 racks, configure nothing here and are warned about.
    Default none."""

    links: Annotated[tuple[Name, ...], BeforeValidator(_name_list)] = ()
    """Convox v2: other services this one calls, which must exist. Default none."""

    policies: Annotated[tuple[str, ...], BeforeValidator(_policies)] = ()
    """IAM managed policy ARNs attached to this service's task role (Convox v2). Default none:
    the process gets no AWS permissions beyond its own logs and secrets."""

    port: Port | None = None
    """The port load-balanced traffic goes to (a web service's), or other services call (an
    internal service's). Default none: not reachable over HTTP."""

    ports: Annotated[tuple[AgentPort, ...], BeforeValidator(_port_list)] = ()
    """More ports the process listens on, TCP or UDP (`5000`, `8125/udp`), reached by other
    processes of the rack, never through the edge (Convox v3): an agent's are ports of its
    node (as `agent.ports`); any other service's are at its internal name
    (`<service>.<app>.<rack>.internal`). Not on a web service. Default none."""

    privileged: Bool = False
    """Run the agent's container privileged: every capability and device of the node, so
    root on the node (Convox v2, v3). For agents only (monitoring agents that read the
    node); the plan's policy check says what it grants. Default false."""

    release: Command | None = None
    """paaskit addition: a command run once, in a one-off process of this service's image,
    before a new version takes traffic (`python manage.py migrate`); the deploy stops if it
    fails. Same forms as `command`. Default none."""

    resources: Annotated[tuple[ResourceLink, ...], BeforeValidator(_name_list)] = ()
    """Resources this service uses; each injects its URL and credentials. Default none."""

    scale: Scale = Field(default_factory=Scale)
    """Count, size and autoscaling. Default 1 process of 256 CPU units and 512 MiB (Convox v2's)."""

    singleton: Bool = False
    """Never run more than one process, even during deploys (old stops before new starts).
    Default false (Convox's)."""

    static: Static | None = None
    """paaskit addition: files served from the CDN under a URL prefix. Needs a web service.
    Default none."""

    sticky: Bool = False
    """Send a browser's requests to the same process (load balancer cookie). Default false,
    Convox v3's (v2 defaulted to true): stickiness skews load and defeats scaling in, and
    an app that keeps sessions in a cookie or the database has no use for it."""

    termination: Termination = Field(default_factory=Termination)
    """Stopping. Default a 30 second grace (Convox's)."""

    test: Command | None = None
    """The command `convox test` runs. paaskit runs no tests (run them in CI): it is read,
    warned about and otherwise ignored. Default none."""

    timeout: Annotated[Int, Field(ge=1, le=180)] | None = None
    """Seconds a request may wait for a web service's answer (Convox v3, default 60 there):
    its CloudFront distribution's origin response timeout, at most 120 (a VPC origin's
    limit; above 60 needs a CloudFront quota increase) and at most the rack's load balancer
    idle timeout, which cuts longer waits. Default: the rack's `originReadTimeout`."""

    volumes: Annotated[tuple[Volume, ...], BeforeValidator(_volumes)] = ()
    """Volumes to mount (Convox v2, v3): `/data` (the service's own storage, on EFS),
    `name:/data` (the app's, shared by name), `/var/run/docker.sock:/var/run/docker.sock`
    (the node's own, for agents), each optionally `:ro`. Default none."""

    convox_unsupported: ClassVar[Mapping[str, str]] = {
        "accessControl": "pod identity is a Kubernetes (Convox v3) feature: use policies, which "
        "the service's task role gets",
        "annotations": "Kubernetes annotations have no ECS equivalent (for an IAM role, use "
        "policies; for metadata, labels)",
        "certificate": "certificates belong to the rack's load balancer",
        "configMounts": "config mounts are a Kubernetes (Convox v3) feature: put the files in "
        "the image, or the values in environment",
        "dnsConfig": "a Kubernetes (Convox v3) feature",
        "grpcHealthEnabled": "gRPC services are not supported yet",
        "imagePullSecrets": "images come from the rack's registry or a public one",
        "ingressAnnotations": "a Kubernetes (Convox v3) feature",
        "initContainer": "a Kubernetes (Convox v3) feature: for migrations use release, which "
        "runs once before a new version takes traffic",
        "internalAndExternal": "a service reached both inside the rack and from the internet is "
        "not supported yet",
        "internalRouter": "a Kubernetes (Convox v3) feature",
        "lifecycle": "a Kubernetes (Convox v3) feature",
        "liveness": "a Kubernetes (Convox v3) feature; the load balancer's health check restarts "
        "failing processes",
        "nlb": "network load balancers are not supported yet",
        "nodeAffinityLabels": "a Kubernetes (Convox v3) feature: processes run on the rack's "
        "one cluster",
        "nodeSelectorLabels": "a Kubernetes (Convox v3) feature: processes run on the rack's "
        "one cluster",
        "securityContext": "a Kubernetes (Convox v3) feature",
        "startupProbe": "a Kubernetes (Convox v3) feature; use health.grace",
        "tags": "every resource carries the app's paaskit:* tags",
        "tls": "HTTP is always redirected to HTTPS at the rack's load balancer",
        "volumeOptions": "Kubernetes volume options are not supported",
        "whitelist": "source IP allow-lists are not supported yet",
        # docker-compose.yml keys, from Convox Gen1 manifests (cpu_shares and mem_limit are
        # read as scale.cpu and scale.memory: paaskit/manifest/_compose.py).
        "dockerfile": "a docker-compose key (Convox Gen1): use build.manifest",
        "entrypoint": "a docker-compose key (Convox Gen1): the image's ENTRYPOINT runs; set it "
        "in the Dockerfile",
        "env_file": "a docker-compose key (Convox Gen1): declare the variables under "
        "environment and give their values as the app's settings",
        "expose": "a docker-compose key (Convox Gen1): use port",
    }

    _name: str = PrivateAttr(default="")

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        if isinstance(data, Service):
            return data
        if data is None:
            data = {}
        data = _mapping(data, "a mapping of service settings")
        if data.get("build") is None and data.get("image") is None:
            # Unset, or written empty (`image:`): as in Convox, built from the app's folder.
            data["build"] = "."
        agent = data.get("agent")
        is_agent = _loose_bool(agent) or (
            isinstance(agent, Mapping) and bool(agent) and _loose_bool(agent.get("enabled", True))
        )
        if is_agent or _loose_bool(data.get("singleton", False)):
            deployment = data.get("deployment", {})
            if isinstance(deployment, Mapping):
                data["deployment"] = {"minimum": 0, "maximum": 100, **deployment}
        return data

    @field_validator("environment")
    @classmethod
    def _unique(cls, value: tuple[EnvVar, ...]) -> tuple[EnvVar, ...]:
        return _unique_env(value)

    @model_validator(mode="after")
    def _consistent(self) -> Service:
        problems = list(self._problems())
        if problems:
            raise Problems(problems)
        return self

    def _problems(self) -> Iterator[tuple[Loc, str]]:
        if self.image is not None and self.build is not None:
            yield ("image",), "use either image or build, not both"
        if self.agent.enabled:
            if self.port is not None:
                yield (
                    ("port",),
                    (
                        "an agent runs on every instance and takes no load-balanced traffic: "
                        "remove port"
                    ),
                )
            if "count" in self.scale.model_fields_set or self.scale.targets.any:
                yield (
                    ("scale", "count"),
                    (
                        "an agent runs one process per instance: remove scale.count and "
                        "scale.targets (cpu and memory may stay)"
                    ),
                )
            if self.singleton:
                yield (
                    ("singleton",),
                    "an agent runs on every instance: it cannot also be a singleton",
                )
        if self.scale.max > ECS_TASKS_PER_SERVICE:
            yield (
                ("scale", "count"),
                f"{self.scale.max} processes: ECS runs at most {ECS_TASKS_PER_SERVICE:,} per "
                "service (its quota of tasks per service)",
            )
        yield from self._deployment_problems()
        if self.singleton and self.scale.max > 1:
            yield (
                ("scale", "count"),
                f"a singleton runs at most one process (count is {self.scale.count})",
            )
        if self.scale.targets.requests is not None and not self.web:
            yield (
                ("scale", "targets", "requests"),
                "counting requests needs a port behind the load balancer"
                + (" (an internal service has none)" if self.internal and self.port else ""),
            )
        if self.static is not None and not self.web:
            yield (
                ("static",),
                (
                    "static files are served beside a web service: it needs a port and must not "
                    "be internal"
                ),
            )
        # `ports` are reached inside the rack only: on Convox too, a domain needs `port`.
        inside = " (ports are reached inside the rack only, as on Convox)" if self.ports else ""
        if self.domain and self.port is None:
            yield ("domain",), f"a domain routes to a port: set port{inside}"
        if self.sticky and self.port is None:
            yield ("sticky",), f"sticky sessions need a port behind the load balancer{inside}"
        if self.web and self.health.disable:
            yield (
                ("health", "disable"),
                "the load balancer always checks the health of a service with a port (AWS "
                "turns health checks off only for Lambda targets): remove disable, or give a "
                "path that answers quickly",
            )
        elif self.web and self.health.timeout >= self.health.interval:
            yield (
                ("health", "timeout"),
                f"must be less than the interval ({self.health.timeout} >= "
                f"{self.health.interval}): the load balancer requires it",
            )

    # Field checks that read fields before them (pydantic validates in this order), so each
    # is reported with every other problem of the service, not only once the rest is right.

    @field_validator("ports")
    @classmethod
    def _ports_fit(
        cls, value: tuple[AgentPort, ...], info: ValidationInfo
    ) -> tuple[AgentPort, ...]:
        problems: list[tuple[Loc, str]] = []
        seen: set[tuple[int, str]] = set()
        for i, extra in enumerate(value):
            if (extra.port, extra.protocol) in seen:
                problems.append(((i,), f"{extra.port}/{extra.protocol} is listed twice"))
            seen.add((extra.port, extra.protocol))
        port, internal = info.data.get("port"), info.data.get("internal")
        agent = info.data.get("agent")
        if isinstance(port, Port) and internal is False and not (agent and agent.enabled):
            extra_ports = list(
                dict.fromkeys(p for p in value if (p.port, p.protocol) != (port.port, "tcp"))
            )
            if extra_ports:
                listed = ", ".join(f"{p.port}/{p.protocol}" for p in extra_ports)
                problems.append(
                    (
                        (),
                        f"{listed}: a web service's other ports are not reachable yet (its port "
                        "goes through the edge, which carries HTTP only): make the service "
                        "internal, or serve them from an internal service",
                    )
                )
        if problems:
            raise Problems(problems)
        return value

    @field_validator("privileged")
    @classmethod
    def _agents_only(cls, value: bool, info: ValidationInfo) -> bool:
        agent = info.data.get("agent")
        if value and agent is not None and not agent.enabled:
            raise ValueError(
                "only an agent (agent: true) may run privileged: a privileged container is "
                "root on its node, with every other app's secrets in reach; a node-level tool "
                "(monitoring, logs) is an agent, an app's process never needs it"
            )
        return value

    @field_validator("volumes")
    @classmethod
    def _volumes_fit(cls, value: tuple[Volume, ...], info: ValidationInfo) -> tuple[Volume, ...]:
        agent = info.data.get("agent")
        problems: list[tuple[Loc, str]] = []
        mounted: dict[str, int] = {}
        for i, volume in enumerate(value):
            if volume.path in mounted:
                problems.append(
                    ((i,), f"{volume.path} is already mounted by volumes[{mounted[volume.path]}]")
                )
            mounted.setdefault(volume.path, i)
            if volume.kind == "host" and agent is not None and not agent.enabled:
                problems.append(
                    (
                        (i,),
                        f"{volume.source} is the node's own: only an agent (agent: true) mounts "
                        "the node's paths, as on Convox; an app's process keeps its files in a "
                        f"volume of its own ({volume.path}, or name:{volume.path} to share it)",
                    )
                )
        if problems:
            raise Problems(problems)
        return value

    def _deployment_problems(self) -> Iterator[tuple[Loc, str]]:
        """Deploy limits ECS refuses, or with which a deploy can never move."""
        low, high = self.deployment.minimum, self.deployment.maximum
        if self.agent.enabled:
            # An ECS daemon service: one process per instance, replaced in place.
            if high > 100:
                yield (
                    ("deployment", "maximum"),
                    f"an agent runs one process per instance, so ECS takes no maximum above "
                    f"100 for it (got {high}): remove it",
                )
            elif low >= 100:
                yield (
                    ("deployment", "minimum"),
                    "with a maximum of 100, a minimum of 100 lets ECS neither stop an agent's "
                    "old process nor start its new one (ECS refuses both at 100): lower it "
                    "(paaskit's default for agents is 0)",
                )
            return
        if low >= 100 and high <= 100:
            yield (
                ("deployment",),
                "minimum 100 with maximum 100 lets ECS neither start a new process nor stop an "
                "old one, so no deploy could ever finish: raise maximum above 100 or lower "
                "minimum",
            )
            return
        counts = range(max(1, self.scale.min), self.scale.max + 1)
        stuck = [n for n in counts if _blocked(n, low, high)]
        if stuck:
            n = stuck[0]
            shown = ", ".join(map(str, stuck[:5])) + (", ..." if len(stuck) > 5 else "")
            fix = (
                "lower minimum to 0 (a singleton's default: the old process stops first)"
                if self.singleton
                else "raise maximum (200 starts new ones first) or lower minimum (0 stops old "
                "ones first)"
            )
            yield (
                ("deployment",),
                f"at a count of {shown} a deploy can never move: minimum {low}% of {n} keeps "
                f"{-(-n * low // 100)} running (ECS rounds up) and maximum {high}% allows "
                f"{n * high // 100} in all (ECS rounds down), so ECS can neither start a new "
                f"process nor stop an old one: {fix}",
            )

    @property
    def name(self) -> str:
        """The service's name, its key under `services`."""
        return self._name

    @property
    def web(self) -> bool:
        """True when the rack's load balancer routes to it: a port, and not internal."""
        return self.port is not None and not self.internal

    @property
    def extra_ports(self) -> tuple[AgentPort, ...]:
        """`ports` without the service's `port` over TCP (Convox v3 drops it too)."""
        main = (self.port.port, "tcp") if self.port is not None else None
        out: list[AgentPort] = []
        for extra in self.ports:
            if (extra.port, extra.protocol) != main and extra not in out:
                out.append(extra)
        return tuple(out)

    @property
    def host_ports(self) -> tuple[AgentPort, ...]:
        """An agent's ports on its node: `agent.ports`, then `ports` (Convox v3 writes them
        there), each once. None for other services."""
        if not self.agent.enabled:
            return ()
        out: list[AgentPort] = []
        for extra in (*self.agent.ports, *self.ports):
            if extra not in out:
                out.append(extra)
        return tuple(out)

    @property
    def discoverable(self) -> bool:
        """True when other processes of the rack reach it by its internal name: an internal
        service with a port, or any service but an agent or a web service with `ports`."""
        if self.agent.enabled or self.web:
            return False
        return self.port is not None or bool(self.extra_ports)

    @property
    def internal_ports(self) -> tuple[AgentPort, ...]:
        """The ports a discoverable service is reached on: its `port` (TCP), then `ports`."""
        if not self.discoverable:
            return ()
        main = (AgentPort(port=self.port.port),) if self.port is not None else ()
        return (*main, *self.extra_ports)

    def command_argv(self) -> tuple[str, ...] | None:
        """The command as an argv (`paaskit.command`'s rule), or None for the image's CMD."""
        return command_argv(self.command)

    def release_argv(self) -> tuple[str, ...] | None:
        """The release command as an argv (`paaskit.command`'s rule), or None."""
        return command_argv(self.release)


# --------------------------------------------------------------------------- resources


_RDS_CLASS = re.compile(r"^db\.[a-z0-9-]+\.[a-z0-9]+$")
_CACHE_NODE = re.compile(r"^cache\.[a-z0-9-]+\.[a-z0-9]+$")
_BACKUP_WINDOW = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
_MAINTENANCE_WINDOW = re.compile(
    r"^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-"
    r"(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d$"
)


def _version(what: str, pattern: str, example: str) -> Any:
    """A version as YAML reads it (`16` a number, `10.5` a float, `8.0.35` a string), checked
    for its shape only; which versions AWS offers is the component's to say."""

    def check(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValueError(f"expected a {what} version such as {example} (got {show(value)})")
        text = str(value).strip()
        if not re.fullmatch(pattern, text):
            raise ValueError(f"expected a {what} version such as {example} (got {show(value)})")
        return text

    return check


_pg_version = _version("PostgreSQL", r"\d{1,2}(\.\d{1,2})?", "16 or 16.4")
_mysql_version = _version("MySQL or MariaDB", r"\d{1,2}\.\d{1,2}(\.\d{1,3})?", "8.4 or 11.8.3")
_cache_version = _version("cache engine", r"\d{1,2}\.\d{1,2}(\.\d{1,3})?", "8.2 or 1.6.22")


def _instance_class(pattern: re.Pattern[str], example: str) -> Any:
    def check(value: Any) -> Any:
        text = nonblank(value)
        if not pattern.fullmatch(text):
            raise ValueError(f"expected {example} (got {show(value)})")
        return text

    return check


class RdsOptions(_Model):
    """Options every RDS resource takes (`postgres`, `mysql`, `mariadb`): Convox's option
    names, on an RDS instance. The defaults are paaskit's safe, cheap choices where
    Convox's are unsafe (`encrypted`, `deletionProtection`, backups)."""

    instance_class: Annotated[
        str,
        BeforeValidator(_instance_class(_RDS_CLASS, "an RDS instance class such as db.t4g.micro")),
    ] = Field(
        default="db.t4g.micro", alias="class", validation_alias=AliasChoices("class", "instance")
    )
    """The RDS instance class (Convox `class`, or v3's `instance`). Default db.t4g.micro, the
    cheapest Graviton class; change it for production load."""

    storage: Annotated[Int, Field(ge=20, le=65536)] = 20
    """GiB of gp3 storage, 20-65536. Default 20 (Convox's RDS default, and RDS's minimum)."""

    iops: Annotated[Int, Field(ge=1000, le=256000)] | None = None
    """Provisioned IOPS. Default none: gp3's baseline."""

    durable: Bool = False
    """Multi-AZ: a standby in another zone that takes over on failure. Default false
    (Convox's): it doubles the cost."""

    encrypted: Bool = True
    """Encrypt storage and backups at rest. Default true (Convox: false): it costs nothing
    and cannot be turned on later without a rebuild."""

    deletion_protection: Bool = Field(default=True, alias="deletionProtection")
    """Refuse to delete the database until this is turned off. Default true (Convox: false):
    data outlives stacks."""

    backup_retention_period: Annotated[Int, Field(ge=0, le=35)] = Field(
        default=7, alias="backupRetentionPeriod"
    )
    """Days of automated backups, 0-35 (0 turns them off). Default 7 (Convox: 1): a week to
    notice a mistake; backup storage up to the database's size is free."""

    preferred_backup_window: str | None = Field(default=None, alias="preferredBackupWindow")
    """Daily backup window in UTC, `hh:mm-hh:mm`. Default: chosen by RDS."""

    preferred_maintenance_window: str | None = Field(
        default=None, alias="preferredMaintenanceWindow"
    )
    """Weekly maintenance window in UTC, `ddd:hh:mm-ddd:hh:mm`. Default: chosen by RDS."""

    allow_major_version_upgrade: Bool = Field(default=False, alias="allowMajorVersionUpgrade")
    """Let a change of `version` upgrade across major versions. Default false (Convox: true):
    a major upgrade takes the database down and cannot be undone, so it is opted into."""

    auto_minor_version_upgrade: Bool = Field(default=True, alias="autoMinorVersionUpgrade")
    """Apply minor versions (security fixes) in the maintenance window. Default true (Convox's)."""

    extended_support: Bool = Field(default=False, alias="extendedSupport")
    """paaskit addition: run a major past RDS's end of standard support (MySQL 8.0 since
    2026-07-31, PostgreSQL 13), billed as RDS Extended Support per vCPU-hour, about twelve
    times a db.t4g.micro's own price (the plan's warning says how much). Default false: such a `version` is refused, naming the
    majors in standard support (Convox created it, and RDS enrolled it in the paid support
    by default). PostgreSQL and MySQL only: RDS offers none for MariaDB."""

    convox_unsupported: ClassVar[Mapping[str, str]] = {
        "masterUserPassword": "the password is generated and kept in Secrets Manager; it is "
        "never written in a manifest",
        "readSourceDB": "read replicas are not supported yet",
        "import": "importing an existing database is not supported yet",
        "snapshot": "restoring from a snapshot is not supported yet",
    }

    @field_validator("preferred_backup_window", mode="before")
    @classmethod
    def _backup_window(cls, value: Any) -> Any:
        if value is None:
            return None
        text = nonblank(value)
        if not _BACKUP_WINDOW.fullmatch(text):
            raise ValueError(
                f"expected hh:mm-hh:mm in UTC, such as 02:00-03:00 (got {show(value)})"
            )
        start, end = (int(t[:2]) * 60 + int(t[3:]) for t in text.split("-"))
        if (end - start) % 1440 < 30:
            raise ValueError(f"must be at least 30 minutes long (got {show(value)})")
        return text

    @field_validator("preferred_maintenance_window", mode="before")
    @classmethod
    def _maintenance_window(cls, value: Any) -> Any:
        if value is None:
            return None
        text = nonblank(value).lower()
        if not _MAINTENANCE_WINDOW.fullmatch(text):
            raise ValueError(
                "expected ddd:hh:mm-ddd:hh:mm in UTC, such as sun:05:00-sun:06:00 "
                f"(got {show(value)})"
            )
        return text


class PostgresOptions(RdsOptions):
    """Options of a `postgres` resource: Convox's option names, on an RDS instance.

    Convox runs `postgres` in a container and `rds-postgres` on RDS; paaskit always uses RDS
    (its Database component), so both types take these options.
    """

    version: Annotated[str, BeforeValidator(_pg_version)] = "18"
    """PostgreSQL major (or major.minor) version. Default 18, the newest on RDS (the
    Database component's default). Convox's
    container default, 10.5, is no longer offered by RDS. Quote a minor version ending in 0
    (`"16.10"`): YAML reads 16.10 as the number 16.1."""

    port: Annotated[Int, Field(ge=1150, le=65535)] = 5432
    """The port PostgreSQL listens on, 1150-65535 (RDS's range). Default 5432."""

    shared: Bool = False
    """Use the rack's shared database (made with the rack's `database: true`) instead of
    a database of the app's own (paaskit addition). Default false: one database per
    resource, isolated and sized for the app. Shared, the app gets the rack's
    database and master user: cheaper, but apps on it are not isolated from each other."""


class MysqlOptions(RdsOptions):
    """Options of a `mysql` or `mariadb` resource (and `rds-mysql`, `rds-mariadb`): Convox's
    option names, on an RDS MySQL or MariaDB instance (paaskit's Database), with the
    same safe defaults as `postgres`."""

    version: Annotated[str | None, BeforeValidator(_mysql_version)] = None
    """The engine's major (`8.4`, `11.8`) or minor (`8.4.5`) version. Default the newest
    major RDS offers: MySQL 8.4, MariaDB 11.8. Convox's defaults (5.7, 10.4) left RDS's
    standard support. Quote a version ending in 0 (`"10.10"`): YAML reads it as 10.1."""

    port: Annotated[Int, Field(ge=1150, le=65535)] = 3306
    """The port the database listens on, 1150-65535 (RDS's range). Default 3306."""

    convox_unsupported: ClassVar[Mapping[str, str]] = {
        **RdsOptions.convox_unsupported,
        "shared": "the rack's shared database is PostgreSQL: a mysql or mariadb resource is "
        "the app's own",
    }


class RedisOptions(_Model):
    """Options of a `redis` resource (and `elasticache-redis`, Convox v2's `valkey`): an
    ElastiCache for Valkey replication group (or Redis OSS, when asked for), paaskit's
    Cache. Convox's option names; paaskit's defaults where Convox's are unsafe."""

    engine: Literal["valkey", "redis"] | None = None
    """`valkey` or `redis` (Redis OSS), as Convox v2's `engine`. Default: Redis OSS for a
    Redis OSS `version` (6.0 to 7.1), else Valkey: the same protocol at about 20% less
    per node, and the engine ElastiCache develops."""

    version: Annotated[str | None, BeforeValidator(_cache_version)] = None
    """The engine version: Valkey 7.2 to 9.0, Redis OSS 6.0 to 7.1. Default Valkey 8.2, the
    newest proven on ElastiCache (Convox v2's default, Redis OSS 7.0, is taken as written)."""

    instance_class: Annotated[
        str,
        BeforeValidator(
            _instance_class(_CACHE_NODE, "an ElastiCache node type such as cache.t4g.micro")
        ),
    ] = Field(
        default="cache.t4g.micro", alias="class", validation_alias=AliasChoices("class", "instance")
    )
    """The node type (Convox `class`, or v3's `instance`). Default cache.t4g.micro, the
    cheapest current node (Convox v2's cache.t2.micro is a previous generation)."""

    durable: Bool = False
    """A replica in another zone that takes over within a minute (Multi-AZ, automatic
    failover). Default false (Convox's): it doubles the cost."""

    nodes: Annotated[Int, Field(ge=1, le=6)] | None = None
    """Nodes: the primary and its replicas, 1-6. Default 1, or 2 when durable."""

    encrypted: Bool = True
    """Encryption at rest (snapshots, swap). Default true (Convox: false); false is refused."""

    transit_encryption: Bool = Field(default=True, alias="transitEncryption")
    """TLS between clients and nodes (Convox v3). Default true; false is refused: AUTH
    works only over TLS."""

    deletion_protection: Bool = Field(default=True, alias="deletionProtection")
    """Refuse to delete the cache (Pulumi's `protect`) and keep a final snapshot. Default
    true (Convox: false): queues and sessions outlive stacks."""

    auto_minor_version_upgrade: Bool = Field(default=True, alias="autoMinorVersionUpgrade")
    """Apply minor versions in the maintenance window. Default true; false is refused."""

    convox_unsupported: ClassVar[Mapping[str, str]] = {
        "password": "the AUTH token is generated by the app's deploy runner and kept in "
        "Secrets Manager; it is never written in a manifest",
        "import": "importing an existing cache is not supported yet",
    }


class MemcachedOptions(_Model):
    """Options of a `memcached` resource (and `elasticache-memcached`): an ElastiCache for
    Memcached cluster, paaskit's Cache. Convox's option names."""

    version: Annotated[str | None, BeforeValidator(_cache_version)] = None
    """Memcached version: `1.6.22`, or `1.6` for the newest 1.6. Default 1.6.22, the newest
    on ElastiCache (in-transit encryption needs 1.6.12 or later)."""

    instance_class: Annotated[
        str,
        BeforeValidator(
            _instance_class(_CACHE_NODE, "an ElastiCache node type such as cache.t4g.micro")
        ),
    ] = Field(
        default="cache.t4g.micro", alias="class", validation_alias=AliasChoices("class", "instance")
    )
    """The node type (Convox `class`, or v3's `instance`). Default cache.t4g.micro, the
    cheapest current node."""

    nodes: Annotated[Int, Field(ge=1, le=40)] = 1
    """Nodes, each holding part of the keys, spread across zones, 1-40. Default 1 (Convox's)."""

    transit_encryption: Bool = Field(default=True, alias="transitEncryption")
    """TLS between clients and nodes. Default true (Convox: false): clients must ask for TLS
    (pymemcache's `tls_context`, Dalli's `ssl_context`); false for clients that cannot."""

    deletion_protection: Bool = Field(default=False, alias="deletionProtection")
    """Refuse to delete the cluster (Pulumi's `protect`). Default false (Convox's): a
    Memcached cluster holds nothing a restart would not lose anyway."""

    encrypted: Bool | None = None
    """Read and ignored, with a warning: Memcached keeps its data in memory only, so there is
    nothing at rest to encrypt (`transitEncryption` is the encryption it has)."""

    auto_minor_version_upgrade: Bool | None = Field(default=None, alias="autoMinorVersionUpgrade")
    """Read and ignored, with a warning: ElastiCache upgrades no Memcached version by itself;
    `version` chooses it."""

    convox_unsupported: ClassVar[Mapping[str, str]] = {
        "durable": "Memcached has no replicas to fail over to; spread its keys over nodes in "
        "several zones with nodes: 2 or more",
        "import": "importing an existing cache is not supported yet",
    }

    @property
    def ignored(self) -> list[tuple[str, str]]:
        """(key, why) of the options given that Memcached on ElastiCache has no use for."""
        out = []
        if self.encrypted is not None:
            out.append(
                (
                    "encrypted",
                    "Memcached keeps its data in memory only: there is nothing at rest to "
                    "encrypt; transitEncryption (on by default) encrypts its traffic",
                )
            )
        if self.auto_minor_version_upgrade is not None:
            out.append(
                (
                    "autoMinorVersionUpgrade",
                    "ElastiCache upgrades no Memcached version by itself: set version",
                )
            )
        return out


ResourceOptions = PostgresOptions | MysqlOptions | RedisOptions | MemcachedOptions
"""The options of a resource, by its kind."""

_KINDS: dict[str, str] = {
    "postgres": "postgres",
    "rds-postgres": "postgres",
    "mysql": "mysql",
    "rds-mysql": "mysql",
    "mariadb": "mariadb",
    "rds-mariadb": "mariadb",
    "redis": "redis",
    "elasticache-redis": "redis",
    "valkey": "redis",
    "memcached": "memcached",
    "elasticache-memcached": "memcached",
}
"""Every resource type paaskit makes, to its kind: the Convox type names, v2's and v3's."""

_OPTIONS: dict[str, type[_Model]] = {
    "postgres": PostgresOptions,
    "mysql": MysqlOptions,
    "mariadb": MysqlOptions,
    "redis": RedisOptions,
    "memcached": MemcachedOptions,
}

_SUPPORTED_RESOURCE_TYPES = tuple(_KINDS)
_REFUSED_RESOURCE_TYPES: Mapping[str, str] = {
    "postgis": "PostGIS is an extension of RDS PostgreSQL: use type postgres and run "
    "CREATE EXTENSION postgis (its master user may) in a release",
    "rds-postgis": "PostGIS is an extension of RDS PostgreSQL: use type postgres and run "
    "CREATE EXTENSION postgis (its master user may) in a release",
    "efs": "EFS resources are not supported (persistent storage is a service's volumes)",
    "s3": "S3 buckets as resources are not supported yet",
    "sqs": "SQS queues as resources are not supported yet",
    "sns": "SNS topics as resources are not supported yet",
}


class Resource(_Model):
    """A network service an app's services use: a database on RDS (PostgreSQL, MySQL, MariaDB,
    paaskit's Database) or a cache on ElastiCache (Valkey or Redis OSS, Memcached, paaskit's
    Cache)."""

    type: Literal[
        "postgres",
        "rds-postgres",
        "mysql",
        "rds-mysql",
        "mariadb",
        "rds-mariadb",
        "redis",
        "elasticache-redis",
        "valkey",
        "memcached",
        "elasticache-memcached",
    ]
    """`postgres`, `mysql`, `mariadb` (RDS; also as `rds-postgres`, `rds-mysql`,
    `rds-mariadb`), `redis` (ElastiCache for Valkey; also `elasticache-redis`, `valkey`) or
    `memcached` (ElastiCache for Memcached; also `elasticache-memcached`). Convox's
    container types run on the AWS-managed service here."""

    options: ResourceOptions = Field(default_factory=PostgresOptions)
    """The resource's options, by type (the tables below). Default: each option's default."""

    convox_unsupported: ClassVar[Mapping[str, str]] = {
        "image": "paaskit's resources are AWS-managed (RDS, ElastiCache): there is no "
        "container image",
        "tags": "every resource carries the app's paaskit:* tags",
    }

    _name: str = PrivateAttr(default="")

    @model_validator(mode="before")
    @classmethod
    def _type(cls, data: Any) -> Any:
        if isinstance(data, Resource):
            return data
        data = _mapping(data, "a mapping of type and options")
        kind = data.get("type")
        supported = ", ".join(_SUPPORTED_RESOURCE_TYPES)
        if kind is None:
            raise Problems([(("type",), f"required: one of {supported}")])
        if not isinstance(kind, str):
            raise Problems([(("type",), f"expected one of {supported} (got {show(kind)})")])
        kind = kind.strip().lower()
        if kind not in _KINDS:
            if kind in _REFUSED_RESOURCE_TYPES:
                message = (
                    f"{show(kind)} is not supported by paaskit: {_REFUSED_RESOURCE_TYPES[kind]} "
                    f"(supported: {supported})"
                )
            else:
                message = f"unknown resource type {show(kind)} (supported: {supported})"
            raise Problems([(("type",), message)])
        data["type"] = kind
        model = _OPTIONS[_KINDS[kind]]
        raw = data.get("options")
        if raw is None:
            raw = {}
        if isinstance(raw, _Model):
            options = raw
        else:
            try:
                options = model.model_validate(raw)
            except ValidationError as err:
                raise Problems(
                    [
                        (("options", path) if path else ("options",), message)
                        for path, message in problems_from(err, model)
                    ]
                ) from None
        if kind == "valkey" and isinstance(options, RedisOptions):
            if options.engine == "redis":
                raise Problems(
                    [(("options", "engine"), 'a valkey resource runs Valkey (got "redis")')]
                )
            options = options.model_copy(update={"engine": "valkey"})
        data["options"] = options
        return data

    @property
    def name(self) -> str:
        """The resource's name, its key under `resources`."""
        return self._name

    @property
    def kind(self) -> Literal["postgres", "mysql", "mariadb", "redis", "memcached"]:
        """What the resource is, whatever Convox name its type has: `postgres`, `mysql`,
        `mariadb`, `redis` (Valkey or Redis OSS) or `memcached`."""
        return _KINDS[self.type]  # type: ignore[return-value]

    @property
    def env_prefix(self) -> str:
        """`DATABASE` for a resource named `database`: its variables are `DATABASE_URL`, ..."""
        return env_prefix(self._name)


# --------------------------------------------------------------------------- timers


class Timer(_Model):
    """A process started on a schedule from a service's image (an EventBridge rule running an
    ECS task). It runs even when the service is scaled to 0."""

    schedule: str
    """When, in UTC: crontab's 5 fields (`0 3 * * *`) or Convox v2's AWS form
    (`0 3 * * ? *`). See `aws_cron_expression`."""

    command: Command
    """What the process runs: a string (split into words, or run by `/bin/sh -c` when it has
    shell syntax) or a list (as is). It replaces the service's command; the image's
    ENTRYPOINT still runs."""

    service: Name
    """The service whose image, environment, resources and size the process uses."""

    convox_unsupported: ClassVar[Mapping[str, str]] = {
        "annotations": "Kubernetes metadata has no ECS equivalent",
        "concurrency": "a Kubernetes (Convox v3) feature",
        "parallelCount": "a Kubernetes (Convox v3) feature",
        "policies": "a timer runs with its service's task role: set policies on the service",
    }

    _name: str = PrivateAttr(default="")

    @field_validator("schedule", mode="before")
    @classmethod
    def _schedule(cls, value: Any) -> Any:
        text = nonblank(value)
        aws_cron_expression(text)
        return text

    @property
    def name(self) -> str:
        """The timer's name, its key under `timers`."""
        return self._name

    def aws_schedule_expression(self) -> str:
        """The schedule as an EventBridge expression: `cron(0 3 * * ? *)`."""
        return aws_cron_expression(self.schedule)

    def command_argv(self) -> tuple[str, ...]:
        """The command as an argv (`paaskit.command.command_argv`'s rule)."""
        return command_argv(self.command) or ()


# --------------------------------------------------------------------------- app settings


def _cw_retention(value: Any) -> Any:
    """Convox rounds a retention CloudWatch does not take up to the next one it does."""
    if value is None:
        return None
    days = whole_number(value)
    longer = [d for d in RETENTION_DAYS if d >= days]
    if days < 1 or not longer:
        raise ValueError(f"expected 1 to {RETENTION_DAYS[-1]} days (got {show(value)})")
    return longer[0]


class AwsLogs(_Model):
    """The app's CloudWatch log group (Convox's `appSettings.awsLogs`)."""

    cw_retention: Annotated[int | None, BeforeValidator(_cw_retention)] = Field(
        default=None, alias="cwRetention"
    )
    """Days to keep the logs, rounded up to a period CloudWatch takes (as Convox does).
    Default: the stack's `logRetentionDays`, else the rack's."""

    disable_retention: Bool = Field(default=False, alias="disableRetention")
    """Keep the logs forever (and pay for them). Default false."""

    def retention(self, default: V) -> int | V | None:
        """The log group's retention in days: None for forever, `default` when not set."""
        if self.disable_retention:
            return None
        return self.cw_retention if self.cw_retention is not None else default


class AppSettings(_Model):
    """Settings of the app itself (Convox v3's `appSettings`)."""

    aws_logs: AwsLogs = Field(default_factory=AwsLogs, alias="awsLogs")
    """The log group's retention. Default: the stack's, else the rack's."""


# --------------------------------------------------------------------------- the manifest


class Manifest(_Model):
    """An app: its services, the resources they use, timers and shared environment.

    Build one with `load_manifest` or `parse_manifest`, which turn every problem into a
    `ManifestError` naming its key path.
    """

    environment: EnvList = ()
    """Variables every service gets: `KEY=default` or `KEY` (required); `*` passes every one
    of the app's settings to every service. Default none."""

    resources: dict[Name, Resource] = Field(default_factory=dict)
    """Resources by name. Default none."""

    services: dict[Name, Service] = Field(default_factory=dict)
    """Services by name, in the order written. At least one is required."""

    timers: dict[Name, Timer] = Field(default_factory=dict)
    """Timers by name. Default none."""

    labels: Labels = Field(default_factory=dict)
    """Docker labels on every service's containers (Convox v3's top-level labels); a
    service's own `labels` win. Default none."""

    app_settings: AppSettings = Field(default_factory=AppSettings, alias="appSettings")
    """The app's log retention (`awsLogs`). The stack's `logRetentionDays` wins over it.
    Default: the rack's retention."""

    convox_unsupported: ClassVar[Mapping[str, str]] = {
        "balancers": "custom balancers are not supported yet",
        "budget": "budgets are not supported yet",
        "configs": "config mounts are a Kubernetes (Convox v3) feature",
        "params": "app parameters belong to the stack's Pulumi config",
    }

    _source: str = PrivateAttr(default="paaskit.yml")
    _root: Path | None = PrivateAttr(default=None)
    _warnings: tuple[tuple[str, str], ...] = PrivateAttr(default=())
    _interpolated: frozenset[str] = PrivateAttr(default=frozenset())

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        if isinstance(data, Manifest):
            return data
        if data is None:
            data = {}
        data = _mapping(data, "a mapping with services, resources, timers and environment")
        # `timers:` with nothing under it is YAML null: read as "none", as Convox does.
        for key in ("environment", "resources", "services", "timers", "labels", "appSettings"):
            if key in data and data[key] is None:
                del data[key]
        return data

    @field_validator("environment")
    @classmethod
    def _unique(cls, value: tuple[EnvVar, ...]) -> tuple[EnvVar, ...]:
        return _unique_env(value)

    @model_validator(mode="after")
    def _cross_references(self) -> Manifest:
        for name, service in self.services.items():
            service._name = name
        for name, resource in self.resources.items():
            resource._name = name
        for name, timer in self.timers.items():
            timer._name = name
        problems = list(self._problems())
        if problems:
            raise Problems(problems)
        return self

    def _problems(self) -> Iterator[tuple[Loc, str]]:
        if not self.services:
            yield ("services",), "at least one service is required"
        declared = ", ".join(self.resources) or "none"
        domains: dict[str, str] = {}
        prefixes: dict[str, str] = {}
        for name, service in self.services.items():
            for i, link in enumerate(service.resources):
                if link.resource not in self.resources:
                    yield (
                        ("services", name, "resources", i),
                        f"no resource named {show(link.resource)} (declared: {declared})",
                    )
            for i, other in enumerate(service.links):
                if other == name:
                    yield ("services", name, "links", i), "a service cannot link to itself"
                elif other not in self.services:
                    yield ("services", name, "links", i), f"no service named {show(other)}"
                elif self.services[other].port is None:
                    yield (
                        ("services", name, "links", i),
                        f"{other} has no port, so there is no URL to link to (a link sets "
                        f"{env_prefix(other)}_URL to the service's port)",
                    )
            for domain in service.domain:
                if domain in domains:
                    yield (
                        ("services", name, "domain"),
                        f"{domain} is already routed to service {domains[domain]}",
                    )
                domains.setdefault(domain, name)
            if service.static is not None:
                prefix = service.static.prefix
                if prefix in prefixes:
                    yield (
                        ("services", name, "static", "prefix"),
                        f"{prefix} is already used by service {prefixes[prefix]}",
                    )
                prefixes.setdefault(prefix, name)
        for name, timer in self.timers.items():
            if timer.service not in self.services:
                known = ", ".join(self.services) or "none"
                yield (
                    ("timers", name, "service"),
                    f"no service named {show(timer.service)} (services: {known})",
                )

    @property
    def source(self) -> str:
        """Where the manifest came from, as named in error messages."""
        return self._source

    @property
    def root(self) -> Path | None:
        """The folder relative paths (build, static) start from; None when parsed from text."""
        return self._root

    @property
    def warnings(self) -> tuple[tuple[str, str], ...]:
        """What reads differently from how it is written, as (key path, message): a `${NAME}`
        that is not set, a label that configures nothing. The App reports them in the plan."""
        return (*self._warnings, *self._reading_warnings())

    @property
    def interpolated(self) -> frozenset[str]:
        """Every NAME a `${NAME}` refers to: the app may set them even if no service declares
        them (as in Convox, a value used only to fill the manifest reaches no service)."""
        return self._interpolated

    @property
    def web_services(self) -> dict[str, Service]:
        """Services the load balancer routes to (a port, not internal), in order."""
        return {name: s for name, s in self.services.items() if s.web}

    @property
    def agents(self) -> dict[str, Service]:
        """Services that run one process per instance."""
        return {name: s for name, s in self.services.items() if s.agent.enabled}

    def service(self, name: str) -> Service:
        """The named service; a KeyError lists the services there are."""
        try:
            return self.services[name]
        except KeyError:
            raise KeyError(
                f"no service named {name!r} (services: {', '.join(self.services)})"
            ) from None

    def service_labels(self, name: str) -> dict[str, str]:
        """A service's Docker labels: the top-level ones, then its own (later wins)."""
        return {**self.labels, **self.service(name).labels}

    def _reading_warnings(self) -> Iterator[tuple[str, str]]:
        """(key path, message) for what is read and does nothing: `test`, each `convox.*`
        label, Convox Gen1's rack settings (Convox v2 ignored them too), and a Memcached
        resource's options that ElastiCache has no use for."""
        for res_name, resource in self.resources.items():
            if isinstance(resource.options, MemcachedOptions):
                for key, why in resource.options.ignored:
                    yield f"resources.{res_name}.options.{key}", f"{why}; this key does nothing"
        for name, service in self.services.items():
            if service.test is not None:
                yield (
                    f"services.{name}.test",
                    "paaskit runs no tests (`convox test`): run them in CI; this key does nothing",
                )
            if service.timeout is not None and not service.web:
                yield (
                    f"services.{name}.timeout",
                    "applies to requests through the edge, and this service is not a web "
                    "service (no port, or internal): callers reach it directly and set their "
                    "own timeouts; this key does nothing",
                )
            if service.internal and service.port is not None and service.sticky:
                yield (
                    f"services.{name}.sticky",
                    "an internal service has no load balancer to keep a client on one process "
                    "(its callers reach its tasks by name): this key does nothing",
                )
            if (
                service.discoverable
                and service.port is not None
                and "health" in service.model_fields_set
            ):
                yield (
                    f"services.{name}.health",
                    "an internal service is reached by its internal name, not through the load "
                    "balancer, so nothing requests its health path: ECS replaces a process that "
                    "exits, not one that stops answering",
                )
        places: list[tuple[str, Mapping[str, str]]] = [("labels", self.labels)]
        places += [(f"services.{n}.labels", s.labels) for n, s in self.services.items()]
        for path, labels in places:
            for key in labels:
                if key.startswith("convox."):
                    yield (
                        path,
                        (
                            f"{key} configured Convox Gen1 (docker-compose.yml) racks; here it is "
                            f"only a Docker label and configures nothing: {_gen1_label_advice(key)}"
                        ),
                    )

    def undeclared(self, settings: Iterable[str]) -> list[str]:
        """The settings (variable names) nothing of the app reads, sorted: neither declared
        by a service's `environment` nor used by a `${NAME}`; none when a service passes
        every setting (`*`)."""
        declared = set(self.interpolated)  # a setting may only fill a ${NAME}
        for service in self.services:
            environment = self.service_environment(service)
            if environment.everything:
                return []
            declared |= set(environment.names)
        return sorted(set(settings) - declared)

    def service_environment(self, name: str) -> Environment:
        """A service's effective variables: top-level first, then its own (later wins)."""
        variables: dict[str, str | None] = {}
        everything = False
        for item in (*self.environment, *self.service(name).environment):
            if item.name == EVERYTHING:
                everything = True
                continue
            variables.pop(item.name, None)
            variables[item.name] = item.default
        return Environment(variables, everything)

    def resolve_environment(self, name: str, values: Mapping[str, V]) -> dict[str, str | V]:
        """The variables a service's processes get, given the app's settings.

        As in Convox, declared variables are passed, and with `*` every setting: a
        setting's value wins over the manifest's default; a required variable without a
        value fails, naming them all.
        """
        env = self.service_environment(name)
        missing = [key for key in env.required if key not in values]
        if missing:
            raise ManifestError(
                self._source,
                [
                    (
                        f"services.{name}.environment",
                        f"required but not set: {', '.join(sorted(missing))}",
                    )
                ],
            )
        resolved: dict[str, str | V] = {}
        for key, default in env.variables.items():
            if key in values:
                resolved[key] = values[key]
            elif default is not None:
                resolved[key] = default
        for key in env.passed(values):
            resolved.setdefault(key, values[key])
        return resolved

    def linked_resources(self, name: str) -> dict[str, Resource]:
        """The resources a service links to, by name."""
        return {
            link.resource: self.resources[link.resource] for link in self.service(name).resources
        }
