"""The buildpack: Dockerfiles for apps without one, reading Dockerfiles, start-up snippets."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paaskit.buildpack import (
    DEFAULT_PYTHON_VERSION,
    DOCKERIGNORE,
    PYTHON_PATCHES,
    AppKind,
    BuildpackError,
    detect,
    generate_dockerfile,
    image_command,
    parse_procfile,
    resolve_python_version,
    url_env_snippet,
    wrap_command,
)

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


# --------------------------------------------------------------------------- detect


def test_detect_requirements_pyproject_and_preference(tmp_path: Path) -> None:
    assert detect(APPS / "flask") is AppKind.REQUIREMENTS
    assert detect(APPS / "pyproject-app") is AppKind.PYPROJECT
    both = make_app(tmp_path, {"requirements.txt": "flask\n", "pyproject.toml": "[project]\n"})
    assert detect(both) is AppKind.REQUIREMENTS


def test_detect_names_the_folder_when_there_is_nothing_to_build(tmp_path: Path) -> None:
    with pytest.raises(BuildpackError, match=re.escape(f"{tmp_path}: nothing to build from")):
        detect(tmp_path)
    (tmp_path / "Pipfile").write_text("[packages]\n")
    with pytest.raises(BuildpackError, match="Pipfile is not supported: export it"):
        detect(tmp_path)
    with pytest.raises(BuildpackError, match="no such folder"):
        detect(tmp_path / "missing")


# --------------------------------------------------------------------------- Procfile


def test_parse_procfile() -> None:
    text = (
        "# processes\r\n"
        "web: gunicorn app:app --bind :$PORT\r\n"
        "\r\n"
        "  worker :  celery -A app worker  \n"
        "release: python manage.py migrate && echo done\n"
        "urgent-worker_2: rq worker high\n"
    )
    assert parse_procfile(text) == {
        "web": "gunicorn app:app --bind :$PORT",
        "worker": "celery -A app worker",
        "release": "python manage.py migrate && echo done",
        "urgent-worker_2": "rq worker high",
    }
    assert parse_procfile("") == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("web: a\n<<<<<<< HEAD\n", "app/Procfile:2: expected `<process type>: <command>`"),
        ("web: a\nweb: b\n", "app/Procfile:2: process 'web' is declared twice"),
        ("web:\n", "app/Procfile:1: process 'web' has no command"),
        ("we b: x\n", "app/Procfile:1: expected"),
        ("w" * 64 + ": x\n", "app/Procfile:1: expected"),
    ],
)
def test_bad_procfiles_name_file_and_line(text: str, message: str) -> None:
    with pytest.raises(BuildpackError, match=re.escape(message)):
        parse_procfile(text, source="app/Procfile")


# --------------------------------------------------------------------------- Python version


def test_python_version_sources_in_order(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"requirements.txt": ""})
    assert resolve_python_version(app) == DEFAULT_PYTHON_VERSION == PYTHON_PATCHES["3.12"]
    (app / "pyproject.toml").write_text('[project]\nrequires-python = ">=3.10,<3.12"\n')
    assert resolve_python_version(app) == PYTHON_PATCHES["3.11"]
    (app / ".python-version").write_text("# pyenv\n3.13\n")
    assert resolve_python_version(app) == PYTHON_PATCHES["3.13"]
    (app / "runtime.txt").write_text("python-3.12.7\n")
    assert resolve_python_version(app) == "3.12.7"
    assert resolve_python_version(app, "3.10") == PYTHON_PATCHES["3.10"]
    assert resolve_python_version(app, "3.14.2") == "3.14.2"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (">=3.8", "3.12"),
        ("~=3.11", "3.12"),
        (">=3.13", "3.13"),
        ("==3.11.*", "3.11"),
        ("<3.12", "3.11"),
        (">3.10,!=3.12.*", "3.13"),
        ("~=3.10.0", "3.10"),
    ],
)
def test_requires_python_picks_the_release_nearest_the_default(
    tmp_path: Path, spec: str, expected: str
) -> None:
    app = make_app(tmp_path, {"pyproject.toml": f'[project]\nrequires-python = "{spec}"\n'})
    assert resolve_python_version(app) == PYTHON_PATCHES[expected]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"runtime.txt": "3.12\n"}, "runtime.txt: expected python-3.X.Y"),
        ({"runtime.txt": "python-3.9\n"}, "runtime.txt: no pinned release of Python 3.9"),
        ({"runtime.txt": "python-2.7.18\n"}, "runtime.txt: expected a CPython version"),
        ({".python-version": "pypy3.10\n"}, ".python-version: expected a CPython version"),
        ({".python-version": "# nothing\n"}, ".python-version: names no version"),
        (
            {"pyproject.toml": '[project]\nrequires-python = ">=4"\n'},
            "no known Python release satisfies '>=4'",
        ),
        (
            {"pyproject.toml": '[project]\nrequires-python = "3.12"\n'},
            "cannot read requires-python clause",
        ),
        ({"pyproject.toml": "[project\n"}, "pyproject.toml: invalid TOML"),
    ],
)
def test_bad_python_versions_name_the_file(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    app = make_app(tmp_path, {"requirements.txt": "", **files})
    with pytest.raises(BuildpackError, match=re.escape(message)):
        resolve_python_version(app)


# --------------------------------------------------------------------------- generate_dockerfile


def test_flask_app_dockerfile_matches_the_reviewed_one() -> None:
    generated = generate_dockerfile(APPS / "flask", port=8000)
    assert generated == (APPS / "flask.Dockerfile").read_text()


def test_flask_app_dockerfile_properties() -> None:
    lines = instructions(generate_dockerfile(APPS / "flask", port=8000))
    version = PYTHON_PATCHES["3.11"]  # from runtime.txt

    assert [line for line in lines if line.startswith("FROM")] == [
        f"FROM python:{version}-slim-trixie AS build",
        f"FROM python:{version}-slim-trixie",
    ]
    # Dependency files (and the constraints file they include) before the source.
    build = lines[: lines.index(f"FROM python:{version}-slim-trixie")]
    assert build.index("COPY requirements.txt requirements.txt") < build.index(
        "RUN pip install -r requirements.txt"
    )
    assert "COPY constraints.txt constraints.txt" in build
    assert "COPY . ." not in build
    final = lines[len(build) :]
    assert final.index("COPY --from=build /opt/venv /opt/venv") < final.index("COPY . .")
    assert final.index("COPY . .") < final.index("USER 10001:10001")
    assert not any("pip install" in line for line in final)
    assert "ENV PYTHONDONTWRITEBYTECODE=1 \\" in final
    assert "    PYTHONUNBUFFERED=1 \\" in final
    assert final[-3:] == [
        "ENV PORT=8000",
        "EXPOSE 8000",
        'CMD ["/bin/sh", "-c", "exec gunicorn app:app --bind 0.0.0.0:$PORT --workers 2"]',
    ]


def test_pyproject_app_installs_declared_dependencies_first() -> None:
    dockerfile = generate_dockerfile(APPS / "pyproject-app")
    lines = instructions(dockerfile)

    assert (
        lines[0] == f"FROM python:{PYTHON_PATCHES['3.13']}-slim-trixie AS build"
    )  # requires-python
    start = lines.index("RUN pip install \\")
    assert lines[start + 1 : start + 4] == [
        "        'fastapi>=0.115,<1' \\",
        "        'uvicorn[standard]==0.32.1' \\",
        "        \"pydantic-settings>=2.6 ; python_version >= '3.9'\"",
    ]
    assert lines[start + 4 : start + 6] == ["COPY . .", "RUN pip install --no-deps ."]
    assert "EXPOSE" not in dockerfile
    assert (
        lines[-1] == 'CMD ["/bin/sh", "-c", "exec uvicorn hello:app --host 0.0.0.0 --port $PORT"]'
    )


def test_pyproject_without_static_dependencies_installs_from_the_source(tmp_path: Path) -> None:
    poetry = make_app(
        tmp_path,
        {
            "pyproject.toml": '[tool.poetry]\nname = "x"\n'
            '[build-system]\nrequires = ["poetry-core"]\n',
            "Procfile": "web: python -m x\n",
        },
    )
    build = instructions(generate_dockerfile(poetry))
    assert build[build.index("WORKDIR /app") + 1 : build.index("WORKDIR /app") + 3] == [
        "COPY . .",
        "RUN pip install .",
    ]
    plain = make_app(
        tmp_path / "plain", {"pyproject.toml": '[project]\nname = "y"\n', "Procfile": "web: y\n"}
    )
    lines = instructions(generate_dockerfile(plain))
    # No dependencies and no build system: nothing to install, the app runs from /app.
    assert not any("pip install" in line for line in lines)


def test_requirements_with_local_packages_copy_the_source_first(tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        {"requirements.txt": "-e .\nflask\n", "Procfile": "web: flask run\n", "setup.py": ""},
    )
    lines = instructions(generate_dockerfile(app))
    assert lines.index("COPY . .") < lines.index("RUN pip install -r requirements.txt")
    wheel = make_app(
        tmp_path / "wheels",
        {"requirements.txt": "./vendor/lib-1.0-py3-none-any.whl\n", "Procfile": "web: x\n"},
    )
    assert "COPY requirements.txt requirements.txt" not in generate_dockerfile(wheel)


def test_requirements_includes_are_copied_with_their_folders(tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        {
            "requirements.txt": "-r requirements/prod.txt\n--index-url https://pypi.org/simple\n",
            "requirements/prod.txt": "-r base.txt\ngunicorn\n",
            "requirements/base.txt": "--requirement=../constraints.txt\ndjango\n",
            "constraints.txt": "asgiref==3.8.1\n",
            "Procfile": "web: gunicorn site.wsgi\n",
        },
    )
    copies = [
        line
        for line in instructions(generate_dockerfile(app))
        if line.startswith("COPY") and "--from" not in line
    ]
    assert copies == [
        "COPY requirements.txt requirements.txt",
        "COPY requirements/prod.txt requirements/prod.txt",
        "COPY requirements/base.txt requirements/base.txt",
        "COPY constraints.txt constraints.txt",
        "COPY . .",
    ]


def test_runtime_txt_pins_the_exact_version(tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        {
            "requirements.txt": "flask\n",
            "Procfile": "web: flask run\n",
            "runtime.txt": "python-3.12.7\n",
        },
    )
    assert instructions(generate_dockerfile(app))[0] == "FROM python:3.12.7-slim-trixie AS build"
    pinned = generate_dockerfile(
        app, python_version="3.13", base_image_digest="sha256:" + "ab" * 32
    )
    assert f"FROM python:{PYTHON_PATCHES['3.13']}-slim-trixie@sha256:{'ab' * 32} AS build" in pinned


def test_output_is_byte_identical_for_the_same_inputs(tmp_path: Path) -> None:
    files = {
        "requirements.txt": "-r base.txt\nflask\n",
        "base.txt": "requests\n",
        "Procfile": "web: flask run\n",
    }
    first = make_app(tmp_path / "a", files)
    second = make_app(tmp_path / "b", dict(reversed(files.items())))
    assert generate_dockerfile(first, port=5000) == generate_dockerfile(first, port=5000)
    assert generate_dockerfile(first, port=5000) == generate_dockerfile(second, port=5000)
    assert generate_dockerfile(first, port=5000) != generate_dockerfile(first, port=5001)


@pytest.mark.parametrize(
    ("command", "cmd"),
    [
        # No shell syntax: split into words (paaskit.command's rule); the program is the CMD.
        ("gunicorn app:app", ["gunicorn", "app:app"]),
        ("exec gunicorn app:app", ["/bin/sh", "-c", "exec gunicorn app:app"]),
        (
            "gunicorn app:app --bind :$PORT",
            ["/bin/sh", "-c", "exec gunicorn app:app --bind :$PORT"],
        ),
        ("./migrate && gunicorn app:app", ["/bin/sh", "-c", "./migrate && gunicorn app:app"]),
        ("DEBUG=1 flask run", ["/bin/sh", "-c", "DEBUG=1 flask run"]),
        ("python app.py > /tmp/log", ["/bin/sh", "-c", "python app.py > /tmp/log"]),
        (["python", "-m", "app"], ["python", "-m", "app"]),
    ],
)
def test_commands_run_as_pid_1_where_exec_keeps_their_meaning(
    tmp_path: Path, command: str | list[str], cmd: list[str]
) -> None:
    app = make_app(tmp_path, {"requirements.txt": "flask\n"})
    assert instructions(generate_dockerfile(app, command=command))[-1] == f"CMD {json.dumps(cmd)}"


def test_process_picks_the_procfile_entry() -> None:
    dockerfile = generate_dockerfile(APPS / "flask", process="worker")
    assert instructions(dockerfile)[-1] == 'CMD ["celery", "-A", "app.celery", "worker"]'
    assert "from requirements.txt, Procfile (worker)," in dockerfile.splitlines()[0]


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
            {"requirements.txt": "", "Dockerfile": "FROM x\n"},
            {"command": "x"},
            "Dockerfile: the app has its own",
        ),
        (
            {"requirements.txt": "-r missing.txt\n"},
            {"command": "x"},
            "requirements.txt: includes missing.txt, which does not exist",
        ),
        (
            {"requirements.txt": "-r ../../outside.txt\n"},
            {"command": "x"},
            "is outside the app folder",
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
            {"pyproject.toml": "[project]\ndependencies = 'flask'\n"},
            {"command": "x"},
            "[project].dependencies must be a list",
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


# --------------------------------------------------------------------------- image_command


@pytest.mark.parametrize(
    ("dockerfile", "expected"),
    [
        ('FROM python:3.12\nCMD ["python", "app.py"]\n', (None, ("python", "app.py"))),
        (
            "FROM python:3.12\nCMD python app.py --port $PORT\n",
            (None, ("/bin/sh", "-c", "python app.py --port $PORT")),
        ),
        (
            'FROM alpine\nENTRYPOINT ["/entrypoint.sh"]\nCMD ["serve"]\n',
            (("/entrypoint.sh",), ("serve",)),
        ),
        # An ENTRYPOINT clears the CMD the stage inherited...
        ('FROM alpine AS base\nCMD ["a"]\nFROM base\nENTRYPOINT ["b"]\n', (("b",), ())),
        # ...but not one set in the same stage.
        ('FROM alpine\nCMD ["a"]\nENTRYPOINT ["b"]\n', (("b",), ("a",))),
        # The final stage counts; it inherits from an earlier stage by name (any case).
        (
            'FROM python:3.12 AS Build\nENTRYPOINT ["tini", "--"]\nCMD ["x"]\n'
            "FROM build\nRUN true\n",
            (("tini", "--"), ("x",)),
        ),
        (
            'FROM python:3.12 AS build\nCMD ["x"]\nFROM --platform=linux/arm64 python:3.12-slim\n',
            (None, None),
        ),
        (
            'FROM x\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nCMD echo hi | cat\n',
            (None, ("/bin/bash", "-o", "pipefail", "-c", "echo hi | cat")),
        ),
        ("FROM x\nCMD []\n", (None, ())),
        # Not a JSON array of strings: Docker runs it through the shell.
        ("FROM x\nCMD [python, app.py]\n", (None, ("/bin/sh", "-c", "[python, app.py]"))),
        # Continuations, comments inside them, lower-case keywords.
        (
            "from x\ncmd gunicorn app:app \\\n# a comment\n"
            "    --bind 0.0.0.0:8000 \\\n\n    --workers 2\n",
            (None, ("/bin/sh", "-c", "gunicorn app:app     --bind 0.0.0.0:8000     --workers 2")),
        ),
        (
            "ARG BASE=python:3.12\nFROM ${BASE}\nENTRYPOINT python -m app\n",
            (("/bin/sh", "-c", "python -m app"), ()),
        ),
    ],
)
def test_image_command(dockerfile: str, expected: tuple[object, object]) -> None:
    assert image_command(dockerfile) == expected


def test_image_command_skips_heredoc_bodies_and_honours_the_escape_directive() -> None:
    heredocs = (
        "# syntax=docker/dockerfile:1\n"
        "FROM python:3.12\n"
        "RUN <<EOF\n"
        "CMD this is not an instruction\n"
        "EOF\n"
        "COPY <<-'CONF' /etc/app.conf\n"
        "\tENTRYPOINT neither is this\n"
        "\tCONF\n"
        'CMD ["python", "-m", "app"]\n'
    )
    assert image_command(heredocs) == (None, ("python", "-m", "app"))
    windows = "# escape=`\nFROM x\nCMD python `\n    app.py\n"
    assert image_command(windows) == (None, ("/bin/sh", "-c", "python     app.py"))


def test_image_command_of_a_generated_dockerfile() -> None:
    generated = generate_dockerfile(APPS / "flask")
    assert image_command(generated) == (
        None,
        ("/bin/sh", "-c", "exec gunicorn app:app --bind 0.0.0.0:$PORT --workers 2"),
    )


@pytest.mark.parametrize(
    ("dockerfile", "message"),
    [
        ("# nothing\n", "no FROM instruction"),
        ("RUN true\nFROM x\n", "RUN before the first FROM"),
        ("FROM x\nSHELL bash -c\n", "SHELL needs a JSON array"),
    ],
)
def test_image_command_errors(dockerfile: str, message: str) -> None:
    with pytest.raises(BuildpackError, match=re.escape(message)):
        image_command(dockerfile)


# --------------------------------------------------------------------------- URL snippet, for real

SH = "/bin/sh"
DB_ENV = {
    "DATABASE_USER": "app",
    "DATABASE_HOST": "db.internal.example.com",
    "DATABASE_PORT": "5432",
    "DATABASE_NAME": "shop",
    "PATH": "/usr/bin:/bin",
}


def run_with_snippet(
    snippet: str, env: dict[str, str], var: str = "DATABASE_URL"
) -> subprocess.CompletedProcess[str]:
    """Runs the snippet as a container would: /bin/sh -c, then exec of a printing command."""
    argv = wrap_command(["printenv", var], snippet)
    return subprocess.run(
        list(argv), env=env, capture_output=True, text=True, check=False, timeout=30
    )


def test_url_snippet_runs_in_dash_itself() -> None:
    # Debian's /bin/sh: no bash features, no locale-aware byte handling, no python or perl.
    dash = shutil.which("dash") or SH
    snippet = url_env_snippet() + 'printf %s "$DATABASE_URL"'
    env = {**DB_ENV, "DATABASE_PASS": "a b/é"}
    result = subprocess.run(
        [dash, "-c", snippet], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.stdout == "postgres://app:a%20b%2F%C3%A9@db.internal.example.com:5432/shop"


@pytest.mark.parametrize(
    "password",
    [
        "p@ss:w/rd?#%& +",
        "plain-Password_1.2~",
        "quotes'\"`$(id)${HOME}\\n",
        "[*?]!|;<>{}=,",
        "ünïcødé-€-日本",
        "line\nbreak\ttab",
        "%41%2F",
        " leading and trailing ",
    ],
)
def test_url_snippet_percent_encodes_in_plain_sh(password: str) -> None:
    result = run_with_snippet(url_env_snippet(), {**DB_ENV, "DATABASE_PASS": password})

    assert result.returncode == 0, result.stderr
    url = result.stdout.rstrip("\n")
    parts = urllib.parse.urlsplit(url)
    assert (parts.scheme, parts.hostname, parts.port, parts.path) == (
        "postgres",
        "db.internal.example.com",
        5432,
        "/shop",
    )
    assert parts.username == "app"
    assert parts.password is not None
    assert urllib.parse.unquote(parts.password) == password
    assert re.fullmatch(r"[A-Za-z0-9._~%-]*", parts.password)


@settings(max_examples=25, deadline=None)
@given(
    st.text(
        alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
        min_size=1,
        max_size=24,
    )
)
def test_url_snippet_round_trips_any_password(password: str) -> None:
    result = run_with_snippet(url_env_snippet(), {**DB_ENV, "DATABASE_PASS": password})
    assert result.returncode == 0, result.stderr
    password_part = urllib.parse.urlsplit(result.stdout.rstrip("\n")).password
    assert password_part is not None
    assert urllib.parse.unquote(password_part) == password


def test_url_snippet_with_renamed_variables_encodes_user_and_database_too() -> None:
    snippet = url_env_snippet(
        "MAIN",
        scheme="postgresql",
        url_var="DB_URL",
        user_var="PGUSER",
        password_var="PGPASSWORD",
        host_var="PGHOST",
        port_var="PGPORT",
        database_var="PGDATABASE",
    )
    env = {
        "PGUSER": "app@team",
        "PGPASSWORD": "s3cr:t",
        "PGHOST": "10.0.0.5",
        "PGPORT": "6432",
        "PGDATABASE": "my db",
        "PATH": "/usr/bin:/bin",
    }
    result = run_with_snippet(snippet, env, var="DB_URL")
    assert result.stdout == "postgresql://app%40team:s3cr%3At@10.0.0.5:6432/my%20db\n"


def test_url_snippet_stops_the_container_naming_a_missing_variable() -> None:
    env = {k: v for k, v in DB_ENV.items() if k != "DATABASE_HOST"}
    result = run_with_snippet(url_env_snippet(), {**env, "DATABASE_PASS": "x"})
    assert result.returncode != 0
    assert "DATABASE_HOST: is not set, and DATABASE_URL needs it" in result.stderr
    assert result.stdout == ""


def test_url_snippet_rejects_names_that_are_not_shell_variables() -> None:
    with pytest.raises(ValueError, match="not a shell variable name: 'BAD-NAME_URL'"):
        url_env_snippet("BAD-NAME")
    with pytest.raises(ValueError, match="not a URL scheme"):
        url_env_snippet(scheme="post gres")


def test_wrap_command_passes_arguments_through_unchanged() -> None:
    argv = wrap_command(["printf", "%s|", "a b", "$HOME", "*", ""], "GREETING=hi")
    result = subprocess.run(list(argv), capture_output=True, text=True, check=True, timeout=30)
    assert result.stdout == "a b|$HOME|*||"
    with pytest.raises(ValueError, match="nothing to run"):
        wrap_command([], "true")
