"""What the generated images would run, run on this machine, without Docker.

For each sample app in tests/data/apps: a virtualenv with the Python minor the buildpack
resolved (where this machine has it), the build stage's steps as the Dockerfile lists them
(copy these files, run this command, in order, in an empty folder standing for `/app`), the
final stage's steps in a fresh copy of the app, then the image's CMD with `PORT` on 127.0.0.1,
and a request to `/`.

These install packages from PyPI: small dependency sets, one shared cache (`PAASKIT_TEST_CACHE`,
default ~/.cache/paaskit-tests) for pip, uv, Poetry and pipenv downloads and for the pinned
tools, each test in its own temporary folder. They take one to two and a half minutes (warm or
cold cache), so they are marked `build` and left out of a plain `pytest` (pyproject.toml's
addopts); `.ci/run` runs them as a step of their own with a time budget:
`pytest -m build`.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from paaskit.buildpack import BuildPlan, Copy, plan_build
from paaskit.buildpack._install import TOOLS_VENV, VENV

pytestmark = pytest.mark.build

APPS = Path(__file__).parent / "data" / "apps"
CACHE = Path(os.environ.get("PAASKIT_TEST_CACHE", Path.home() / ".cache" / "paaskit-tests"))


def find_python(minor: str) -> str | None:
    """An interpreter of this minor version on this machine: python3.X on PATH, pyenv's, uv's."""
    candidates = [shutil.which(f"python{minor}")]
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += sorted(
        glob.glob(str(root / "versions" / f"{minor}.*" / "bin" / f"python{minor}"))
    )
    for candidate in candidates:
        if not candidate:
            continue
        probe = subprocess.run(
            [candidate, "-c", "import sys, venv; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == minor:
            return candidate
    return None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def tools_venv(requirement: str) -> Path:
    """A virtualenv holding one pinned tool (`uv==0.13.9`), made once and shared between runs."""
    target = CACHE / "tools" / requirement.replace("==", "-")
    with _locked(CACHE / "tools" / f"{requirement}.lock"):
        if not (target / "ok").is_file():
            shutil.rmtree(target, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(target)], check=True)
            subprocess.run(
                [str(target / "bin" / "pip"), "install", "-q", requirement],
                check=True,
                env={**os.environ, "PIP_CACHE_DIR": str(CACHE / "pip")},
            )
            (target / "ok").write_text(requirement)
    return target


def _environment(plan: BuildPlan, venv: Path, tools: Path | None) -> dict[str, str]:
    """The build's environment on this machine: the Dockerfile's, with its paths mapped here."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"} and not k.startswith("PIP_")
    }
    path = f"{venv}/bin:{env.get('PATH', '/usr/bin:/bin')}"
    if tools is not None:
        path += f":{tools}/bin"
    env.update(
        {
            "PATH": path,
            "VIRTUAL_ENV": str(venv),
            "PYTHONUNBUFFERED": "1",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_CACHE_DIR": str(CACHE / "pip"),
            "UV_CACHE_DIR": str(CACHE / "uv"),
            "POETRY_CACHE_DIR": str(CACHE / "poetry"),
            "PIPENV_CACHE_DIR": str(CACHE / "pipenv"),
        }
    )
    for key, value in plan.install.environment.items():
        env[key] = value.replace(VENV, str(venv)).replace(TOOLS_VENV, str(tools))
    return env


def _copy(step: Copy, source: Path, target: Path) -> None:
    for path in step.paths:
        if path == ".":
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            (target / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / path, target / path)


def _run(command: str, cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        ["/bin/sh", "-c", command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def build(plan: BuildPlan, app: Path, work: Path, python: str) -> tuple[Path, dict[str, str]]:
    """Runs the build stage, and copies the app as the final stage does; returns the final
    stage's app folder and the environment (run `finalize` next)."""
    venv = work / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    tools = tools_venv(plan.install.tool) if plan.install.tool else None
    env = _environment(plan, venv, tools)
    stage = work / "build"
    stage.mkdir()
    for step in plan.install.steps:
        if isinstance(step, Copy):
            _copy(step, app, stage)
        else:
            _run(step.command, stage, env)
    final = work / "app"
    shutil.copytree(app, final)
    return final, env


def finalize(plan: BuildPlan, final: Path, env: dict[str, str]) -> str:
    """Runs the final stage's steps after the code is copied; returns their output."""
    output = []
    for step in plan.finalize:
        assert not isinstance(step, Copy)
        output.append(_run(step.command, final, env))
    return "".join(output)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serving(plan: BuildPlan, app: Path, env: dict[str, str]) -> Iterator[str]:
    """Runs the image's CMD with PORT set; yields its base URL on 127.0.0.1 once it answers."""
    port = _free_port()
    process = subprocess.Popen(
        list(plan.cmd),
        cwd=app,
        env={**env, "PORT": str(port), "WEB_CONCURRENCY": "2"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read().decode() if process.stdout else ""
                    raise AssertionError(f"{plan.cmd} did not listen on $PORT:\n{output}") from None
                time.sleep(0.1)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def get(url: str) -> tuple[bytes, dict[str, str]]:
    """GET a URL: (body, headers); a status other than 200 fails the test."""
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (http://127.0.0.1 only)
        assert response.status == 200
        return response.read(), dict(response.headers)


def python_for(plan: BuildPlan) -> str:
    python = find_python(plan.python.minor)
    if python is None:
        pytest.skip(f"no Python {plan.python.minor} on this machine ({plan.python.source})")
    return python


def test_django_with_uv_lock_collects_static_files_and_serves_them(tmp_path: Path) -> None:
    app = APPS / "django-uv"
    plan = plan_build(app, port=8000)
    assert (plan.python.version, plan.python.source) == ("3.12.14", ".python-version:1")
    assert plan.install.manager == "uv"
    folder, env = build(plan, app, tmp_path, python_for(plan))
    finalize(plan, folder, env)

    # Exactly what uv.lock pins, and not its dev group.
    pinned = {
        p["name"]: p["version"] for p in tomllib.loads((app / "uv.lock").read_text())["package"]
    }
    site = next((tmp_path / "venv" / "lib").glob("python3.*/site-packages"))
    installed = {
        path.name.split("-")[0].lower().replace("_", "-"): path.name.split("-")[1].removesuffix(
            ".dist"
        )
        for path in site.glob("*.dist-info")
    }
    for name in ("django", "gunicorn", "whitenoise", "sqlparse"):
        assert installed[name] == pinned[name]
    assert "django-debug-toolbar" not in installed

    manifest = json.loads((folder / "staticfiles" / "staticfiles.json").read_text())
    hashed = manifest["paths"]["site.css"]
    with serving(plan, folder, env) as base:
        page, _ = get(f"{base}/")
        css, headers = get(f"{base}/static/{hashed}")
    assert f"/static/{hashed}".encode() in page
    assert css == (app / "static" / "site.css").read_bytes()
    # whitenoise: fingerprinted files cached "forever", which the CDN keeps.
    assert "immutable" in headers["Cache-Control"]

    # Settings that need a secret at import: the build stops and says why, or skips if told.
    settings = folder / "mysite" / "settings.py"
    settings.write_text(
        settings.read_text().replace(
            'os.environ.get("SECRET_KEY", "build-only-not-secret")', 'os.environ["SECRET_KEY"]'
        )
    )
    shutil.rmtree(folder / "staticfiles")
    with pytest.raises(AssertionError, match="settings must import without the app's secrets"):
        finalize(plan, folder, env)
    output = finalize(plan, folder, {**env, "DISABLE_COLLECTSTATIC": "1"})
    assert "DISABLE_COLLECTSTATIC is set: collectstatic skipped" in output
    assert not (folder / "staticfiles").exists()


def test_fastapi_pinned_to_an_old_patch_runs_on_its_minor(tmp_path: Path) -> None:
    app = APPS / "fastapi-runtime"
    plan = plan_build(app, port=8000)
    assert plan.python.image == "python:3.10.8-slim-bullseye"
    assert plan.cmd == ("/bin/sh", "-c", "exec uvicorn main:app --host 0.0.0.0 --port $PORT")
    folder, env = build(plan, app, tmp_path, python_for(plan))
    with serving(plan, folder, env) as base:
        body = json.loads(get(f"{base}/")[0])
    assert body["hello"] == "world"
    assert body["python"].startswith("3.10.")


def test_flask_with_poetry_lock_serves_with_gunicorn_reading_port(tmp_path: Path) -> None:
    app = APPS / "flask-poetry"
    plan = plan_build(app)
    assert plan.python.source == "pyproject.toml:4"  # requires-python >=3.11,<3.12
    assert plan.cmd == ("gunicorn", "app:app", "--access-logfile", "-")  # no shell at all
    folder, env = build(plan, app, tmp_path, python_for(plan))
    with serving(plan, folder, env) as base:
        body = json.loads(get(f"{base}/")[0])
    assert body == {"hello": "world", "python": body["python"], "workers": "2"}
    assert body["python"].startswith("3.11.")
    site = next((tmp_path / "venv" / "lib").glob("python3.*/site-packages"))
    installed = {path.name.split("-")[0].lower() for path in site.glob("*.dist-info")}
    assert {"flask", "gunicorn", "werkzeug"} <= installed
    assert "pytest" not in installed  # the dev group stays out


def test_pipenv_app_installs_its_lock_into_the_venv(tmp_path: Path) -> None:
    app = APPS / "pipenv-app"
    plan = plan_build(app)
    assert plan.python.source == "Pipfile.lock:8"
    folder, env = build(plan, app, tmp_path, python_for(plan))
    with serving(plan, folder, env) as base:
        body = json.loads(get(f"{base}/")[0])
    assert body["hello"] == "world"
    assert body["python"].startswith("3.13.")
