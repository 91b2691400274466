"""The generated Dockerfile: what it is made of, in what order, and what it refuses.

The other parts have their own files: test_buildpack_python.py (versions and image tags),
test_buildpack_install.py (package managers and lock files), test_buildpack_procfile.py,
test_buildpack_runtime.py, test_buildpack_reading.py; test_buildpack_run.py runs what the
images would run.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from paaskit.buildpack import (
    APP_UID,
    DOCKERIGNORE,
    PYTHON_PATCHES,
    TOOL_VERSIONS,
    BuildpackError,
    Run,
    find_django,
    generate_dockerfile,
    plan_build,
)
from paaskit.buildpack._reading import _instructions

APPS = Path(__file__).parent / "data" / "apps"


def make_app(root: Path, files: dict[str, str]) -> Path:
    """An app folder with the given files (paths relative to it)."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def instructions(dockerfile: str) -> list[str]:
    """The Dockerfile's lines without comments and blanks."""
    return [line for line in dockerfile.splitlines() if line and not line.startswith("#")]


def stages(dockerfile: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(build stage, final stage) as Docker reads their instructions (continuations joined)."""
    parsed = list(_instructions(dockerfile))
    second = [i for i, (keyword, _) in enumerate(parsed) if keyword == "FROM"][1]
    return parsed[:second], parsed[second:]


# --------------------------------------------------------------------------- reviewed outputs


@pytest.mark.parametrize("app", ["flask", "django-uv"])
def test_dockerfiles_match_the_reviewed_ones(app: str) -> None:
    generated = generate_dockerfile(APPS / app, port=8000)
    assert generated == (APPS / f"{app}.Dockerfile").read_text()


def test_flask_app_dockerfile_properties() -> None:
    build, final = stages(generate_dockerfile(APPS / "flask", port=8000))
    version = PYTHON_PATCHES["3.11"]  # from runtime.txt: python-3.11
    assert build[0] == ("FROM", f"python:{version}-slim-trixie AS build")
    assert final[0] == ("FROM", f"python:{version}-slim-trixie")
    # Dependency files (and the constraints file they include) before the install.
    assert build.index(("COPY", "requirements.txt requirements.txt")) < build.index(
        ("RUN", "pip install -r requirements.txt")
    )
    assert ("COPY", "constraints.txt constraints.txt") in build
    assert ("COPY", ". .") not in build
    # The final stage: the venv, then the code owned by the app's user, then that user.
    owner = f"{APP_UID}:{APP_UID}"
    assert final.index(("COPY", "--from=build /opt/venv /opt/venv")) < final.index(
        ("COPY", f"--chown={owner} . .")
    )
    assert final.index(("COPY", f"--chown={owner} . .")) < final.index(("USER", owner))
    assert not any("pip install" in arguments for _, arguments in final)
    assert "/app" in next(a for k, a in final if k == "RUN")  # made, owned by the app
    assert final[-3:] == [
        ("ENV", "PORT=8000"),
        ("EXPOSE", "8000"),
        ("CMD", '["/bin/sh", "-c", "exec gunicorn app:app --bind 0.0.0.0:$PORT --workers 2"]'),
    ]
    assert not any(keyword == "ENTRYPOINT" for keyword, _ in final)


def test_the_final_stage_makes_the_app_folder_the_users_and_not_the_venv() -> None:
    _, final = stages(generate_dockerfile(APPS / "flask"))
    user_setup = next(arguments for keyword, arguments in final if keyword == "RUN")
    assert "install -d -o app -g app /app" in user_setup
    assert ("WORKDIR", "/app") in final
    # The venv is copied as root's (no --chown): the app cannot change its dependencies.
    assert ("COPY", "--from=build /opt/venv /opt/venv") in final


@pytest.mark.parametrize(
    ("app", "tool"),
    [("django-uv", "uv"), ("flask-poetry", "poetry"), ("pipenv-app", "pipenv")],
)
def test_lock_file_tools_are_pinned_and_stay_in_the_build_stage(app: str, tool: str) -> None:
    build, final = stages(generate_dockerfile(APPS / app))
    requirement = f"{tool}=={TOOL_VERSIONS[tool]}"
    assert (
        "RUN",
        f"python -m venv /opt/buildtools && /opt/buildtools/bin/pip install {requirement}",
    ) in build
    assert not any("/opt/buildtools" in arguments for _, arguments in final)
    assert not any(tool in arguments.split() for keyword, arguments in final if keyword == "RUN")


def test_every_run_step_is_what_docker_passes_to_sh() -> None:
    for app in ("flask", "django-uv", "flask-poetry", "pipenv-app", "fastapi-runtime"):
        plan = plan_build(APPS / app)
        runs = [a for k, a in _instructions(plan.dockerfile) if k == "RUN"]
        for step in (*plan.install.steps, *plan.finalize):
            if isinstance(step, Run):
                assert step.command in runs, (app, step.command)


def test_a_django_app_collects_static_files_as_its_user_after_the_code() -> None:
    plan = plan_build(APPS / "django-uv", port=8000)
    assert plan.django is not None
    assert (plan.django.manage, plan.django.settings_module, plan.django.static_url) == (
        "manage.py",
        "mysite.settings",
        "/static/",
    )
    _, final = stages(plan.dockerfile)
    collect = next(i for i, (k, a) in enumerate(final) if "collectstatic" in a)
    assert final.index(("USER", f"{APP_UID}:{APP_UID}")) < collect
    assert final[collect - 1] == ("ARG", "DISABLE_COLLECTSTATIC=0")
    assert "python manage.py collectstatic --noinput" in final[collect][1]
    assert plan.warnings == ()


def test_django_without_whitenoise_is_warned_about(tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        {
            "requirements.txt": "django\ngunicorn\n",
            "Procfile": "web: gunicorn site.wsgi\n",
            "src/manage.py": 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site.settings")\n',
            "src/site/settings/__init__.py": "STATIC_URL = 'assets/'\n",
        },
    )
    plan = plan_build(app)
    assert plan.django is not None
    assert (plan.django.manage, plan.django.settings_file, plan.django.static_url) == (
        "src/manage.py",
        "src/site/settings/__init__.py",
        "/assets/",
    )
    assert "python src/manage.py collectstatic --noinput" in plan.finalize[0].command  # type: ignore[union-attr]
    assert any("add whitenoise" in warning for warning in plan.warnings)


def test_manage_py_without_its_settings_is_not_django(tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        {"manage.py": 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gone.settings")\n'},
    )
    assert find_django(app) is None
    assert find_django(tmp_path / "nothing-here") is None


def test_runtime_txt_pins_the_exact_version_and_a_digest_pins_more(tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        {
            "requirements.txt": "flask\n",
            "Procfile": "web: flask run\n",
            "runtime.txt": "python-3.12.7\n",
        },
    )
    plan = plan_build(app)
    assert instructions(plan.dockerfile)[0] == "FROM python:3.12.7-slim-bookworm AS build"
    assert any("3.12.7 is pinned" in warning for warning in plan.warnings)
    pinned = generate_dockerfile(
        app, python_version="3.13", base_image_digest="sha256:" + "ab" * 32
    )
    assert f"FROM python:{PYTHON_PATCHES['3.13']}-slim-trixie@sha256:{'ab' * 32} AS build" in pinned


def test_output_is_byte_identical_for_the_same_inputs_wherever_the_app_is(
    tmp_path: Path,
) -> None:
    files = {
        "requirements.txt": "-r base.txt\nflask\n",
        "base.txt": "requests\n",
        "Procfile": "web: flask run\n",
        ".python-version": "3.12\n",
    }
    first = make_app(tmp_path / "a", files)
    second = make_app(tmp_path / "elsewhere" / "b", dict(reversed(files.items())))
    assert generate_dockerfile(first, port=5000) == generate_dockerfile(first, port=5000)
    assert generate_dockerfile(first, port=5000) == generate_dockerfile(second, port=5000)
    assert generate_dockerfile(first, port=5000) != generate_dockerfile(first, port=5001)


@pytest.mark.parametrize(
    ("command", "cmd"),
    [
        ("gunicorn app:app", ["gunicorn", "app:app"]),
        ("exec gunicorn app:app", ["/bin/sh", "-c", "exec gunicorn app:app"]),
        ("cd src && gunicorn app:app", ["/bin/sh", "-c", "cd src && gunicorn app:app"]),
        ("gunicorn app:app -b :$PORT", ["/bin/sh", "-c", "exec gunicorn app:app -b :$PORT"]),
        ("./migrate && gunicorn app:app", ["/bin/sh", "-c", "./migrate && gunicorn app:app"]),
        ("DEBUG=1 flask run", ["/bin/sh", "-c", "DEBUG=1 flask run"]),
        ("python app.py > /tmp/log", ["/bin/sh", "-c", "python app.py > /tmp/log"]),
        (["python", "-m", "app"], ["python", "-m", "app"]),
    ],
)
def test_commands_run_as_pid_1_through_sh_only_when_they_need_it(
    tmp_path: Path, command: str | list[str], cmd: list[str]
) -> None:
    app = make_app(tmp_path, {"requirements.txt": "flask\n", ".python-version": "3.12\n"})
    assert instructions(generate_dockerfile(app, command=command))[-1] == f"CMD {json.dumps(cmd)}"


def test_process_picks_the_procfile_entry() -> None:
    dockerfile = generate_dockerfile(APPS / "flask", process="worker")
    assert instructions(dockerfile)[-1] == 'CMD ["celery", "-A", "app.celery", "worker"]'
    assert "from requirements.txt, Procfile (worker)," in dockerfile.splitlines()[0]
    assert plan_build(APPS / "flask").release == "flask db upgrade"


@pytest.mark.parametrize(
    ("files", "kwargs", "message"),
    [
        ({"requirements.txt": ""}, {}, "Procfile: no such file, so nothing says what to run"),
        (
            {"requirements.txt": "", "Procfile": "worker: x\n"},
            {},
            "Procfile: no 'web' process (has: worker)",
        ),
        (
            {"requirements.txt": "", "Procfile": "web: x\n"},
            {"process": "worker"},
            "Procfile: no 'worker' process (has: web)",
        ),
        (
            {"requirements.txt": "", "Dockerfile": "FROM x\n"},
            {"command": "x"},
            "Dockerfile: the app has its own",
        ),
        ({"requirements.txt": ""}, {"command": "x", "port": 0}, "port: expected 1-65535"),
        (
            {"requirements.txt": ""},
            {"command": "x", "base_image_digest": "abc"},
            "base_image_digest: expected sha256:",
        ),
        ({"requirements.txt": ""}, {"command": "  "}, "command: must not be empty"),
        (
            {"requirements.txt": ""},
            {"command": []},
            "command: expected a non-empty list of strings",
        ),
        (
            {"requirements.txt": "", ".python-version": "3.7\n"},
            {"command": "x"},
            ".python-version:1: Python 3.7 has no official image",
        ),
        (
            {"requirements.txt": "", "Procfile": "web: x\nweb: y\n"},
            {},
            "Procfile:2: process 'web' is declared twice",
        ),
    ],
)
def test_generate_errors_name_the_file(
    tmp_path: Path, files: dict[str, str], kwargs: dict[str, Any], message: str
) -> None:
    app = make_app(tmp_path / "app", files)
    with pytest.raises(BuildpackError, match=re.escape(message)):
        generate_dockerfile(app, **kwargs)


def test_nothing_to_build_names_the_folder(tmp_path: Path) -> None:
    with pytest.raises(BuildpackError, match=re.escape(f"{tmp_path}: nothing to build from")):
        generate_dockerfile(tmp_path, command="x")


def test_dockerignore_keeps_secrets_and_caches_out() -> None:
    patterns = [line for line in DOCKERIGNORE.splitlines() if line and not line.startswith("#")]
    assert {".git", ".env", ".venv", "**/__pycache__", "node_modules"} <= set(patterns)
    assert len(patterns) == len(set(patterns))
