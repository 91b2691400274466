"""Package managers, lock files and the install steps of the build stage."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from paaskit.buildpack import (
    TOOL_VERSIONS,
    AppKind,
    BuildpackError,
    Copy,
    Run,
    detect,
    install_plan,
)

APPS = Path(__file__).parent / "data" / "apps"


def make_app(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


# --------------------------------------------------------------------------- detect


@pytest.mark.parametrize(
    ("app", "kind"),
    [
        ("flask", AppKind.REQUIREMENTS),
        ("pyproject-app", AppKind.PYPROJECT),
        ("django-uv", AppKind.UV),
        ("flask-poetry", AppKind.POETRY),
        ("pipenv-app", AppKind.PIPENV),
        ("fastapi-runtime", AppKind.REQUIREMENTS),
    ],
)
def test_detect_the_one_package_manager_file(app: str, kind: AppKind) -> None:
    assert detect(APPS / app) is kind


def test_pyproject_beside_requirements_is_not_a_second_manager(tmp_path: Path) -> None:
    both = make_app(tmp_path, {"requirements.txt": "flask\n", "pyproject.toml": "[project]\n"})
    assert detect(both) is AppKind.REQUIREMENTS


def test_two_package_manager_files_are_an_error_as_on_heroku(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"requirements.txt": "", "poetry.lock": "", "pyproject.toml": ""})
    with pytest.raises(
        BuildpackError,
        match=re.escape(
            f"{tmp_path}: several package manager files (requirements.txt, poetry.lock)"
        ),
    ):
        detect(app)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "nothing to build from: no Dockerfile, requirements.txt, uv.lock"),
        ({"setup.py": ""}, "setup.py alone is not enough: add a requirements.txt holding `.`"),
        ({"Pipfile": "[packages]\n"}, "Pipfile: no Pipfile.lock beside it"),
    ],
)
def test_detect_names_what_is_missing(tmp_path: Path, files: dict[str, str], message: str) -> None:
    with pytest.raises(BuildpackError, match=re.escape(message)):
        detect(make_app(tmp_path, files))
    with pytest.raises(BuildpackError, match="no such folder"):
        detect(tmp_path / "missing")


# --------------------------------------------------------------------------- lock files


def test_uv_syncs_the_lock_without_dev_groups_in_two_layers() -> None:
    plan = install_plan(APPS / "django-uv")
    assert plan.manager == "uv"
    assert plan.tool == f"uv=={TOOL_VERSIONS['uv']}"
    assert plan.environment == {
        "UV_PROJECT_ENVIRONMENT": "/opt/venv",
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_LINK_MODE": "copy",
    }
    sync = "uv sync --locked --no-default-groups --compile-bytecode"
    assert plan.steps == (
        Copy(("pyproject.toml", "uv.lock", ".python-version")),
        Run(f"{sync} --no-install-project"),
        Copy((".",)),
        Run(f"{sync} --no-editable", "The project itself, when it is a package."),
    )


def test_uv_with_path_sources_or_a_workspace_copies_the_app_first(tmp_path: Path) -> None:
    lock = (
        'version = 1\nrequires-python = ">=3.12"\n\n'
        '[[package]]\nname = "app"\nversion = "1"\nsource = { virtual = "." }\n\n'
        '[[package]]\nname = "lib"\nversion = "1"\nsource = { editable = "libs/lib" }\n'
    )
    app = make_app(tmp_path, {"uv.lock": lock, "pyproject.toml": "[project]\nname = 'app'\n"})
    assert install_plan(app).steps[0] == Copy((".",))
    workspace = make_app(
        tmp_path / "ws",
        {
            "uv.lock": lock.split('\n\n[[package]]\nname = "lib"')[0],
            "pyproject.toml": "[project]\nname = 'app'\n[tool.uv.workspace]\nmembers = ['libs/*']\n",
        },
    )
    assert install_plan(workspace).steps[0] == Copy((".",))


def test_poetry_installs_main_only_and_the_root_only_when_it_is_a_package(
    tmp_path: Path,
) -> None:
    plan = install_plan(APPS / "flask-poetry")  # package-mode = false
    install = "poetry install --only main --no-interaction --no-ansi --compile"
    assert plan.tool == f"poetry=={TOOL_VERSIONS['poetry']}"
    assert plan.environment == {"POETRY_VIRTUALENVS_CREATE": "false"}
    assert plan.steps == (
        Copy(("pyproject.toml", "poetry.lock")),
        Run(f"{install} --no-root"),
        Copy((".",)),
    )
    lock = (APPS / "flask-poetry" / "poetry.lock").read_text()
    package = make_app(
        tmp_path,
        {
            "pyproject.toml": '[tool.poetry]\nname = "my-app"\nversion = "1"\n',
            "poetry.lock": lock,
            "src/my_app/__init__.py": "",
        },
    )
    assert install_plan(package).steps[-1] == Run(
        "poetry install --only-root --no-interaction --no-ansi --compile",
        "The project itself: it is a package.",
    )


def test_pipenv_installs_the_lock_with_deploy() -> None:
    plan = install_plan(APPS / "pipenv-app")
    assert plan.tool == f"pipenv=={TOOL_VERSIONS['pipenv']}"
    assert plan.steps == (
        Copy(("Pipfile", "Pipfile.lock")),
        Run("pipenv install --deploy --system"),
    )


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"uv.lock": "version = 1\n"}, "uv.lock: no pyproject.toml beside it"),
        (
            {"uv.lock": "version = 1\n[[package]\n", "pyproject.toml": ""},
            "uv.lock:2: invalid TOML: ",
        ),
        (
            {"uv.lock": "[[package]]\nname = 'x'\n", "pyproject.toml": ""},
            "uv.lock: not a uv lock file (no `version = <number>` at the top)",
        ),
        (
            {"uv.lock": "version = 1\npackage = 3\n", "pyproject.toml": ""},
            "uv.lock:2: `package` must be an array of tables",
        ),
        (
            {"poetry.lock": "[metadata]\nlock-version = '2.1'\n", "pyproject.toml": ""},
            "poetry.lock: not a Poetry lock file (no [metadata] content-hash)",
        ),
        (
            {"poetry.lock": "<<<<<<< HEAD\n", "pyproject.toml": ""},
            "poetry.lock:1: invalid TOML",
        ),
        (
            {"Pipfile.lock": '{"_meta": {},\n "default": {\n}', "Pipfile": ""},
            "Pipfile.lock:3: invalid JSON: Expecting ',' delimiter",
        ),
        ({"Pipfile.lock": "{}", "Pipfile": ""}, "Pipfile.lock: not a Pipfile.lock (no `default`"),
        (
            {"requirements.txt": "flask\n\n-r missing.txt\n"},
            "requirements.txt:3: includes missing.txt, which does not exist",
        ),
        (
            {"requirements.txt": "-r ../../outside.txt\n"},
            "requirements.txt:1: ",
        ),
        (
            {"pyproject.toml": "[project]\ndependencies = 'flask'\n"},
            "pyproject.toml:2: [project].dependencies must be a list",
        ),
    ],
)
def test_lock_files_that_cannot_be_read_name_file_and_line(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    app = make_app(tmp_path / "app", files)
    with pytest.raises(BuildpackError, match=re.escape(f"{app}/{message}")):
        install_plan(app)


# --------------------------------------------------------------------------- requirements.txt


def test_requirements_includes_are_copied_with_their_folders(tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        {
            "requirements.txt": "-r requirements/prod.txt\n--index-url https://pypi.org/simple\n",
            "requirements/prod.txt": "-r base.txt\ngunicorn\n",
            "requirements/base.txt": "--requirement=../constraints.txt\ndjango\n",
            "constraints.txt": "asgiref==3.8.1\n",
        },
    )
    assert install_plan(app).steps == (
        Copy(
            (
                "requirements.txt",
                "requirements/prod.txt",
                "requirements/base.txt",
                "constraints.txt",
            )
        ),
        Run("pip install -r requirements.txt"),
    )


def test_requirements_with_local_packages_copy_the_source_first(tmp_path: Path) -> None:
    for requirements in (
        "-e .\nflask\n",
        "./vendor/lib-1.0-py3-none-any.whl\n",
        "lib @ file:///x\n",
    ):
        app = make_app(tmp_path, {"requirements.txt": requirements})
        assert install_plan(app).steps[0] == Copy((".",)), requirements
    joined = make_app(tmp_path / "j", {"requirements.txt": "flask \\\n  ==3.1  # pinned\n"})
    assert install_plan(joined).steps[0] == Copy(("requirements.txt",))


def test_pyproject_installs_declared_dependencies_before_the_code(tmp_path: Path) -> None:
    plan = install_plan(APPS / "pyproject-app")
    assert plan.steps == (
        Run(
            "pip install 'fastapi>=0.115,<1' 'uvicorn[standard]==0.32.1' "
            "\"pydantic-settings>=2.6 ; python_version >= '3.9'\""
        ),
        Copy((".",)),
        Run("pip install --no-deps ."),
    )
    dynamic = make_app(
        tmp_path, {"pyproject.toml": '[project]\nname = "x"\ndynamic = ["dependencies"]\n'}
    )
    assert install_plan(dynamic).steps[:2] == (
        Copy((".",)),
        Run(
            "pip install .",
            "pyproject.toml declares no static [project].dependencies, so pip needs the whole "
            "app to find them.",
        ),
    )
    plain = make_app(tmp_path / "plain", {"pyproject.toml": '[project]\nname = "y"\n'})
    assert install_plan(plain).steps == (Copy((".",)),)
