"""The App and its builds: the Procfile process a service runs, a Procfile `release:`, PORT and
WEB_CONCURRENCY, the buildpack's warnings and errors in the plan, Django's files at the edge."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from paaskit.app import App, AppArgs
from paaskit.config import ConfigError
from paaskit.manifest import load_manifest
from paaskit.plan import Plan
from paaskit.plan.engine import ProgramError
from paaskit.plan.errors import describe
from paaskit.testing import plan
from tests.test_app import RACK

OWN_DOCKERFILE = 'FROM python:3.12-slim\nCMD ["gunicorn", "app:app"]\n'


def make(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def plan_app(root: Path, **settings: Any) -> Plan:
    return plan(lambda: App("shop", AppArgs(manifest=load_manifest(root), rack=RACK, **settings)))


def container(records: Plan, service: str) -> dict[str, Any]:
    (definition,) = json.loads(records.named(f"shop-{service}-task").inputs["containerDefinitions"])
    return dict(definition)


def environment(records: Plan, service: str) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container(records, service)["environment"]}


def cmd_of(records: Plan, service: str) -> list[str]:
    """The CMD of a service's generated Dockerfile (its last line)."""
    path = Path(records.named(f"shop-{service}-image").inputs["build"]["dockerfile"])
    last = path.read_text().strip().splitlines()[-1]
    return list(json.loads(last.removeprefix("CMD ")))


def release_event(records: Plan, service: str) -> dict[str, Any]:
    return dict(json.loads(records.named(f"shop-{service}-release").inputs["input"]))


def failure(root: Path, **settings: Any) -> str:
    with pytest.raises(ProgramError) as caught:
        plan_app(root, **settings)
    return describe(caught.value)


HEROKU_APP = {
    "requirements.txt": "gunicorn==23.0.0\nrq==2.1.0\n",
    "Procfile": """\
        web: gunicorn app:app --bind 0.0.0.0:$PORT
        worker: rq worker --with-scheduler
        release: python migrate.py
        """,
    "paaskit.yml": """\
        services:
          web:
            build: .
            port: 8000
          worker:
            build: .
        """,
}


@pytest.fixture(scope="module")
def heroku(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    return plan_app(make(tmp_path_factory.mktemp("heroku"), HEROKU_APP))


# --------------------------------------------------------------------------- the Procfile


def test_each_service_runs_the_procfile_process_of_its_own_name(heroku: Plan) -> None:
    assert cmd_of(heroku, "web") == [
        "/bin/sh",
        "-c",
        "exec gunicorn app:app --bind 0.0.0.0:$PORT",
    ]
    # Before, a worker without a command ran the web server.
    assert cmd_of(heroku, "worker") == ["rq", "worker", "--with-scheduler"]
    assert "command" not in container(heroku, "worker")  # the image's CMD is the process


def test_a_service_without_its_process_is_an_error_naming_the_procfile(tmp_path: Path) -> None:
    files = {**HEROKU_APP, "Procfile": "web: gunicorn app:app\n"}
    message = failure(make(tmp_path, files))
    assert message.startswith(
        f"services.worker.build: no Dockerfile in {tmp_path}, and no Dockerfile can be "
        f"generated: {tmp_path / 'Procfile'}: no 'worker' process (has: web)"
    )


def test_a_procfile_release_line_is_the_apps_release_on_the_web_service(heroku: Plan) -> None:
    event = release_event(heroku, "web")
    assert (event["container"], event["command"]) == ("web", ["python", "migrate.py"])
    assert [r.name for r in heroku.of_type("aws:lambda/invocation:Invocation")
            if r.name.endswith("-release")] == ["shop-web-release"]  # fmt: skip


def test_the_manifests_release_wins_over_the_procfiles(tmp_path: Path) -> None:
    manifest = HEROKU_APP["paaskit.yml"].replace(
        "          worker:", "            release: python manage.py migrate\n          worker:"
    )
    records = plan_app(make(tmp_path, {**HEROKU_APP, "paaskit.yml": manifest}))
    assert release_event(records, "web")["command"] == ["python", "manage.py", "migrate"]
    assert len([r for r in records.of_type("aws:lambda/invocation:Invocation")
                if r.name.endswith("-release")]) == 1  # fmt: skip


def test_a_procfile_release_runs_on_the_first_service_when_no_web_is_built_there(
    tmp_path: Path,
) -> None:
    files = {
        **HEROKU_APP,
        "paaskit.yml": "services:\n  worker:\n    build: .\n  clock:\n    build: .\n"
        "    command: python clock.py\n",
    }
    records = plan_app(make(tmp_path, files))
    assert release_event(records, "worker")["command"] == ["python", "migrate.py"]


def test_an_own_dockerfile_runs_the_procfile_process_only_when_it_has_one(tmp_path: Path) -> None:
    files = {
        "Dockerfile": OWN_DOCKERFILE,
        "Procfile": "worker: celery -A app worker\nrelease: ./bin/release\n",
        "paaskit.yml": "services:\n  web:\n    build: .\n    port: 8000\n  worker:\n    build: .\n",
    }
    records = plan_app(make(tmp_path, files))
    # web: no `web:` process, so the image's CMD (as `paaskit start` runs it).
    assert "command" not in container(records, "web")
    assert container(records, "worker")["command"] == ["celery", "-A", "app", "worker"]
    assert release_event(records, "web")["command"] == ["./bin/release"]


def test_a_procfile_that_cannot_be_read_stops_the_plan_naming_its_line(tmp_path: Path) -> None:
    files = {
        "Dockerfile": OWN_DOCKERFILE,
        "Procfile": "web: gunicorn app:app\n<<<<<<< HEAD\n",
        "paaskit.yml": "services:\n  web:\n    build: .\n    port: 8000\n",
    }
    message = failure(make(tmp_path, files))
    assert message.startswith(
        f"services.web.build: {tmp_path / 'Procfile'}:2: expected `<process type>: <command>`"
    )


# --------------------------------------------------------------------------- run time


def test_web_concurrency_is_herokus_for_the_buildpacks_apps(heroku: Plan) -> None:
    # 512 MiB and a quarter vCPU: min(512 // 256, 2 * 1 + 1) workers, as Heroku's Standard-1X.
    assert environment(heroku, "web")["WEB_CONCURRENCY"] == "2"
    assert environment(heroku, "web")["PORT"] == "8000"


def test_web_concurrency_of_the_manifest_stands_and_own_dockerfiles_get_none(
    tmp_path: Path,
) -> None:
    manifest = (
        "services:\n  web:\n    build: .\n    port: 8000\n    scale: {memory: 2048, cpu: 2048}\n"
        "  worker:\n    build: .\n    environment: [WEB_CONCURRENCY=9]\n"
    )
    records = plan_app(make(tmp_path / "a", {**HEROKU_APP, "paaskit.yml": manifest}))
    assert environment(records, "web")["WEB_CONCURRENCY"] == "5"  # 2 vCPUs: 2 * 2 + 1
    assert environment(records, "worker")["WEB_CONCURRENCY"] == "9"
    own = {"Dockerfile": OWN_DOCKERFILE, "paaskit.yml": "services:\n  web:\n    build: .\n"}
    assert "WEB_CONCURRENCY" not in environment(plan_app(make(tmp_path / "b", own)), "web")


# --------------------------------------------------------------------------- the plan


def test_the_buildpacks_warnings_reach_the_plan(tmp_path: Path) -> None:
    files = {**HEROKU_APP, "runtime.txt": "python-3.12.7\n"}
    records = plan_app(make(tmp_path, files))
    messages = [w["message"] for w in records.warnings]
    pinned = [m for m in messages if "3.12.7 is pinned" in m]
    # Once, though two services are built alike.
    assert len(pinned) == 1
    assert pinned[0].startswith(f"services.web.build: {tmp_path / 'runtime.txt'}:1: Python 3.12.7")


def test_the_apps_python_version_is_named_by_its_stack_key(tmp_path: Path) -> None:
    root = make(tmp_path, HEROKU_APP)
    assert "paaskit-app:pythonVersion: Python 3.9 reached its end of life" in failure(
        root, python_version="3.9"
    )


DJANGO = {
    "requirements.txt": "django==5.2\ngunicorn==23.0.0\nwhitenoise==6.9.0\n",
    "Procfile": "web: gunicorn shop.wsgi\n",
    "manage.py": 'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")\n',
    "shop/__init__.py": "",
    "shop/settings.py": 'STATIC_URL = "static/"\nSTATIC_ROOT = "staticfiles"\n',
    "paaskit.yml": "services:\n  web:\n    build: .\n    port: 8000\n",
}


def _behaviors(records: Plan) -> list[dict[str, Any]]:
    return list(records.named("shop-web-cdn").inputs.get("orderedCacheBehaviors") or [])


def test_the_edge_caches_django_files_the_app_serves_as_the_app_says(tmp_path: Path) -> None:
    records = plan_app(make(tmp_path, DJANGO))
    (behavior,) = _behaviors(records)
    default = records.named("shop-web-cdn").inputs["defaultCacheBehavior"]
    assert behavior["pathPattern"] == "/static/*"
    assert behavior["targetOriginId"] == default["targetOriginId"]  # the app, not a bucket
    # Managed-CachingOptimized: the origin's Cache-Control within 1 s to 1 year.
    assert behavior["cachePolicyId"] == "658327ea-f89d-4fab-a63d-7e88639e58f6"
    assert behavior["originRequestPolicyId"] == default["originRequestPolicyId"]
    assert behavior["allowedMethods"] == ["GET", "HEAD", "OPTIONS"]
    assert behavior["compress"] is True


def test_the_bucket_serves_the_path_when_the_manifest_has_static(tmp_path: Path) -> None:
    manifest = DJANGO["paaskit.yml"] + "    static: {path: staticfiles, prefix: /static}\n"
    files = {**DJANGO, "paaskit.yml": manifest, "staticfiles/app.css": "body{}"}
    records = plan_app(make(tmp_path, files))
    (behavior,) = _behaviors(records)
    assert behavior["pathPattern"] == "/static/*"
    assert behavior["targetOriginId"] == "static"


def test_no_app_cache_without_django_or_with_an_absolute_static_url(
    heroku: Plan, tmp_path: Path
) -> None:
    assert _behaviors(heroku) == []
    files = {**DJANGO, "shop/settings.py": 'STATIC_URL = "https://cdn.example.com/"\n'}
    assert _behaviors(plan_app(make(tmp_path, files))) == []


def test_errors_come_before_any_resource(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A bad Procfile stops the App before its component, or any child, is registered.
    import pulumi

    registered: list[str] = []
    original = pulumi.ComponentResource.__init__

    def spy(self: Any, t: str, name: str, *args: Any, **kwargs: Any) -> None:
        registered.append(t)
        original(self, t, name, *args, **kwargs)

    monkeypatch.setattr(pulumi.ComponentResource, "__init__", spy)
    files = {**HEROKU_APP, "Procfile": "web: gunicorn app:app\n"}
    with pytest.raises(ConfigError):
        App(
            "shop",
            AppArgs(manifest=load_manifest(make(tmp_path, files)), rack=RACK),
        )
    assert registered == []
