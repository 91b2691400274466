"""The app manifest: Convox's convox.yml read as is, paaskit's additions, and the errors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paaskit.manifest import (
    DEFAULT_CPU_TARGET,
    MANIFEST_FILENAMES,
    AwsLogs,
    Health,
    Manifest,
    ManifestError,
    MemcachedOptions,
    MysqlOptions,
    PostgresOptions,
    RedisOptions,
    Resource,
    Scale,
    Service,
    Timer,
    aws_cron_expression,
    load_manifest,
    parse_manifest,
)

MANIFESTS = Path(__file__).parent / "data" / "manifests"


def service(spec: dict[str, Any] | None = None, **extra: Any) -> Service:
    """Parses a manifest holding one service `web` (plus `extra` top-level keys)."""
    return parse_manifest({"services": {"web": spec or {}}, **extra}).services["web"]


def problems(data: str | dict[str, Any], **kwargs: Any) -> dict[str, str]:
    """The problems a bad manifest reports, by key path."""
    with pytest.raises(ManifestError) as caught:
        parse_manifest(data, **kwargs)
    return dict(caught.value.problems)


# --------------------------------------------------------------------------- real manifests


def test_convox_reference_example_reads_unchanged() -> None:
    m = load_manifest(MANIFESTS / "convox-docs.yml")

    assert list(m.services) == ["api", "web", "worker", "metrics"]
    api, web, worker, metrics = m.services.values()
    assert (api.name, api.command, api.health.path, api.internal) == (
        "api",
        "bin/api",
        "/check",
        True,
    )
    assert api.port is not None
    assert (api.port.port, api.port.scheme) == (3000, "http")
    assert api.termination.grace == 45
    assert [link.resource for link in api.resources] == ["database"]
    assert (api.web, web.web, worker.web) == (False, True, False)
    assert worker.build is not None
    assert worker.build.path == "./worker"
    assert (metrics.agent.enabled, metrics.image, metrics.build) == (True, "awesome/metrics", None)
    database = m.resources["database"].options
    assert isinstance(database, PostgresOptions)
    assert database.storage == 200
    assert m.timers["cleanup"].aws_schedule_expression() == "cron(0 3 * * ? *)"
    assert list(m.web_services) == ["web"]
    assert list(m.agents) == ["metrics"]
    assert m.source.endswith("convox-docs.yml")
    assert m.root == MANIFESTS


def test_convox_v2_manifest_with_aws_schedules_links_and_agent_ports() -> None:
    m = load_manifest(MANIFESTS / "convox-v2-rails.yml", env={"WEB_HOST": "App.Example.com"})

    web = m.services["web"]
    assert web.domain == ("app.example.com", "www.example.org")
    assert (web.health.path, web.health.interval, web.health.grace, web.health.timeout) == (
        "/health",
        10,
        10,
        9,
    )
    assert (web.scale.min, web.scale.max, web.scale.autoscaling) == (2, 8, True)
    assert (web.scale.cpu, web.scale.memory) == (512, 1024)
    assert (web.scale.targets.cpu, web.scale.targets.memory, web.scale.targets.requests) == (
        60,
        None,
        600,
    )
    assert web.scale.cooldown is not None
    assert (web.scale.cooldown.down, web.scale.cooldown.up) == (180, 60)
    assert m.services["worker"].links == ("web",)
    agent = m.services["datadog"].agent
    assert agent.enabled
    assert [(p.port, p.protocol) for p in agent.ports] == [(8125, "udp"), (8126, "tcp")]
    assert m.services["datadog"].deployment.minimum == 0
    assert m.timers["nightly"].aws_schedule_expression() == "cron(0 3 * * ? *)"
    assert m.timers["weekdays"].aws_schedule_expression() == "cron(0,30 9-17 ? * MON-FRI *)"
    options = m.resources["postgres"].options
    assert isinstance(options, PostgresOptions)
    assert (options.instance_class, options.durable, options.version) == (
        "db.t3.small",
        True,
        "10.5",
    )


def test_django_manifest_with_paaskit_additions() -> None:
    m = load_manifest(MANIFESTS / "django.yml")

    web = m.services["web"]
    assert web.build is not None
    assert (web.build.path, web.build.manifest) == (".", "Dockerfile.web")
    assert [(a.name, a.value) for a in web.build.args] == [("PIP_INDEX_URL", None), ("DEBUG", "0")]
    assert web.release_argv() == ("python", "manage.py", "migrate", "--noinput")
    assert web.static is not None
    assert (web.static.path, web.static.prefix, web.static.path_pattern) == (
        "staticfiles",
        "/static",
        "/static/*",
    )
    assert web.domain == ("shop.example.com", "*.shop.example.com")
    assert web.health.grace == 30
    assert (web.scale.min, web.scale.max, web.scale.targets.cpu) == (2, 10, DEFAULT_CPU_TARGET)
    assert web.policies == (
        "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
        "arn:aws:iam::123456789012:policy/shop/uploads",
    )
    assert (web.sticky, web.drain) == (True, 10)
    clock = m.services["clock"]
    assert clock.command_argv() == ("python", "manage.py", "run_clock")
    assert (clock.deployment.minimum, clock.deployment.maximum) == (0, 100)
    assert clock.resources[0].env_names == {"url": "DATABASE_URL"}
    assert m.timers["sessions"].aws_schedule_expression() == "cron(0 0 * * ? *)"
    assert m.timers["sessions"].command_argv() == ("python", "manage.py", "clearsessions")
    options = m.resources["db"].options
    assert isinstance(options, PostgresOptions)
    assert (options.version, options.instance_class, options.storage) == ("16", "db.m7g.large", 100)
    assert options.backup_retention_period == 14
    assert options.preferred_maintenance_window == "sun:05:00-sun:06:00"


def test_bad_manifest_lists_every_problem_with_the_file_name() -> None:
    with pytest.raises(ManifestError) as caught:
        load_manifest(MANIFESTS / "bad.yml")
    message = str(caught.value)

    assert message.startswith(f"{MANIFESTS / 'bad.yml'}: 9 problems\n")
    assert dict(caught.value.problems) == {
        "resources.cache.type": 'unknown resource type "mongodb" (supported: postgres, '
        "rds-postgres, mysql, rds-mysql, mariadb, rds-mariadb, redis, elasticache-redis, "
        "valkey, memcached, elasticache-memcached)",
        "services.web.scale": 'expected a count, "min-max" or a mapping (got "lots")',
        "services.web.sclae": 'unknown key (did you mean "scale"?)',
        "services.web.helth": 'unknown key (did you mean "health"?)',
        "services.api.drain": 'expected a whole number (got "soon")',
        "services.api.port": 'expected http:<port> or https:<port> (got "tcp:80"); a '
        "scheme other than http or https is not supported",
        "services.api.privileged": "only an agent (agent: true) may run privileged: a "
        "privileged container is root on its node, with every other app's secrets in reach; a "
        "node-level tool (monitoring, logs) is an agent, an app's process never needs it",
        "services.worker.internal": 'expected true or false (got "maybe")',
        "services.jobs.health.timeout": "must be less than the interval (10 >= 5): the load "
        "balancer requires it",
    }


# --------------------------------------------------------------------------- loading


def test_load_manifest_finds_paaskit_yml_before_convox_yml(tmp_path: Path) -> None:
    (tmp_path / "convox.yml").write_text("services: {from-convox: {}}\n")
    assert list(load_manifest(tmp_path).services) == ["from-convox"]

    (tmp_path / "paaskit.yaml").write_text("services: {from-paaskit: {}}\n")
    m = load_manifest(tmp_path)
    assert list(m.services) == ["from-paaskit"]
    assert m.source == str(tmp_path / "paaskit.yaml")
    assert m.root == tmp_path


def test_load_manifest_errors_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(
        ManifestError, match=re.escape(f"{tmp_path}: no {', '.join(MANIFEST_FILENAMES)}")
    ):
        load_manifest(tmp_path)
    with pytest.raises(ManifestError, match=r"missing\.yml: no such file"):
        load_manifest(tmp_path / "missing.yml")
    (tmp_path / "latin1.yml").write_bytes("services: {caf\xe9: {}}".encode("latin-1"))
    with pytest.raises(ManifestError, match=r"latin1\.yml: not UTF-8 text at line 1 "):
        load_manifest(tmp_path / "latin1.yml")
    # The line, as every other problem of the file names one.
    (tmp_path / "bad.yml").write_bytes(b"services:\n  web:\n    image: nginx\xff\n")
    with pytest.raises(ManifestError) as caught:
        load_manifest(tmp_path / "bad.yml")
    assert caught.value.problems == (
        ("", "not UTF-8 text at line 3 (invalid start byte at byte 33)"),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the manifest is empty"),
        ("- web\n", "expected a mapping at the top"),
        ("services:\n  web: [\n", "invalid YAML at line 3, column 1"),
        (
            "services:\n  web: {}\n  web: {}\n",
            'invalid YAML at line 3, column 3: duplicate key "web"',
        ),
        ("services:\n", "services: at least one service is required"),
        ("resources: {}\nservices: {}\n", "services: at least one service is required"),
    ],
)
def test_unreadable_manifests(text: str, message: str) -> None:
    with pytest.raises(ManifestError, match=re.escape(message)) as caught:
        parse_manifest(text, source="app/paaskit.yml")
    assert caught.value.source == "app/paaskit.yml"
    assert str(caught.value).startswith("app/paaskit.yml: ")
    if not message.startswith("services:"):
        assert [path for path, _ in caught.value.problems] == [""]


def test_characters_yaml_cannot_read_are_named() -> None:
    with pytest.raises(ManifestError) as caught:
        parse_manifest("services:\n  web: {}\n  bell: \x07\n", source="app/paaskit.yml")
    (path, message), *_ = caught.value.problems
    assert (caught.value.source, path) == ("app/paaskit.yml", "")
    # Where it is, as every other YAML problem says, not PyYAML's "<unicode string>, position 30".
    assert message == (
        "invalid YAML at line 3, column 9: the character U+0007 is not allowed "
        "(YAML takes printable characters, tabs and line breaks)"
    )
    assert problems('services:\n  web:\n    command: "a\x00b"\n') == {
        "": "invalid YAML at line 3, column 16: the character U+0000 is not allowed "
        "(YAML takes printable characters, tabs and line breaks)"
    }


def test_a_number_too_long_for_python_is_named_with_its_line() -> None:
    # Python reads at most 4,300 digits (and writes no more): a ValueError from deep in
    # PyYAML once reached the user as the program's crash.
    assert problems("services:\n  web:\n    port: " + "9" * 5000 + "\n") == {
        "": "invalid YAML at line 3, column 11: a number of 5000 digits is too long"
    }


def test_a_value_too_long_to_show_is_shown_by_its_length() -> None:
    # Hexadecimal is read whatever its length, but no longer written out in decimal.
    assert problems("services:\n  web:\n    image: nginx\n    drain: 0x" + "f" * 5000 + "\n") == {
        "services.web.drain": "must be at most 3600 (got a number of about 6021 digits)"
    }
    assert problems("services:\n  web:\n    image: nginx\n    drain: " + "9" * 400 + "\n") == {
        "services.web.drain": "must be at most 3600 (got a number of about 401 digits)"
    }
    (message,) = problems({"services": {"web": {"image": "nginx", "port": "x" * 3000}}}).values()
    assert message.endswith('(got "' + "x" * 279 + '..." (3000 characters))')


def test_a_duplicate_key_is_an_error_after_a_merge_and_after_an_unhashable_key() -> None:
    base = "x-base: &base\n  build: .\n"
    assert problems(base + "services:\n  web:\n    <<: *base\n    port: 1\n    port: 2\n") == {
        "": 'invalid YAML at line 7, column 5: duplicate key "port"'
    }
    assert problems("services:\n  ? [a]\n  : {}\n  web: {}\n  web: {}\n") == {
        "": 'invalid YAML at line 5, column 3: duplicate key "web"'
    }
    # A key written once, even with a merge, is fine; the merged value is overridden.
    m = parse_manifest(base + "services:\n  web:\n    <<: *base\n    build: ./api\n")
    assert m.services["web"].build is not None
    assert m.services["web"].build.path == "./api"


def test_yaml_merge_keys_may_be_overridden_and_x_keys_hold_anchors() -> None:
    m = parse_manifest(
        """
x-base: &base
  build: .
  scale: {cpu: 512}
  environment: [SHARED=1]
services:
  web:
    <<: *base
    port: 8000
    scale: {cpu: 1024}
  worker:
    <<: *base
"""
    )
    assert m.services["web"].scale.cpu == 1024
    assert m.services["worker"].scale.cpu == 512
    assert m.services["worker"].environment[0].name == "SHARED"
    assert problems("other-anchors: {}\nservices: {web: {}}\n") == {
        "other-anchors": "unknown key (expected one of: appSettings, environment, labels, "
        "resources, services, timers; a key holding YAML anchors must start with x-)"
    }


# --------------------------------------------------------------------------- defaults


def test_service_defaults_follow_convox() -> None:
    web = service()

    assert web.build is not None
    assert (web.build.path, web.build.manifest, web.build.args) == (".", "Dockerfile", ())
    assert (web.image, web.command, web.command_argv(), web.release, web.port) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert (web.scale.min, web.scale.max, web.scale.cpu, web.scale.memory) == (1, 1, 256, 512)
    assert (web.scale.targets.any, web.scale.cooldown, web.scale.autoscaling) == (
        False,
        None,
        False,
    )
    assert (web.health.path, web.health.interval, web.health.grace, web.health.timeout) == (
        "/",
        5,
        5,
        4,
    )
    assert (web.deployment.minimum, web.deployment.maximum) == (50, 200)
    assert (web.drain, web.termination.grace) == (30, 30)
    assert (web.agent.enabled, web.singleton, web.internal, web.sticky, web.init) == (
        False,
        False,
        False,
        False,
        True,
    )
    assert (web.domain, web.environment, web.links, web.policies, web.resources) == (
        (),
        (),
        (),
        (),
        (),
    )
    assert (web.static, web.web) == (None, False)


def test_postgres_defaults_are_safe_and_cheap() -> None:
    m = parse_manifest({"resources": {"db": {"type": "postgres"}}, "services": {"web": {}}})
    options = m.resources["db"].options

    assert m.resources["db"].name == "db"
    assert m.resources["db"].env_prefix == "DB"
    assert options.model_dump() == {
        "version": "18",
        "instance_class": "db.t4g.micro",
        "storage": 20,
        "iops": None,
        "durable": False,
        "encrypted": True,
        "deletion_protection": True,
        "backup_retention_period": 7,
        "preferred_backup_window": None,
        "preferred_maintenance_window": None,
        "port": 5432,
        "allow_major_version_upgrade": False,
        "auto_minor_version_upgrade": True,
        "extended_support": False,
        "shared": False,
    }


def test_empty_sections_and_an_empty_service_are_allowed() -> None:
    m = parse_manifest("environment:\nresources:\ntimers:\nservices:\n  web:\n")
    assert m == Manifest.model_validate({"services": {"web": {}}})
    assert (m.source, m.root) == ("paaskit.yml", None)


# --------------------------------------------------------------------------- shorthands


@pytest.mark.parametrize(
    ("value", "port", "scheme"),
    [
        (3000, 3000, "http"),
        ("3000", 3000, "http"),
        ("https:3000", 3000, "https"),
        ("HTTP:80", 80, "http"),
        ({"port": 8443, "scheme": "https"}, 8443, "https"),
        ({"port": "https:8443"}, 8443, "https"),
    ],
)
def test_port_shorthands(value: Any, port: int, scheme: str) -> None:
    web = service({"port": value})
    assert web.port is not None
    assert (web.port.port, web.port.scheme) == (port, scheme)
    assert web.web


@pytest.mark.parametrize(
    ("value", "path", "message"),
    [
        ("web", "services.web.port", 'expected a port, scheme:port or a mapping (got "web")'),
        (True, "services.web.port", "expected a port, scheme:port or a mapping (got true)"),
        # Written as one value, the port is wrong where it was written.
        (0, "services.web.port", "must be at least 1 (got 0)"),
        (70000, "services.web.port", "must be at most 65535 (got 70000)"),
        ("https:70000", "services.web.port", "must be at most 65535 (got 70000)"),
        (
            "grpc:5551",
            "services.web.port",
            'expected http:<port> or https:<port> (got "grpc:5551"); a scheme other than '
            "http or https is not supported",
        ),
        # Written as a mapping, at its key.
        ({"scheme": "https"}, "services.web.port.port", "required"),
        ({"port": 70000}, "services.web.port.port", "must be at most 65535 (got 70000)"),
        ({"port": 80, "scheme": "ftp"}, "services.web.port.scheme", None),
    ],
)
def test_bad_ports(value: Any, path: str, message: str | None) -> None:
    found = problems({"services": {"web": {"port": value}}})
    assert list(found) == [path]
    if message is not None:
        assert found[path] == message


def test_health_shorthand_and_derived_defaults() -> None:
    assert service({"health": "/up"}).health.model_dump() == {
        "path": "/up",
        "interval": 5,
        "grace": 5,
        "timeout": 4,
        "disable": False,
    }
    # Convox derives grace and timeout from the interval unless given.
    assert service({"health": {"interval": 30}}).health.model_dump() == {
        "path": "/",
        "interval": 30,
        "grace": 30,
        "timeout": 29,
        "disable": False,
    }
    assert service(
        {"health": {"path": "/h", "interval": 10, "grace": 60, "timeout": 3}}
    ).health.model_dump() == {
        "path": "/h",
        "interval": 10,
        "grace": 60,
        "timeout": 3,
        "disable": False,
    }
    assert problems({"services": {"web": {"health": "health"}}}) == {
        "services.web.health.path": 'expected a URL path starting with / (got "health")'
    }
    assert problems({"services": {"web": {"health": {"interval": 2}}}}) == {
        "services.web.health.interval": "must be at least 5 (got 2)"
    }


def test_health_checks_are_the_load_balancers() -> None:
    # Without a port nothing checks health: disabling it, or any timeout, changes nothing.
    worker = service({"health": {"disable": True, "interval": 15, "timeout": 30}})
    assert (worker.health.disable, worker.health.timeout) == (True, 30)
    assert problems({"services": {"web": {"port": 80, "health": {"disable": True}}}}) == {
        "services.web.health.disable": "the load balancer always checks the health of a service "
        "with a port (AWS turns health checks off only for Lambda targets): remove disable, or "
        "give a path that answers quickly"
    }
    assert problems(
        {"services": {"web": {"port": 80, "health": {"interval": 15, "timeout": 15}}}}
    ) == {
        "services.web.health.timeout": "must be less than the interval (15 >= 15): the load "
        "balancer requires it"
    }
    assert problems({"services": {"web": {"port": 80, "health": {"port": 8081}}}}) == {
        "services.web.health.port": "not supported by paaskit: the load balancer checks the port "
        "it sends traffic to (the process's port, on a dynamic port of its node)"
    }


def test_a_health_path_is_at_most_what_the_load_balancer_takes() -> None:
    # botocore: elbv2 CreateTargetGroup.HealthCheckPath is 1-1024 characters.
    longest = "/" + "a" * 1023
    assert service({"port": 80, "health": longest}).health.path == longest
    assert problems({"services": {"web": {"port": 80, "health": longest + "a"}}}) == {
        "services.web.health.path": "1025 characters, more than the 1024 the load balancer "
        'takes (HealthCheckPath): "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa..."'
    }
    health = {"interval": 301, "timeout": 5}
    assert problems({"services": {"web": {"port": 80, "health": health}}}) == {
        "services.web.health.interval": "must be at most 300 (got 301)"
    }


def test_more_processes_than_ecs_runs_per_service_are_refused() -> None:
    assert service({"scale": {"count": "1-5000"}}).scale.max == 5000
    assert problems({"services": {"web": {"scale": {"count": "1-5001"}}}}) == {
        "services.web.scale.count": "5001 processes: ECS runs at most 5,000 per service (its "
        "quota of tasks per service)"
    }


@pytest.mark.parametrize(
    ("spec", "path", "words"),
    [
        (
            {"deployment": {"minimum": 100, "maximum": 100}},
            "services.web.deployment",
            "minimum 100 with maximum 100 lets ECS neither start a new process nor stop an old one",
        ),
        (
            {"deployment": {"minimum": 50, "maximum": 100}},
            "services.web.deployment",
            "at a count of 1 a deploy can never move: minimum 50% of 1 keeps 1 running (ECS "
            "rounds up) and maximum 100% allows 1 in all (ECS rounds down)",
        ),
        (
            {"scale": {"count": "2-6"}, "deployment": {"minimum": 75, "maximum": 100}},
            "services.web.deployment",
            "at a count of 2, 3 a deploy can never move",
        ),
        (
            {"singleton": True, "deployment": {"minimum": 50}},
            "services.web.deployment",
            "lower minimum to 0 (a singleton's default: the old process stops first)",
        ),
        (
            {"agent": True, "deployment": {"maximum": 200}},
            "services.web.deployment.maximum",
            "an agent runs one process per instance, so ECS takes no maximum above 100 for it",
        ),
        (
            {"agent": True, "deployment": {"minimum": 100}},
            "services.web.deployment.minimum",
            "a minimum of 100 lets ECS neither stop an agent's old process nor start its new one",
        ),
    ],
)
def test_deploy_limits_ecs_cannot_deploy_with_are_refused(
    spec: dict[str, Any], path: str, words: str
) -> None:
    found = problems({"services": {"web": {"image": "nginx", **spec}}})
    assert list(found) == [path]
    assert words in found[path]


def test_deploy_limits_that_can_move_are_kept() -> None:
    for spec in (
        {},
        {"deployment": {"minimum": 100, "maximum": 200}},
        {"deployment": {"minimum": 0, "maximum": 100}},
        {"scale": {"count": "4-8"}, "deployment": {"minimum": 75, "maximum": 100}},
        {"scale": {"count": 2}, "deployment": {"minimum": 100, "maximum": 150}},
        {"singleton": True},
        {"agent": True},
        {"agent": True, "deployment": {"minimum": 50}},
    ):
        assert service({"image": "nginx", **spec}) is not None


@pytest.mark.parametrize(
    ("value", "low", "high", "cpu_target"),
    [
        (3, 3, 3, None),
        ("3", 3, 3, None),
        ("2-10", 2, 10, DEFAULT_CPU_TARGET),
        (" 1 - 4 ", 1, 4, DEFAULT_CPU_TARGET),
        (0, 0, 0, None),
        ({"count": 2}, 2, 2, None),
        ({"count": "1-3", "targets": {"memory": 80}}, 1, 3, None),
        ({"count": {"min": 2, "max": 6}, "targets": {"cpu": 50}}, 2, 6, 50),
        ({"count": {"min": 2}}, 2, 2, None),
        ({"cpu": 1024, "memory": 2048}, 1, 1, None),
    ],
)
def test_scale_shorthands(value: Any, low: int, high: int, cpu_target: int | None) -> None:
    scale = service({"scale": value}).scale
    assert (scale.min, scale.max, scale.targets.cpu) == (low, high, cpu_target)
    assert scale.autoscaling == (low != high)


@given(st.integers(min_value=0, max_value=500), st.integers(min_value=0, max_value=500))
def test_scale_range_strings(a: int, b: int) -> None:
    text = f"{a}-{b}"
    if a > b:
        assert problems({"services": {"web": {"scale": text}}}) == {
            "services.web.scale.count": f"max ({b}) is below min ({a})"
        }
    elif a == 0 and b > 0:
        assert (
            "autoscaling cannot start from 0"
            in problems({"services": {"web": {"scale": text}}})["services.web.scale.count"]
        )
    else:
        scale = service({"scale": text}).scale
        assert (scale.min, scale.max, str(scale.count)) == (a, b, text if a != b else str(a))
        assert scale.autoscaling == (a != b)


@given(st.text(max_size=12).filter(lambda t: not re.fullmatch(r"\s*\d+\s*(-\s*\d+\s*)?", t)))
def test_scale_garbage_strings_name_the_key(text: str) -> None:
    assert problems({"services": {"web": {"scale": text}}}) == {
        "services.web.scale": f'expected a count, "min-max" or a mapping (got {_quoted(text)})'
    }


def _quoted(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)


def test_scale_sizes_and_fargate_fit() -> None:
    assert service({"scale": {"cpu": 256, "memory": 512}}).scale.fits_fargate
    assert service({"scale": {"cpu": 1024, "memory": 2048}}).scale.fits_fargate
    assert not service({"scale": {"cpu": 256, "memory": 4096}}).scale.fits_fargate
    assert not service({"scale": {"cpu": 300, "memory": 512}}).scale.fits_fargate
    # On EC2 a container's CPU is a share: ECS takes less than 128 units.
    assert service({"scale": {"cpu": 64}}).scale.cpu == 64
    assert problems({"services": {"web": {"scale": {"cpu": 1, "memory": 64}}}}) == {
        "services.web.scale.cpu": "must be at least 2 (got 1)",
        "services.web.scale.memory": "must be at least 128 (got 64)",
    }
    assert problems({"services": {"web": {"scale": {"cpu": 200000}}}}) == {
        "services.web.scale.cpu": "must be at most 196608 (got 200000)"
    }


def test_scale_targets_and_cooldowns() -> None:
    scale = service(
        {"port": 80, "scale": {"count": "1-4", "targets": {"requests": 300}, "cooldown": 90}}
    ).scale
    assert (scale.targets.cpu, scale.targets.requests) == (None, 300)
    assert scale.cooldown is not None
    assert (scale.cooldown.down, scale.cooldown.up) == (90, 90)
    assert problems({"services": {"web": {"scale": {"count": 2, "targets": {"cpu": 50}}}}}) == {
        "services.web.scale.targets": "autoscaling targets need a count range such as "
        '"2-6" (count is 2)'
    }
    assert problems(
        {"services": {"web": {"scale": {"count": "1-3", "targets": {"cpu": 120}}}}}
    ) == {"services.web.scale.targets.cpu": "must be at most 100 (got 120)"}
    assert problems(
        {"services": {"web": {"scale": {"count": "1-3", "targets": {"requests": 100}}}}}
    ) == {
        "services.web.scale.targets.requests": "counting requests needs a port behind the "
        "load balancer"
    }
    assert problems({"services": {"web": {"scale": "0-4"}}}) == {
        "services.web.scale.count": 'autoscaling cannot start from 0 (count is "0-4"): with no '
        "process running there is no CPU, memory or request metric to scale out on; use a "
        "minimum of 1"
    }
    assert problems({"services": {"web": {"scale": {"gpu": 1}}}}) == {
        "services.web.scale.gpu": "not supported by paaskit: GPUs are not supported yet"
    }


def test_environment_lists_merge_top_level_first_and_later_wins() -> None:
    m = parse_manifest(
        {
            "environment": ["COMPANY=Acme", "SECRET_KEY", "EMPTY=", "URL=a=b"],
            "services": {
                "web": {"environment": ["SECRET_KEY=dev-only", "COMPANY", "PORT=8000"]},
                "worker": {},
            },
        }
    )
    web = m.service_environment("web")
    assert web.variables == {
        "EMPTY": "",
        "URL": "a=b",
        "SECRET_KEY": "dev-only",
        "COMPANY": None,
        "PORT": "8000",
    }
    assert web.required == ("COMPANY",)
    assert web.defaults == {"EMPTY": "", "URL": "a=b", "SECRET_KEY": "dev-only", "PORT": "8000"}
    assert m.service_environment("worker").required == ("SECRET_KEY",)

    assert m.resolve_environment("web", {"COMPANY": "Initech", "UNDECLARED": "x"}) == {
        "EMPTY": "",
        "URL": "a=b",
        "SECRET_KEY": "dev-only",
        "COMPANY": "Initech",
        "PORT": "8000",
    }
    with pytest.raises(
        ManifestError, match=r"services\.worker\.environment: required but not set: SECRET_KEY"
    ):
        m.resolve_environment("worker", {})
    with pytest.raises(KeyError, match="no service named 'nope'"):
        m.service_environment("nope")


@pytest.mark.parametrize(
    ("value", "path", "message"),
    [
        ("A=1", "services.web.environment", 'expected a list of KEY or KEY=default (got "A=1")'),
        (
            ["1BAD"],
            "services.web.environment[0]",
            "expected KEY or KEY=default with KEY made of "
            'letters, digits and underscores (got "1BAD")',
        ),
        (
            ["A", {"B": 1}],
            "services.web.environment[1]",
            "expected KEY or KEY=default (got a mapping)",
        ),
        (["A", "A=1"], "services.web.environment", "A is declared twice"),
    ],
)
def test_bad_environment(value: Any, path: str, message: str) -> None:
    assert problems({"services": {"web": {"environment": value}}}) == {path: message}


def test_a_star_passes_every_setting_declared_or_not() -> None:
    m = parse_manifest(
        {
            "environment": ["COMPANY=Acme"],
            "services": {
                "web": {"environment": ["*", "FORCE_SSL=true", "TOKEN"]},
                "worker": {"environment": ["TOKEN"]},
            },
        }
    )
    web, worker = m.service_environment("web"), m.service_environment("worker")
    assert (web.everything, worker.everything) == (True, False)
    assert web.variables == {"COMPANY": "Acme", "FORCE_SSL": "true", "TOKEN": None}
    assert web.required == ("TOKEN",)
    settings = {"TOKEN": "t", "SECRET": "s", "FORCE_SSL": "false"}
    assert web.passed(settings) == ("TOKEN", "SECRET", "FORCE_SSL")
    assert worker.passed(settings) == ("TOKEN",)
    assert m.resolve_environment("web", settings) == {
        "COMPANY": "Acme",
        "FORCE_SSL": "false",
        "TOKEN": "t",
        "SECRET": "s",
    }
    assert m.resolve_environment("worker", settings) == {"COMPANY": "Acme", "TOKEN": "t"}
    with pytest.raises(ManifestError, match="required but not set: TOKEN"):
        m.resolve_environment("web", {"SECRET": "s"})
    # At the top it reaches every service, as Convox prepends the top-level list.
    top = parse_manifest({"environment": ["*"], "services": {"a": {}, "b": {}}})
    assert [top.service_environment(s).everything for s in ("a", "b")] == [True, True]


def test_labels_are_docker_labels_and_gen1_labels_are_explained() -> None:
    m = parse_manifest(
        {
            "labels": {"team": "web", "tier": 1},
            "services": {
                "web": {
                    "port": 3000,
                    "labels": [
                        "convox.health.path=/healthcheck",
                        "convox.port.443.protocol=https",
                        "convox.deployment.minimum=50",
                        "convox.health.threshold.healthy=3",
                        "convox.port.443.proxy=true",
                        "convox.something=else",
                        "team=api",
                    ],
                },
                "agent": {"agent": True, "labels": {"com.datadoghq.ad.logs": "[]", "on": True}},
            },
        }
    )
    assert m.service_labels("agent") == {
        "team": "web",
        "tier": "1",
        "com.datadoghq.ad.logs": "[]",
        "on": "true",
    }
    assert m.service_labels("web")["team"] == "api"
    gen1 = "configured Convox Gen1 (docker-compose.yml) racks; here it is only a Docker label "
    gen1 += "and configures nothing: "
    assert m.warnings == tuple(
        ("services.web.labels", f"{key} {gen1}{advice}")
        for key, advice in [
            ("convox.health.path", "use health.path"),
            ("convox.port.443.protocol", "use port: https:443 if the process speaks HTTPS"),
            ("convox.deployment.minimum", "use deployment.minimum"),
            ("convox.health.threshold.healthy", "paaskit counts 2 checks healthy, 3 unhealthy"),
            (
                "convox.port.443.proxy",
                "the rack's load balancer ends TLS and adds X-Forwarded-For",
            ),
            ("convox.something", "remove it, or see docs/convox.md"),
        ]
    )
    assert problems({"services": {"web": {"labels": ["novalue"]}}}) == {
        "services.web.labels": 'expected key=value (got "novalue")'
    }
    assert problems({"labels": "a=b", "services": {"web": {}}}) == {
        "labels": 'expected a mapping or a list of key=value (got "a=b")'
    }


@pytest.mark.parametrize(
    ("key", "advice"),
    [
        ("convox.agent", "use agent: true"),
        ("convox.balancer", "a service without a port gets no load balancer"),
        ("convox.cron.myjob", "use timers"),
        ("convox.deployment.maximum", "use deployment.maximum"),
        ("convox.draining.timeout", "use drain"),
        ("convox.environment.secure", "settings always reach processes as ECS secrets"),
        ("convox.health.interval", "use health.interval"),
        ("convox.health.timeout", "use health.timeout"),
        ("convox.health.port", "the load balancer checks the port it sends traffic to"),
        ("convox.health.threshold.unhealthy", "paaskit counts 2 checks healthy, 3 unhealthy"),
        ("convox.idle.timeout", "use timeout"),
        ("convox.port.80.secure", "the rack's load balancer ends TLS and adds X-Forwarded-For"),
        ("convox.start.shift", "convox start has no paaskit equivalent"),
        ("convox.cron.a.b", "remove it, or see docs/convox.md"),
        ("convox.health.paths", "remove it, or see docs/convox.md"),
    ],
)
def test_every_gen1_label_names_what_replaces_it(key: str, advice: str) -> None:
    m = parse_manifest({"services": {"web": {"labels": {key: "1"}}}})
    assert [message.split("configures nothing: ", 1)[1] for _, message in m.warnings] == [advice]


def test_volumes_timeouts_and_docker_compose_keys() -> None:
    assert service({"volumes": []}).volumes == ()
    assert service({"volumes": None}).volumes == ()
    assert [v.kind for v in service({"volumes": ["/data"]}).volumes] == ["service"]
    assert problems({"services": {"web": {"volumes": "/data"}}}) == {
        "services.web.volumes": 'expected a list of volumes (got "/data")'
    }
    assert service({"port": 80, "timeout": 120}).timeout == 120
    assert service({}).timeout is None
    assert problems({"services": {"web": {"port": 80, "timeout": 181}}}) == {
        "services.web.timeout": "must be at most 180 (got 181)"
    }
    assert problems({"services": {"web": {"entrypoint": "x", "expose": [80]}}}) == {
        "services.web.entrypoint": "not supported by paaskit: a docker-compose key (Convox Gen1): "
        "the image's ENTRYPOINT runs; set it in the Dockerfile",
        "services.web.expose": "not supported by paaskit: a docker-compose key (Convox Gen1): "
        "use port",
    }


def test_app_settings_give_the_log_retention_as_convox_rounds_it() -> None:
    def logs(settings: Any) -> Any:
        return parse_manifest({"appSettings": settings, "services": {"web": {}}}).app_settings

    assert logs({"awsLogs": {"cwRetention": 31}}).aws_logs.retention(30) == 60
    assert logs({"awsLogs": {"cwRetention": "7"}}).aws_logs.retention(30) == 7
    assert logs({"awsLogs": {"cwRetention": 3653}}).aws_logs.retention(30) == 3653
    assert logs({"awsLogs": {"disableRetention": False}}).aws_logs.retention(30) == 30
    assert (
        logs({"awsLogs": {"cwRetention": 7, "disableRetention": True}}).aws_logs.retention(30)
        is None
    )
    assert logs(None).aws_logs.retention(14) == 14
    assert problems({"appSettings": {"awsLogs": {"cwRetention": 3654}}, "services": {"w": {}}}) == {
        "appSettings.awsLogs.cwRetention": "expected 1 to 3653 days (got 3654)"
    }
    assert problems({"appSettings": {"awsLogs": {"cwRetention": 0}}, "services": {"w": {}}}) == {
        "appSettings.awsLogs.cwRetention": "expected 1 to 3653 days (got 0)"
    }


def test_a_test_command_is_read_and_warned_about() -> None:
    m = parse_manifest({"services": {"web": {"test": "make test"}}})
    assert m.services["web"].test == "make test"
    assert m.warnings == (
        (
            "services.web.test",
            "paaskit runs no tests (`convox test`): run them in CI; this key does nothing",
        ),
    )


@pytest.mark.parametrize("spec", [{"image": None}, {"build": None}, {"image": None, "build": None}])
def test_an_image_or_build_written_empty_is_built_from_the_apps_folder(spec) -> None:
    # As when neither is written (Convox's reading of `image:`); it once made a service with
    # neither, and the App stopped on an assertion.
    web = service({**spec, "port": 80})
    assert web.image is None
    assert web.build is not None
    assert (web.build.path, web.build.manifest) == (".", "Dockerfile")


def test_build_and_image() -> None:

    assert service({"build": "./api"}).build == service({"build": {"path": "./api"}}).build
    built = service({"build": {"manifest": "docker/Dockerfile", "args": ["A", "B=2"]}}).build
    assert built is not None
    assert (built.path, built.manifest, [(a.name, a.value) for a in built.args]) == (
        ".",
        "docker/Dockerfile",
        [("A", None), ("B", "2")],
    )
    imaged = service({"image": "nginx:1.27"})
    assert (imaged.image, imaged.build) == ("nginx:1.27", None)
    assert problems({"services": {"web": {"image": "x", "build": "."}}}) == {
        "services.web.image": "use either image or build, not both"
    }
    assert problems({"services": {"web": {"build": "/srv/app"}}}) == {
        "services.web.build.path": 'must be relative to the manifest\'s folder (got "/srv/app")'
    }


def test_command_strings_are_split_or_run_by_sh_and_lists_run_as_is() -> None:
    assert service({"command": "bin/web --port $PORT"}).command_argv() == (
        "/bin/sh",
        "-c",
        "exec bin/web --port $PORT",
    )
    assert service({"command": "bin/web --port 80"}).command_argv() == ("bin/web", "--port", "80")
    assert service({"command": ["bin/web", "--port", "80"]}).command_argv() == (
        "bin/web",
        "--port",
        "80",
    )
    assert service({"release": ["python", "manage.py", "migrate"]}).release_argv() == (
        "python",
        "manage.py",
        "migrate",
    )
    assert problems({"services": {"web": {"command": ["ok", 3]}}}) == {
        "services.web.command": "expected a command string or a non-empty list of strings "
        "(got a list)"
    }
    assert problems({"services": {"web": {"release": "  "}}}) == {
        "services.web.release": "must not be empty"
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("example.com", ("example.com",)),
        ("A.example.com, b.example.com,", ("a.example.com", "b.example.com")),
        (["x.example.com", "*.example.com", "x.example.com"], ("x.example.com", "*.example.com")),
        ("example.com.", ("example.com",)),
        ("", ()),
    ],
)
def test_domains(value: Any, expected: tuple[str, ...]) -> None:
    assert service({"port": 80, "domain": value}).domain == expected


def test_bad_domains() -> None:
    assert problems({"services": {"web": {"port": 80, "domain": "not a domain"}}}) == {
        "services.web.domain": 'not a domain name: "not a domain"'
    }
    assert problems({"services": {"web": {"domain": "example.com"}}}) == {
        "services.web.domain": "a domain routes to a port: set port"
    }
    assert problems(
        {"services": {"a": {"port": 80, "domain": "x.io"}, "b": {"port": 80, "domain": "x.io"}}}
    ) == {"services.b.domain": "x.io is already routed to service a"}


def test_termination_deployment_drain_and_bounds() -> None:
    web = service({"termination": {"grace": 90}, "deployment": {"minimum": 100}, "drain": 0})
    assert (web.termination.grace, web.deployment.minimum, web.deployment.maximum, web.drain) == (
        90,
        100,
        200,
        0,
    )
    assert problems(
        {
            "services": {
                "web": {
                    "termination": {"grace": 300},
                    "deployment": {"minimum": -1, "maximum": 300},
                }
            }
        }
    ) == {
        "services.web.termination.grace": "must be at most 120 (got 300)",
        "services.web.deployment.minimum": "must be at least 0 (got -1)",
        "services.web.deployment.maximum": "must be at most 200 (got 300)",
    }


def test_agents_and_singletons() -> None:
    agent = service({"agent": True, "scale": {"cpu": 128, "memory": 256}})
    assert agent.agent.enabled
    assert (agent.deployment.minimum, agent.deployment.maximum) == (0, 100)
    assert service({"agent": {"enabled": False}}).agent.enabled is False
    assert service({"agent": {"ports": [8125]}}).agent.enabled is True
    singleton = service({"singleton": True, "deployment": {"maximum": 150}})
    assert (singleton.deployment.minimum, singleton.deployment.maximum) == (0, 150)
    assert problems({"services": {"web": {"agent": True, "port": 80, "scale": 2}}}) == {
        "services.web.port": "an agent runs on every instance and takes no load-balanced "
        "traffic: remove port",
        "services.web.scale.count": "an agent runs one process per instance: remove scale.count "
        "and scale.targets (cpu and memory may stay)",
    }
    assert problems({"services": {"web": {"singleton": True, "scale": "1-3"}}}) == {
        "services.web.scale.count": "a singleton runs at most one process (count is 1-3)"
    }
    assert problems({"services": {"web": {"agent": {"ports": ["8125/sctp"]}}}}) == {
        "services.web.agent.ports[0].protocol": "expected one of 'tcp' or 'udp' (got \"sctp\")"
    }


def test_static_files() -> None:
    assert (
        service({"port": 80, "static": "public"}).static
        == service({"port": 80, "static": {"path": "public", "prefix": "/static"}}).static
    )
    assert (
        service({"port": 80, "static": {"path": "dist", "prefix": "/assets/v1/"}}).static
        is not None
    )
    assert problems(
        {"services": {"web": {"port": 80, "static": {"path": "s", "prefix": "static"}}}}
    ) == {
        "services.web.static.prefix": "expected a URL path such as /static: segments of letters, "
        'digits and . _ ~ -, not / alone (got "static")'
    }
    for prefix in ("/", "/a//b", "/a/../b", "/a b"):
        assert "services.web.static.prefix" in problems(
            {"services": {"web": {"port": 80, "static": {"path": "s", "prefix": prefix}}}}
        )
    assert problems({"services": {"web": {"port": 80, "static": "../shared"}}}) == {
        "services.web.static.path": 'must stay inside the manifest\'s folder (got "../shared")'
    }
    assert problems({"services": {"web": {"static": "public"}}}) == {
        "services.web.static": "static files are served beside a web service: it needs a port and "
        "must not be internal"
    }
    assert problems(
        {
            "services": {
                "a": {"port": 80, "static": "a"},
                "b": {"port": 80, "static": {"path": "b", "prefix": "/static/"}},
            }
        }
    ) == {"services.b.static.prefix": "/static is already used by service a"}


def test_policies_links_sticky_and_resources() -> None:
    assert problems({"services": {"web": {"policies": ["arn:aws:iam::aws:role/Admin"]}}}) == {
        "services.web.policies": "expected an IAM policy ARN such as "
        'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess (got "arn:aws:iam::aws:role/Admin")'
    }
    assert service({"policies": "arn:aws-us-gov:iam::123456789012:policy/x"}).policies == (
        "arn:aws-us-gov:iam::123456789012:policy/x",
    )
    assert problems({"services": {"web": {"sticky": True}}}) == {
        "services.web.sticky": "sticky sessions need a port behind the load balancer"
    }
    assert problems(
        {
            "resources": {"db": {"type": "postgres"}},
            "services": {"web": {"links": ["web", "api"], "resources": ["db", "cache"]}},
        }
    ) == {
        "services.web.resources[1]": 'no resource named "cache" (declared: db)',
        "services.web.links[0]": "a service cannot link to itself",
        "services.web.links[1]": 'no service named "api"',
    }


def test_resource_links_inject_convox_variable_names() -> None:
    m = parse_manifest(
        {
            "resources": {"main-db": {"type": "postgres"}},
            "services": {"web": {"resources": ["main-db", "main-db:OTHER_URL"]}},
        }
    )
    plain, renamed = m.services["web"].resources
    assert plain.env_names == {
        "url": "MAIN_DB_URL",
        "user": "MAIN_DB_USER",
        "pass": "MAIN_DB_PASS",
        "host": "MAIN_DB_HOST",
        "port": "MAIN_DB_PORT",
        "name": "MAIN_DB_NAME",
    }
    assert renamed.env_names == {"url": "OTHER_URL"}
    assert list(m.linked_resources("web")) == ["main-db"]
    assert problems(
        {
            "resources": {"db": {"type": "postgres"}},
            "services": {"web": {"resources": ["db:bad-name"]}},
        }
    ) == {"services.web.resources[0]": 'expected name or name:ENV_NAME (got "db:bad-name")'}


# --------------------------------------------------------------------------- resources


SUPPORTED = (
    "postgres, rds-postgres, mysql, rds-mysql, mariadb, rds-mariadb, redis, elasticache-redis, "
    "valkey, memcached, elasticache-memcached"
)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("postgres", "postgres"),
        ("RDS-Postgres", "postgres"),
        ("mysql", "mysql"),
        ("rds-mysql", "mysql"),
        ("mariadb", "mariadb"),
        ("rds-mariadb", "mariadb"),
        ("redis", "redis"),
        ("elasticache-redis", "redis"),
        ("valkey", "redis"),
        ("memcached", "memcached"),
        ("elasticache-memcached", "memcached"),
    ],
)
def test_every_convox_type_of_a_resource_paaskit_makes_reads_as_its_kind(
    kind: str, expected: str
) -> None:
    m = parse_manifest({"resources": {"r": {"type": kind}}, "services": {"web": {}}})
    assert m.resources["r"].kind == expected


@pytest.mark.parametrize(
    ("kind", "why"),
    [
        ("postgis", "PostGIS is an extension of RDS PostgreSQL: use type postgres"),
        ("rds-postgis", "PostGIS is an extension of RDS PostgreSQL: use type postgres"),
        ("s3", "S3 buckets as resources are not supported yet"),
        ("efs", "EFS resources are not supported (persistent storage is a service's volumes)"),
    ],
)
def test_convox_types_paaskit_refuses_say_why_and_what_it_supports(kind: str, why: str) -> None:
    (message,) = problems({"resources": {"r": {"type": kind}}, "services": {"web": {}}}).values()
    assert message.startswith(f'"{kind}" is not supported by paaskit: {why}')
    assert message.endswith(f"(supported: {SUPPORTED})")


def test_resource_type_must_be_known_and_given() -> None:
    assert problems(
        {"resources": {"x": {"type": "oracle"}, "y": {}, "z": {"type": 3}}, "services": {"web": {}}}
    ) == {
        "resources.x.type": f'unknown resource type "oracle" (supported: {SUPPORTED})',
        "resources.y.type": f"required: one of {SUPPORTED}",
        "resources.z.type": f"expected one of {SUPPORTED} (got 3)",
    }


def test_postgres_options_use_convox_names_and_yaml_numbers() -> None:
    m = parse_manifest(
        """
resources:
  db:
    type: RDS-Postgres
    options:
      version: 16
      class: db.r6g.large
      durable: "true"
      encrypted: true
      deletionProtection: false
      iops: 3000
      allowMajorVersionUpgrade: yes
services:
  web: {}
"""
    )
    options = m.resources["db"].options
    assert isinstance(options, PostgresOptions)
    assert m.resources["db"].type == "rds-postgres"
    assert (options.version, options.instance_class, options.durable, options.iops) == (
        "16",
        "db.r6g.large",
        True,
        3000,
    )
    assert (options.deletion_protection, options.allow_major_version_upgrade) == (False, True)


def test_bad_postgres_options() -> None:
    options = {
        "version": "latest",
        "class": "t3.micro",
        "storage": 10,
        "backupRetentionPeriod": 40,
        "preferredBackupWindow": "02:00-02:15",
        "preferredMaintenanceWindow": "sunday 5am",
        "deletionprotection": True,
        "masterUserPassword": "hunter2",
    }
    assert problems(
        {"resources": {"db": {"type": "postgres", "options": options}}, "services": {"web": {}}}
    ) == {
        "resources.db.options.version": "expected a PostgreSQL version such as 16 or 16.4 "
        '(got "latest")',
        "resources.db.options.class": "expected an RDS instance class such as db.t4g.micro "
        '(got "t3.micro")',
        "resources.db.options.storage": "must be at least 20 (got 10)",
        "resources.db.options.backupRetentionPeriod": "must be at most 35 (got 40)",
        "resources.db.options.preferredBackupWindow": "must be at least 30 minutes long "
        '(got "02:00-02:15")',
        "resources.db.options.preferredMaintenanceWindow": "expected ddd:hh:mm-ddd:hh:mm in UTC, "
        'such as sun:05:00-sun:06:00 (got "sunday 5am")',
        "resources.db.options.deletionprotection": "unknown key "
        '(did you mean "deletionProtection"?)',
        "resources.db.options.masterUserPassword": "not supported by paaskit: the password is "
        "generated and kept in Secrets Manager; it is never written in a manifest",
    }


def test_mysql_options_take_convox_names_and_leave_the_version_to_the_engine() -> None:
    m = parse_manifest(
        """
resources:
  main:
    type: mysql
    options: {version: 8.0.35, storage: 20, class: db.t4g.small, durable: true}
  maria:
    type: rds-mariadb
    options: {version: 10.11}
  plain:
    type: mariadb
services:
  web: {}
"""
    )
    main, maria, plain = (m.resources[n].options for n in ("main", "maria", "plain"))
    assert isinstance(main, MysqlOptions)
    assert (main.version, main.instance_class, main.durable, main.port) == (
        "8.0.35",
        "db.t4g.small",
        True,
        3306,
    )
    # YAML reads 10.11 as the number 10.11: the version as written.
    assert maria.version == "10.11"
    assert plain.version is None  # the engine's newest major, chosen by the Database
    assert (m.resources["main"].kind, m.resources["maria"].kind) == ("mysql", "mariadb")


def test_bad_mysql_options_name_their_keys() -> None:
    options = {"version": 8, "shared": True, "port": 80, "masterUserPassword": "x"}
    assert problems(
        {"resources": {"db": {"type": "mysql", "options": options}}, "services": {"web": {}}}
    ) == {
        "resources.db.options.version": "expected a MySQL or MariaDB version such as 8.4 or "
        "11.8.3 (got 8)",
        "resources.db.options.shared": "not supported by paaskit: the rack's shared database is "
        "PostgreSQL: a mysql or mariadb resource is the app's own",
        "resources.db.options.port": "must be at least 1150 (got 80)",
        "resources.db.options.masterUserPassword": "not supported by paaskit: the password is "
        "generated and kept in Secrets Manager; it is never written in a manifest",
    }


def test_redis_options_take_convox_names_and_valkey_runs_valkey() -> None:
    m = parse_manifest(
        """
resources:
  cache:
    type: elasticache-redis
    options: {class: cache.m7g.large, version: 7.1, durable: yes, nodes: 3}
  queue:
    type: valkey
services:
  web: {}
"""
    )
    cache, queue = m.resources["cache"].options, m.resources["queue"].options
    assert isinstance(cache, RedisOptions)
    assert (cache.instance_class, cache.version, cache.durable, cache.nodes) == (
        "cache.m7g.large",
        "7.1",
        True,
        3,
    )
    assert cache.engine is None  # Redis OSS, read from its version by the App
    assert isinstance(queue, RedisOptions)
    assert (queue.engine, m.resources["queue"].kind) == ("valkey", "redis")


def test_bad_redis_options_name_their_keys() -> None:
    data = {
        "resources": {
            "cache": {
                "type": "redis",
                "options": {"clas": "cache.t4g.micro", "nodes": 9, "password": "x", "engine": "x"},
            },
            "v": {"type": "valkey", "options": {"engine": "redis"}},
            "odd": {"type": "redis", "options": {"class": "db.t4g.micro"}},
        },
        "services": {"web": {}},
    }
    assert problems(data) == {
        "resources.cache.options.clas": 'unknown key (did you mean "class"?)',
        "resources.cache.options.nodes": "must be at most 6 (got 9)",
        "resources.cache.options.password": "not supported by paaskit: the AUTH token is "
        "generated by the app's deploy runner and kept in Secrets Manager; it is never written "
        "in a manifest",
        "resources.cache.options.engine": "expected one of 'valkey' or 'redis' (got \"x\")",
        "resources.v.options.engine": 'a valkey resource runs Valkey (got "redis")',
        "resources.odd.options.class": "expected an ElastiCache node type such as "
        'cache.t4g.micro (got "db.t4g.micro")',
    }


def test_memcached_options_take_convox_names_and_refuse_durable() -> None:
    m = parse_manifest(
        "resources:\n  s:\n    type: memcached\n    options: {version: 1.6, nodes: 3}\n"
        "services:\n  web: {}\n"
    )
    options = m.resources["s"].options
    assert isinstance(options, MemcachedOptions)
    assert (options.version, options.nodes, options.transit_encryption) == ("1.6", 3, True)
    assert options.deletion_protection is False
    assert options.ignored == []
    assert problems(
        {
            "resources": {"s": {"type": "memcached", "options": {"durable": True, "nodes": 41}}},
            "services": {"web": {}},
        }
    ) == {
        "resources.s.options.durable": "not supported by paaskit: Memcached has no replicas to "
        "fail over to; spread its keys over nodes in several zones with nodes: 2 or more",
        "resources.s.options.nodes": "must be at most 40 (got 41)",
    }


# --------------------------------------------------------------------------- timers


@pytest.mark.parametrize(
    ("schedule", "expression"),
    [
        ("0 3 * * *", "cron(0 3 * * ? *)"),
        ("*/5 * * * ?", "cron(0/5 * * * ? *)"),
        ("0 3 * * ? *", "cron(0 3 * * ? *)"),
        ("0 3 ? * MON *", "cron(0 3 ? * MON *)"),
        ("0 9 * * 1-5", "cron(0 9 ? * MON-FRI *)"),
        ("0 9 * * 0,6", "cron(0 9 ? * SUN,SAT *)"),
        ("0 9 * * 7", "cron(0 9 ? * SUN *)"),
        ("0 0 * * */2", "cron(0 0 ? * SUN,TUE,THU,SAT *)"),
        ("15,45 */6 1 * *", "cron(15,45 0/6 1 * ? *)"),
        ("0 0 1,15 JAN,JUL *", "cron(0 0 1,15 1,7 ? *)"),
        ("30 2 * * sun", "cron(30 2 ? * SUN *)"),
        ("0-10 * * * *", "cron(0-10 * * * ? *)"),
        ("@hourly", "cron(0 * * * ? *)"),
        ("@weekly", "cron(0 0 ? * SUN *)"),
        ("@monthly", "cron(0 0 1 * ? *)"),
        # The shortest form of each set: a step, a run, or a list.
        ("0,20,40 * * * *", "cron(0/20 * * * ? *)"),
        ("1,30,59 * * * *", "cron(1/29 * * * ? *)"),
        ("*/2 * * * *", "cron(0/2 * * * ? *)"),
        ("5-59 * * * *", "cron(5-59 * * * ? *)"),
        ("* 3 * * *", "cron(* 3 * * ? *)"),
    ],
)
def test_cron_schedules_convert_to_aws(schedule: str, expression: str) -> None:
    assert aws_cron_expression(schedule) == expression
    timers = {"t": {"schedule": schedule, "command": "x", "service": "web"}}
    assert (
        parse_manifest({"services": {"web": {}}, "timers": timers})
        .timers["t"]
        .aws_schedule_expression()
        == expression
    )


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ("0 3 * *", "expected 5 fields"),
        ("60 * * * *", "minute: 60 is outside 0-59"),
        ("0 24 * * *", "hour: 24 is outside 0-23"),
        ("0 0 0 * *", "day of month: 0 is outside 1-31"),
        ("0 0 * 13 *", "month: 13 is outside 1-12"),
        ("0 0 * * 8", "day of week: 8 is outside 0-7"),
        ("0 0 5-2 * *", 'day of month: range "5-2" runs backwards'),
        ("*/0 * * * *", 'minute: step "0" must be a number from 1'),
        ("? * * * *", "minute: ? is only allowed for the day of month or week"),
        ("0 0 * * FUN", 'day of week: "FUN" is not a number or a name'),
        ("0 3 1 * MON", "a day of month and a day of week together mean either one"),
        ("0 3 ? * 1", "write the day of week as names such as MON-FRI"),
        ("0 3 * * ? 2030", 'the year field must be * (got "2030")'),
        ("0 0 1,,2 * *", "day of month: empty item"),
        ("0 3 * * 1 *", "write the day of week as names such as MON-FRI"),
        ("0 0 * * 7/2", 'day of week: "7/2" matches nothing'),
    ],
)
def test_bad_cron_schedules(schedule: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        aws_cron_expression(schedule)
    timers = {"t": {"schedule": schedule, "command": "x", "service": "web"}}
    found = problems({"services": {"web": {}}, "timers": timers})
    assert list(found) == ["timers.t.schedule"]
    assert message in found["timers.t.schedule"]


_CRON_ITEM = {
    "minute": st.integers(0, 59).map(str),
    "hour": st.integers(0, 23).map(str),
    "dom": st.integers(1, 31).map(str),
    "month": st.integers(1, 12).map(str),
    "dow": st.integers(0, 7).map(str),
}


@given(
    minute=st.one_of(
        st.just("*"), _CRON_ITEM["minute"], st.integers(1, 30).map(lambda s: f"*/{s}")
    ),
    hour=st.one_of(st.just("*"), _CRON_ITEM["hour"]),
    month=st.one_of(st.just("*"), _CRON_ITEM["month"]),
    day=st.one_of(
        st.tuples(st.just("*"), st.just("*")),
        st.tuples(_CRON_ITEM["dom"], st.just("*")),
        st.tuples(st.just("*"), _CRON_ITEM["dow"]),
    ),
)
def test_every_crontab_schedule_gives_one_question_mark(
    minute: str, hour: str, month: str, day: tuple[str, str]
) -> None:
    expression = aws_cron_expression(f"{minute} {hour} {day[0]} {month} {day[1]}")
    fields = expression.removeprefix("cron(").removesuffix(")").split(" ")
    assert (len(fields), fields[5]) == (6, "*")
    assert [fields[2], fields[4]].count("?") == 1


def test_timers_must_name_a_service_and_give_a_command() -> None:
    found = problems(
        {
            "services": {"web": {}},
            "timers": {"t": {"schedule": "@daily", "service": "worker", "command": "x"}},
        }
    )
    assert found == {"timers.t.service": 'no service named "worker" (services: web)'}
    assert problems({"services": {"web": {}}, "timers": {"t": {"schedule": "@daily"}}}) == {
        "timers.t.command": "required",
        "timers.t.service": "required",
    }
    assert problems(
        {
            "services": {"web": {}},
            "timers": {
                "t": {
                    "schedule": "@daily",
                    "command": "x",
                    "service": "web",
                    "concurrency": "Forbid",
                }
            },
        }
    ) == {"timers.t.concurrency": "not supported by paaskit: a Kubernetes (Convox v3) feature"}


# --------------------------------------------------------------------------- names and keys


@pytest.mark.parametrize("name", ["Web", "web_1", "1web", "web-", "w" * 64])
def test_names_must_be_dns_labels(name: str) -> None:
    found = problems({"services": {name: {}}})
    assert found == {
        f"services.{name}": f'invalid name "{name}": use 1-63 lower-case letters, digits and '
        "dashes, starting with a letter and not ending with a dash (it becomes a host name)"
    }


def test_keys_yaml_reads_as_booleans_or_numbers_are_explained() -> None:
    hint = (
        "rather than a name: quote it (YAML reads on, off, yes, no, true and false as "
        "booleans, and digits as numbers)"
    )
    assert problems("services:\n  on: {}\n") == {"services": f"a key reads as true {hint}"}
    assert problems("services: {web: {}}\n1: 2\n") == {"": f"a key reads as 1 {hint}"}
    assert problems("services:\n  web: {1: x}\n") == {"services.web": f"a key reads as 1 {hint}"}
    # Every problem is reported, whatever comes first.
    assert problems(
        "services:\n  on: {}\n  web: {port: nope}\n  api: {agent: true, port: 80}\n"
        "  db: {1: x}\n  jobs: {drain: soon}\n"
    ) == {
        "services": f"a key reads as true {hint}",
        "services.web.port": 'expected a port, scheme:port or a mapping (got "nope")',
        "services.api.port": "an agent runs on every instance and takes no load-balanced "
        "traffic: remove port",
        "services.db": f"a key reads as 1 {hint}",
        "services.jobs.drain": 'expected a whole number (got "soon")',
    }


def test_unknown_keys_suggest_the_close_one_or_list_them() -> None:
    assert problems({"services": {"web": {"environmnet": []}}}) == {
        "services.web.environmnet": 'unknown key (did you mean "environment"?)'
    }
    assert problems({"services": {"web": {"scale": {"Count": 2}}}}) == {
        "services.web.scale.Count": 'unknown key (did you mean "count"?)'
    }
    assert problems({"services": {"web": {"port": 80, "zzz": 1}}}) == {
        "services.web.zzz": "unknown key (expected one of: agent, build, command, deployment, "
        "domain, drain, environment, health, image, init, internal, labels, links, policies, "
        "port, ports, privileged, release, resources, scale, singleton, static, sticky, "
        "termination, test, timeout, volumes)"
    }
    assert problems({"balancers": {}, "services": {"web": {"tls": {"redirect": True}}}}) == {
        "balancers": "not supported by paaskit: custom balancers are not supported yet",
        "services.web.tls": "not supported by paaskit: HTTP is always redirected to HTTPS at the "
        "rack's load balancer",
    }


def test_type_errors_name_the_key_and_value() -> None:
    assert problems({"services": {"web": {"drain": True, "init": 1, "scale": {"count": 1.5}}}}) == {
        "services.web.drain": "expected a whole number (got true)",
        "services.web.init": "expected true or false (got 1)",
        "services.web.scale.count": 'expected a count, "min-max" or a mapping of min and max '
        "(got 1.5)",
    }
    assert problems({"services": ["web"]}) == {"services": "expected a mapping (got a list)"}
    assert problems({"services": {"web": "yes"}}) == {
        "services.web": 'expected a mapping of service settings (got "yes")'
    }


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers(-5, 70000) | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=8,
    )
)
def test_any_service_value_parses_or_fails_with_manifest_error(value: Any) -> None:
    try:
        parse_manifest({"services": {"web": value}})
    except ManifestError as error:
        found = error.problems
    else:
        return
    assert found
    assert all(path.startswith("services") for path, _ in found)


# --------------------------------------------------------------------------- interpolation


def test_interpolation_uses_the_given_values() -> None:
    text = (
        "services:\n  web:\n    port: ${PORT}\n    scale: ${COUNT}\n"
        "    domain: ${HOST}\n    internal: ${INTERNAL}\n"
    )
    web = parse_manifest(
        text, env={"PORT": "8080", "COUNT": "3", "HOST": "a.example.com", "INTERNAL": "false"}
    ).services["web"]
    assert web.port is not None
    assert (web.port.port, web.scale.min, web.domain, web.internal) == (
        8080,
        3,
        ("a.example.com",),
        False,
    )
    # Convox's empty-string behaviour, asked for explicitly: no custom domain.
    assert (
        parse_manifest(text, env={"PORT": "1", "COUNT": "1", "HOST": "", "INTERNAL": "no"})
        .services["web"]
        .domain
        == ()
    )


def test_unset_variables_read_as_empty_with_a_warning_naming_the_setting() -> None:
    text = (
        "services:\n  web:\n    port: ${PORT}\n    domain: ${HOST}\n    internal: ${INTERNAL}\n"
        "    command: bin/web --name=${NAME}x\n"
        "    environment:\n      - A\n      - ${EXTRA}\n      - URL=https://${HOST}/\n"
    )
    m = parse_manifest(text, env={"INTERNAL": ""}, env_setting="paaskit-app:environment")
    web = m.services["web"]
    # As Convox's YAML reads `port: ${PORT}` with PORT unset: no port, no domain, not internal.
    assert (web.port, web.domain, web.internal) == (None, (), False)
    assert web.command == "bin/web --name=x"
    assert [(v.name, v.default) for v in web.environment] == [("A", None), ("URL", "https:///")]
    assert m.warnings == (
        (
            "services.web.port",
            "${PORT} is not set, so the key is left out (Convox reads an empty value): "
            "set paaskit-app:environment.PORT",
        ),
        (
            "services.web.domain",
            "${HOST} is not set, so the key is left out (Convox reads an empty value): "
            "set paaskit-app:environment.HOST",
        ),
        (
            "services.web.command",
            "${NAME} is not set, so it reads as empty (as in Convox): "
            "set paaskit-app:environment.NAME",
        ),
        (
            "services.web.environment[1]",
            "${EXTRA} is not set, so the key is left out (Convox reads an empty value): "
            "set paaskit-app:environment.EXTRA",
        ),
        (
            "services.web.environment[2]",
            "${HOST} is not set, so it reads as empty (as in Convox): "
            "set paaskit-app:environment.HOST",
        ),
    )
    # A value set to empty is Convox's empty value too, without a warning.
    assert m.interpolated == {"PORT", "HOST", "INTERNAL", "NAME", "EXTRA"}
    assert parse_manifest("services: {web: {command: '${X}'}}").warnings == (
        (
            "services.web.command",
            "${X} is not set, so the key is left out (Convox reads an empty value): give X in "
            "load_manifest's env",
        ),
    )


def test_strict_interpolation_makes_an_unset_variable_a_problem() -> None:
    assert problems(
        "services:\n  web:\n    port: 80\n    domain: ${HOST}\n    command: [run, '${}']\n"
        "    scale: lots\n",
        strict=True,
        env_setting="paaskit-app:environment",
    ) == {
        "services.web.domain": "${HOST} is not set (unset variables are errors here): "
        "set paaskit-app:environment.HOST",
        "services.web.command[1]": "${} is not a variable name",
        "services.web.scale": 'expected a count, "min-max" or a mapping (got "lots")',
    }
    # A failed interpolation is one problem, not also a bad value at the same key.
    assert problems("services: {web: {port: '${1}'}}") == {
        "services.web.port": "${1} is not a variable name"
    }
    assert parse_manifest("services: {web: {port: '${P}'}}", env={"P": "80"}, strict=True)


def test_interpolated_values_never_change_the_structure() -> None:
    web = parse_manifest(
        "services:\n  web:\n    command: echo ${MSG}\n", env={"MSG": "a: b\n- c"}
    ).services["web"]
    assert web.command == "echo a: b\n- c"


# --------------------------------------------------------------------------- the docs

DOCS = Path(__file__).resolve().parent.parent / "docs"
TABLES = {
    Manifest: "Top level",
    Service: "`services.<name>`",
    Health: "`services.<name>.health`",
    Scale: "`services.<name>.scale`",
    Resource: "`resources.<name>`",
    PostgresOptions: "`resources.<name>.options` (postgres)",
    MysqlOptions: "`resources.<name>.options` (mysql, mariadb)",
    RedisOptions: "`resources.<name>.options` (redis)",
    MemcachedOptions: "`resources.<name>.options` (memcached)",
    Timer: "`timers.<name>`",
    AwsLogs: "`appSettings.awsLogs`",
}


def _models() -> list[type[Any]]:
    from paaskit.manifest import _models

    return [
        obj
        for obj in vars(_models).values()
        if isinstance(obj, type) and issubclass(obj, _models._Model) and obj is not _models._Model
    ]


@pytest.mark.parametrize("model", list(TABLES), ids=lambda m: m.__name__)
def test_docs_manifest_has_a_row_for_every_key_and_names_every_refusal(model: Any) -> None:
    text = (DOCS / "manifest.md").read_text()
    section = text.split(f"### {TABLES[model]}\n", 1)[1].split("\n### ", 1)[0]
    keys = [f.alias or name for name, f in model.model_fields.items()]
    assert [k for k in keys if f"| `{k}` |" not in section] == []
    assert [k for k in model.convox_unsupported if f"`{k}` (" not in section] == []


def test_docs_convox_names_every_key_paaskit_refuses() -> None:
    text = (DOCS / "convox.md").read_text()
    quoted = " ".join(re.findall(r"`([^`]+)`", text))
    refused = {key for model in _models() for key in model.convox_unsupported}
    assert sorted(k for k in refused if not re.search(rf"(^|[ .]){re.escape(k)}\b", quoted)) == []


# --------------------------------------------------------------------------- edges


def test_load_manifest_passes_interpolation_settings_through(tmp_path: Path) -> None:
    (tmp_path / "convox.yml").write_text("services:\n  web:\n    domain: ${HOST}\n    port: 80\n")
    assert load_manifest(tmp_path).warnings == (
        (
            "services.web.domain",
            "${HOST} is not set, so the key is left out (Convox reads an empty value): give HOST "
            "in load_manifest's env",
        ),
    )
    assert (
        load_manifest(tmp_path, env_setting="paaskit-app:environment")
        .warnings[0][1]
        .endswith("set paaskit-app:environment.HOST")
    )
    with pytest.raises(ManifestError, match=r"\$\{HOST\} is not set \(unset variables"):
        load_manifest(tmp_path, strict=True)
    assert load_manifest(tmp_path, env={"HOST": "a.example.com"}, strict=True).services[
        "web"
    ].domain == ("a.example.com",)


def test_domain_lists_skip_blanks_and_keep_to_dns_lengths() -> None:
    assert service({"port": 80, "domain": "a.example.com, ,B.EXAMPLE.BOX"}).domain == (
        "a.example.com",
        "b.example.box",
    )
    longest = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])  # 253 characters
    assert service({"port": 80, "domain": longest}).domain == (longest,)
    assert problems({"services": {"web": {"port": 80, "domain": longest + "e"}}}) == {
        "services.web.domain": f'not a domain name: "{longest}e"'
    }


def test_images_paths_and_numbers_at_their_edges() -> None:
    for bad in ("nginx latest", "-nginx"):
        assert problems({"services": {"web": {"image": bad}}}) == {
            "services.web.image": f'expected an image reference such as nginx:1.27 (got "{bad}")'
        }
    for drive in ("C:\\srv\\app", "c:/srv/app"):
        assert list(problems({"services": {"web": {"build": drive}}})) == [
            "services.web.build.path"
        ]
    assert service({"scale": {"cpu": 256.0}}).scale.cpu == 256


def test_label_values_and_keys_read_as_docker_wants_them() -> None:
    m = parse_manifest(
        {
            "labels": ["convox.agent=true"],
            "services": {"web": {"labels": ["a=b=c", "empty="], "scale": 1}},
        }
    )
    assert m.service_labels("web") == {"convox.agent": "true", "a": "b=c", "empty": ""}
    flags = parse_manifest({"services": {"web": {"labels": {"on": False, "none": None}}}})
    assert flags.service_labels("web") == {"on": "false", "none": ""}
    assert [path for path, _ in m.warnings] == ["labels"]
    for bad in ({"": "x"}, {" ": "x"}, {1: "x"}):
        assert list(problems({"services": {"web": {"labels": bad}}})) == ["services.web.labels"]


def test_singletons_and_agents_exclude_each_other() -> None:
    assert problems({"services": {"web": {"agent": True, "singleton": True}}}) == {
        "services.web.singleton": "an agent runs on every instance: it cannot also be a singleton"
    }
    assert problems({"services": {"web": {"singleton": True, "scale": 2}}}) == {
        "services.web.scale.count": "a singleton runs at most one process (count is 2)"
    }


def test_a_timers_command_is_an_argv() -> None:
    m = parse_manifest(
        {
            "services": {"worker": {}},
            "timers": {
                "a": {"schedule": "@daily", "command": "bin/a --x", "service": "worker"},
                "b": {"schedule": "@daily", "command": ["bin/b", "--x"], "service": "worker"},
            },
        }
    )
    # paaskit.command's rule: plain words are split, shell syntax goes through /bin/sh.
    assert m.timers["a"].command_argv() == ("bin/a", "--x")
    assert m.timers["b"].command_argv() == ("bin/b", "--x")


def test_environment_order_and_the_file_a_missing_setting_is_named_in() -> None:
    m = parse_manifest(
        {
            "environment": ["A=1", "B=2", "C=3"],
            "services": {"web": {"environment": ["A=4", "D"]}},
        },
        source="app/convox.yml",
    )
    assert list(m.service_environment("web").variables) == ["B", "C", "A", "D"]
    with pytest.raises(ManifestError) as caught:
        m.resolve_environment("web", {})
    assert str(caught.value) == "app/convox.yml: services.web.environment: required but not set: D"


def test_unknown_keys_are_matched_whatever_their_case_or_alias() -> None:
    assert problems({"services": {"web": {"PORT": 80}}}) == {
        "services.web.PORT": 'unknown key (did you mean "port"?)'
    }
    assert problems({"appSettings": {"awsLogs": {"cwretention": 7}}, "services": {"w": {}}}) == {
        "appSettings.awsLogs.cwretention": 'unknown key (did you mean "cwRetention"?)'
    }


def test_a_log_retention_of_one_day_is_one_day() -> None:
    m = parse_manifest({"appSettings": {"awsLogs": {"cwRetention": 1}}, "services": {"w": {}}})
    assert m.app_settings.aws_logs.retention(30) == 1


# --------------------------------------------------------------------------- volumes, ports, links


@pytest.mark.parametrize(
    ("written", "kind", "source", "path", "read_only"),
    [
        ("/data", "service", None, "/data", False),
        ("/data/", "service", None, "/data", False),
        ("/data:ro", "service", None, "/data", True),
        ("media:/srv/media", "shared", "media", "/srv/media", False),
        ("/opt/agent/run:/opt/agent/run:rw", "shared", "/opt/agent/run", "/opt/agent/run", False),
        (
            "/var/run/docker.sock:/var/run/docker.sock:ro",
            "host",
            "/var/run/docker.sock",
            "/var/run/docker.sock",
            True,
        ),
        # Convox matched `/proc/` only as written; both spellings are the node's here.
        ("/proc/:/host/proc/", "host", "/proc", "/host/proc", False),
        ("/proc:/host/proc", "host", "/proc", "/host/proc", False),
        ("/cgroup/:/host/sys/fs/cgroup/", "host", "/cgroup", "/host/sys/fs/cgroup", False),
    ],
)
def test_a_volume_reads_as_convox_and_docker_write_it(written, kind, source, path, read_only):
    volume = service({"agent": True, "volumes": [written]}).volumes[0]
    assert (volume.kind, volume.source, volume.path, volume.read_only) == (
        kind,
        source,
        path,
        read_only,
    )


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("data", '"data" is not a path to mount at'),
        ("/a:/", '"/" is not a path to mount at'),
        ("/a/../b", '"/a/../b" is not a path to mount at'),
        ("/a:/b:z", '"z" is not a mode: ro or rw'),
        ("a:b:c:d", "expected a path, name:path or host:path"),
        ("my files:/x", '"my files" is neither a path nor a volume name'),
        ("", "must not be empty"),
    ],
)
def test_a_volume_that_is_not_one_says_why(written, message):
    found = problems({"services": {"web": {"volumes": [written]}}})
    assert list(found) == ["services.web.volumes[0]"]
    assert found["services.web.volumes[0]"].startswith(message)


def test_the_nodes_paths_and_privileged_are_for_agents_reported_with_every_other_problem():
    found = problems(
        {
            "services": {
                "web": {
                    "drain": "soon",
                    "privileged": True,
                    "volumes": ["/var/run/docker.sock:/var/run/docker.sock", "/d", "/d/:ro"],
                }
            }
        }
    )
    assert sorted(found) == [
        "services.web.drain",
        "services.web.privileged",
        "services.web.volumes[0]",
        "services.web.volumes[2]",
    ]
    assert found["services.web.privileged"].startswith(
        "only an agent (agent: true) may run privileged"
    )
    assert found["services.web.volumes[0]"].startswith(
        "/var/run/docker.sock is the node's own: only an agent (agent: true) mounts"
    )
    assert found["services.web.volumes[2]"] == "/d is already mounted by volumes[1]"
    agent = service({"agent": True, "privileged": True, "volumes": ["/proc:/host/proc:ro"]})
    assert agent.privileged
    assert agent.volumes[0].kind == "host"


def test_ports_are_an_agents_node_ports_or_a_services_ports_inside_the_rack():
    agent = service({"agent": {"ports": ["8125/udp"]}, "ports": [8126, "8125/udp"]})
    assert [(p.port, p.protocol) for p in agent.host_ports] == [(8125, "udp"), (8126, "tcp")]
    assert not agent.discoverable
    api = service({"port": 3000, "internal": True, "ports": [3000, 4200, "4300/udp"]})
    assert [(p.port, p.protocol) for p in api.internal_ports] == [
        (3000, "tcp"),
        (4200, "tcp"),
        (4300, "udp"),
    ]
    worker = service({"ports": [7000]})
    assert worker.discoverable
    assert not worker.web
    assert not service({"port": 80}).discoverable
    assert not service({"internal": True}).discoverable  # nothing to reach
    # The service's port listed again is the port (Convox v3 drops it too).
    assert service({"port": 80, "ports": [80]}).extra_ports == ()


def test_a_web_services_other_ports_and_a_ports_only_domain_say_why():
    assert problems({"services": {"web": {"port": 80, "ports": [5000, 5000]}}}) == {
        "services.web.ports[1]": "5000/tcp is listed twice",
        "services.web.ports": "5000/tcp: a web service's other ports are not reachable yet (its "
        "port goes through the edge, which carries HTTP only): make the service internal, or "
        "serve them from an internal service",
    }
    assert problems({"services": {"web": {"ports": [3000], "domain": "shop.example.com"}}}) == {
        "services.web.domain": "a domain routes to a port: set port (ports are reached inside "
        "the rack only, as on Convox)"
    }


def test_a_link_needs_a_port_to_give_a_url_to():
    assert problems({"services": {"web": {"port": 80, "links": ["worker"]}, "worker": {}}}) == {
        "services.web.links[0]": "worker has no port, so there is no URL to link to (a link sets "
        "WORKER_URL to the service's port)"
    }


def test_an_internal_service_counts_no_requests_and_keeps_no_one_sticky():
    internal = {"port": 80, "internal": True}
    assert problems(
        {"services": {"api": {**internal, "scale": {"count": "1-3", "targets": {"requests": 100}}}}}
    ) == {
        "services.api.scale.targets.requests": "counting requests needs a port behind the load "
        "balancer (an internal service has none)"
    }
    m = parse_manifest({"services": {"api": {**internal, "sticky": True}}})
    assert [path for path, _ in m.warnings] == ["services.api.sticky"]


def test_an_internal_services_health_and_timeout_are_read_and_warned_about():
    m = parse_manifest(
        {
            "services": {
                "api": {"port": 80, "internal": True, "health": {"interval": 15, "timeout": 30}},
                "worker": {"timeout": 30},
            }
        }
    )
    # An internal service is not behind a load balancer: its health timeout may pass its interval.
    assert m.services["api"].health.timeout == 30
    assert [path for path, _ in m.warnings] == ["services.api.health", "services.worker.timeout"]


def test_undeclared_settings_are_those_no_service_or_interpolation_reads() -> None:
    m = parse_manifest(
        {"services": {"web": {"environment": ["A", "B=1"], "command": "run ${C}"}, "w": {}}}
    )
    assert m.undeclared(["A", "B", "C", "D", "E"]) == ["D", "E"]
    assert m.undeclared([]) == []
    everything = parse_manifest({"services": {"web": {}, "w": {"environment": ["*"]}}})
    assert everything.undeclared(["D"]) == []
