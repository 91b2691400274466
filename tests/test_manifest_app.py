"""What the App makes of a convox.yml as people write it: `${NAME}` from the app's settings,
`environment: ["*"]`, labels, shared builds, and the plan's warnings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from paaskit.app import App, AppArgs
from paaskit.manifest import load_manifest
from paaskit.plan import Plan
from paaskit.testing import plan
from tests.test_app import RACK, make_app

MANIFEST = """
environment:
  - COMPANY=Acme
services:
  web:
    build: .
    port: ${PORT}
    domain: ${HOST}
    environment:
      - "*"
      - TOKEN
    labels:
      com.datadoghq.ad.logs: '[{"source": "python"}]'
      convox.health.path: /health
    scale:
      cpu: 64
  worker:
    build: .
    command: python worker.py
    environment:
      - TOKEN
  other:
    build: ./other
    command: python other.py
"""

SETTINGS = {"TOKEN": "t0ken", "PORT": "8000", "SENTRY_DSN": "https://dsn", "UNUSED": "x"}


def plan_convox(
    root: Path, manifest: str = MANIFEST, settings: dict[str, str] | None = None
) -> Plan:
    make_app(root, manifest, dockerfile='FROM python:3.12-slim\nCMD ["python", "app.py"]\n')
    other = root / "other"
    other.mkdir(exist_ok=True)
    (other / "Dockerfile").write_text("FROM python:3.12-slim\n")
    values = SETTINGS if settings is None else settings
    return plan(
        lambda: App(
            "shop",
            AppArgs(
                manifest=load_manifest(root, env=values, env_setting="paaskit-app:environment"),
                rack=RACK,
                environment=dict(values),
            ),
        )
    )


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    return plan_convox(tmp_path_factory.mktemp("convox"))


def container(records: Plan, service: str) -> Any:
    (definition,) = json.loads(records.named(f"shop-{service}-task").inputs["containerDefinitions"])
    return definition


def test_interpolated_values_come_from_the_apps_settings(shop: Plan) -> None:
    web = container(shop, "web")
    assert web["portMappings"][0]["containerPort"] == 8000
    assert shop.named("shop-web-tg").inputs["port"] == 8000


def test_a_star_gives_a_service_every_setting_and_others_only_theirs(shop: Plan) -> None:
    secrets = {s["name"] for s in container(shop, "web")["secrets"]}
    # PORT is the service's port: the setting (equal to it) is not a second, secret PORT.
    assert secrets == {"TOKEN", "SENTRY_DSN", "UNUSED"}
    assert {e["name"]: e["value"] for e in container(shop, "web")["environment"]}["PORT"] == "8000"
    assert {s["name"] for s in container(shop, "worker")["secrets"]} == {"TOKEN"}
    assert {e["name"]: e["value"] for e in container(shop, "web")["environment"]}["COMPANY"] == (
        "Acme"
    )


def test_a_setting_used_only_by_interpolation_is_not_refused(tmp_path: Path) -> None:
    manifest = "services:\n  web:\n    build: .\n    port: ${PORT}\n"
    records = plan_convox(tmp_path / "a", manifest, {"PORT": "9000"})
    assert container(records, "web")["portMappings"][0]["containerPort"] == 9000
    # Without `*` or a ${...}, an undeclared setting is still a mistake.
    with pytest.raises(Exception, match="environment: OTHER not declared"):
        plan_convox(tmp_path / "b", manifest, {"PORT": "9000", "OTHER": "x"})


def test_labels_are_the_containers_docker_labels(shop: Plan) -> None:
    def own(service: str) -> dict[str, str]:
        # Beside paaskit's own label: the digest of the settings the container reads.
        labels = dict(container(shop, service).get("dockerLabels", {}))
        labels.pop("paaskit.settings", None)
        return labels

    assert own("web") == {
        "com.datadoghq.ad.logs": '[{"source": "python"}]',
        "convox.health.path": "/health",
    }
    assert own("worker") == {}


def test_a_cpu_share_under_128_reaches_the_container(shop: Plan) -> None:
    assert container(shop, "web")["cpu"] == 64


def test_identical_builds_make_one_image(shop: Plan) -> None:
    images = shop.of_type("docker:index/image:Image")
    assert sorted(i.name for i in images) == ["shop-other-image", "shop-web-image"]
    assert container(shop, "web")["image"] == container(shop, "worker")["image"]
    assert container(shop, "web")["image"] != container(shop, "other")["image"]
    # The worker runs its own command on the shared image.
    assert "python worker.py" in " ".join(container(shop, "worker")["command"])


def test_generated_dockerfiles_are_shared_only_for_the_same_command(tmp_path: Path) -> None:
    root = make_app(
        tmp_path / "gen",
        "services:\n  a: {build: ., command: python a.py}\n  b: {build: ., command: python a.py}\n"
        "  c: {build: ., command: python c.py}\n",
    )
    records = plan(lambda: App("gen", AppArgs(manifest=load_manifest(root), rack=RACK)))
    names = sorted(i.name for i in records.of_type("docker:index/image:Image"))
    assert names == ["gen-a-image", "gen-c-image"]


def test_the_plan_warns_of_unset_variables_and_gen1_labels(shop: Plan) -> None:
    app = shop.one("paaskit:app:App")
    warnings = [(w["urn"], w["message"].split(": ", 1)[1]) for w in shop.warnings]
    assert warnings == [
        (
            app.urn,
            "services.web.domain: ${HOST} is not set, so the key is left out (Convox reads an "
            "empty value): set paaskit-app:environment.HOST",
        ),
        (
            app.urn,
            "services.web.labels: convox.health.path configured Convox Gen1 (docker-compose.yml) "
            "racks; here it is only a Docker label and configures nothing: use health.path",
        ),
    ]


def test_a_request_timeout_is_the_services_own_distributions_origin_timeout(
    tmp_path: Path,
) -> None:
    manifest = "services:\n  web:\n    build: .\n    port: 8000\n    timeout: 45\n"
    records = plan_convox(tmp_path, manifest, {})
    (origin,) = records.named("shop-web-cdn").inputs["origins"]
    assert origin["vpcOriginConfig"]["originReadTimeout"] == 45
    assert records.warnings == []


def test_the_log_retention_comes_from_app_settings_unless_the_stack_sets_it(
    tmp_path: Path,
) -> None:
    manifest = "appSettings:\n  awsLogs:\n    cwRetention: 31\nservices:\n  web:\n    build: .\n"
    records = plan_convox(tmp_path, manifest, {})
    assert records.named("shop-logs").inputs["retentionInDays"] == 60
    forever = manifest.replace("cwRetention: 31", "disableRetention: true")
    records = plan_convox(tmp_path, forever, {})
    assert "retentionInDays" not in records.named("shop-logs").inputs
