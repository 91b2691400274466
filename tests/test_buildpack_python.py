"""Which Python an app builds with, the image tag that has it, and the table of published tags."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from paaskit.buildpack import (
    BASE_IMAGE_VARIANT,
    DEFAULT_PYTHON_MINOR,
    DEFAULT_PYTHON_VERSION,
    PYTHON_PATCHES,
    BuildpackError,
    image_table,
    resolve_python,
    resolve_python_version,
)
from paaskit.data import python_images

APPS = Path(__file__).parent / "data" / "apps"


def make_app(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def published(version: str, variant: str) -> bool:
    minor = version.rsplit(".", 1)[0]
    return version in image_table()["versions"].get(minor, {}).get(variant, [])


# --------------------------------------------------------------------------- the table


def test_the_table_is_dated_and_names_its_source() -> None:
    table = image_table()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", table["as_of"])
    assert "official-images" in table["source"] or "Docker Hub" in table["source"]
    assert table["variants"] == list(python_images.VARIANTS)


def test_the_table_is_what_its_script_renders() -> None:
    table = image_table()
    found: dict[str, set[str]] = {}
    for per_variant in table["versions"].values():
        for variant, versions in per_variant.items():
            found.setdefault(variant, set()).update(versions)
    text = python_images.render(found, table["as_of"], table["source"])
    assert text == python_images.OUTPUT.read_text()


def test_the_issues_tags_are_right_in_the_table() -> None:
    # From the issue: trixie images start at later patches; 3.10.8 exists on bullseye only.
    versions = image_table()["versions"]
    assert versions["3.10"]["trixie"][0] == "3.10.18"
    assert versions["3.12"]["trixie"][0] == "3.12.11"
    assert versions["3.9"]["trixie"][0] == "3.9.23"
    assert "trixie" not in versions["3.8"]
    assert not published("3.12.7", "trixie")
    assert published("3.12.7", "bookworm")
    assert published("3.10.8", "bullseye")


def test_every_resolved_default_is_a_published_tag() -> None:
    for version in PYTHON_PATCHES.values():
        assert published(version, "trixie"), version
    assert PYTHON_PATCHES[DEFAULT_PYTHON_MINOR] == DEFAULT_PYTHON_VERSION
    assert BASE_IMAGE_VARIANT == "slim-trixie"
    assert "3.9" not in PYTHON_PATCHES  # past its end of life on the table's date


LIBRARY_FILE = """\
# this file is generated
Maintainers: Someone (@someone)
GitRepo: https://github.com/docker-library/python.git
Architectures: amd64, arm64v8

Tags: 3.12.7-slim-bookworm, 3.12-slim-bookworm, 3.12.7-slim, 3.12-slim
Architectures: amd64, arm32v7, arm64v8
Directory: 3.12/slim-bookworm

Tags: 3.12.7-slim-bullseye
Directory: 3.12/slim-bullseye

Tags: 3.12.7-slim-trixie
Architectures: amd64
Directory: 3.12/slim-trixie

Tags: 3.13.0rc1-slim-trixie, 3.11.2-alpine3.20, 3.11.2-slim-buster, 3.7.1-slim-bullseye
"""


def test_the_library_file_reader_keeps_only_tags_for_both_architectures() -> None:
    tags = dict(python_images.parse_library_file(LIBRARY_FILE))
    assert tags["3.12.7-slim-bookworm"] == {"amd64", "arm32v7", "arm64v8"}
    assert tags["3.12.7-slim-bullseye"] == {"amd64", "arm64v8"}  # the file's default
    kept = {
        python_images._keep(tag, architectures)
        for tag, architectures in python_images.parse_library_file(LIBRARY_FILE)
    } - {None}
    # trixie was built for amd64 only; an rc, alpine, buster and 3.7 are not kept.
    assert kept == {("bookworm", "3.12.7"), ("bullseye", "3.12.7")}
    old = "latest: git://github.com/docker-library/python@abc 3\n3.4.1: git://x@y 3.4\n"
    assert dict(python_images.parse_library_file(old)) == {
        "latest": {"amd64"},
        "3.4.1": {"amd64"},
    }


def test_the_refresh_script_reads_an_official_images_history(tmp_path: Path) -> None:
    repo = tmp_path / "official-images"
    (repo / "library").mkdir(parents=True)

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-C", str(repo), *args],
            check=True,
            capture_output=True,
            env={
                "GIT_AUTHOR_NAME": "t",
                "GIT_AUTHOR_EMAIL": "t@example.com",
                "GIT_COMMITTER_NAME": "t",
                "GIT_COMMITTER_EMAIL": "t@example.com",
                "GIT_COMMITTER_DATE": "2026-01-02T00:00:00Z",
                "GIT_AUTHOR_DATE": "2026-01-02T00:00:00Z",
                "HOME": str(tmp_path),
            },
        )

    git("init", "-q")
    (repo / "library" / "python").write_text(LIBRARY_FILE)
    git("add", ".")
    git("commit", "-q", "-m", "first")
    (repo / "library" / "python").write_text(
        "Architectures: amd64, arm64v8\n\nTags: 3.12.8-slim-trixie\n"
    )
    git("commit", "-q", "-am", "second: 3.12.7 is no longer built, but stays published")
    out = tmp_path / "table.json"
    assert python_images.main(["--git", str(repo), "--out", str(out)]) == 0
    table = json.loads(out.read_text())
    assert table["as_of"] == "2026-01-02"
    assert table["versions"] == {
        "3.12": {"trixie": ["3.12.8"], "bookworm": ["3.12.7"], "bullseye": ["3.12.7"]}
    }
    assert python_images.main(["--git", str(repo), "--out", str(out), "--check"]) == 0
    out.write_text(out.read_text().replace("3.12.8", "3.12.9"))
    assert python_images.main(["--git", str(repo), "--out", str(out), "--check"]) == 1


def test_docker_hubs_architecture_names_map_to_official_images_names() -> None:
    assert python_images._hub_architecture({"architecture": "arm64", "variant": "v8"}) == "arm64v8"
    assert python_images._hub_architecture({"architecture": "amd64"}) == "amd64"
    assert python_images._hub_architecture({"architecture": "arm", "variant": "v6"}) == "arm32v6"


# --------------------------------------------------------------------------- resolution


def test_python_version_sources_in_herokus_order(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"requirements.txt": ""})
    default = resolve_python(app)
    assert (default.version, default.source) == (DEFAULT_PYTHON_VERSION, "default")
    assert "no Python version named" in default.warnings[0]
    (app / "pyproject.toml").write_text('[project]\nrequires-python = ">=3.10,<3.12"\n')
    assert resolve_python(app).version == PYTHON_PATCHES["3.11"]
    assert resolve_python(app).source == "pyproject.toml:2"
    (app / "uv.lock").write_text('version = 1\nrequires-python = ">=3.12,<3.13"\n')
    assert resolve_python(app).version == PYTHON_PATCHES["3.12"]
    (app / "Pipfile.lock").write_text(
        json.dumps({"_meta": {"requires": {"python_version": "3.13"}}}, indent=4)
    )
    assert resolve_python(app).version == PYTHON_PATCHES["3.13"]
    assert resolve_python(app).source == "Pipfile.lock:4"
    # ...but only for a pipenv app, as Heroku reads it.
    assert resolve_python(app, package_manager="uv").version == PYTHON_PATCHES["3.12"]
    (app / ".python-version").write_text("# pyenv\n3.13\n")
    assert resolve_python(app).source == ".python-version:2"
    assert resolve_python(app).version == PYTHON_PATCHES["3.13"]
    (app / "runtime.txt").write_text("python-3.12.7\n")
    pinned = resolve_python(app)
    assert (pinned.version, pinned.image, pinned.source) == (
        "3.12.7",
        "python:3.12.7-slim-bookworm",
        "runtime.txt:1",
    )
    assert resolve_python(app, "3.10").version == PYTHON_PATCHES["3.10"]
    assert resolve_python(app, "3.14.2").image == "python:3.14.2-slim-trixie"
    assert resolve_python_version(app) == "3.12.7"


def test_an_old_patch_gets_the_newest_debian_it_was_published_on(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"runtime.txt": "python-3.10.8\n"})
    version = resolve_python(app)
    assert version.image == "python:3.10.8-slim-bullseye"
    assert published("3.10.8", "bullseye")
    messages = "\n".join(version.warnings)
    assert f"runtime.txt:1: Python 3.10.8 is pinned; {PYTHON_PATCHES['3.10']} has" in messages
    assert "published on Debian bullseye at newest" in messages
    assert "Python 3.10 reaches its end of life in 2026-10" in messages


def test_a_newest_patch_on_the_newest_debian_warns_of_nothing(tmp_path: Path) -> None:
    app = make_app(tmp_path, {".python-version": f"{PYTHON_PATCHES['3.13']}\n"})
    assert resolve_python(app).warnings == ()


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (">=3.8", PYTHON_PATCHES["3.14"]),
        ("~=3.11", PYTHON_PATCHES["3.14"]),
        (">=3.13", PYTHON_PATCHES["3.14"]),
        ("==3.11.*", PYTHON_PATCHES["3.11"]),
        ("<3.12", PYTHON_PATCHES["3.11"]),
        (">3.10,!=3.14.*", PYTHON_PATCHES["3.13"]),
        ("~=3.10.0", PYTHON_PATCHES["3.10"]),
        ("==3.12.3", "3.12.3"),
        (">=3.12,<3.12.5", "3.12.4"),
    ],
)
def test_requires_python_picks_the_newest_release_that_satisfies_it(
    tmp_path: Path, spec: str, expected: str
) -> None:
    app = make_app(tmp_path, {"pyproject.toml": f'[project]\nrequires-python = "{spec}"\n'})
    assert resolve_python(app).version == expected


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"runtime.txt": "3.12\n"}, "runtime.txt:1: expected python-3.X.Y (got '3.12')"),
        ({"runtime.txt": "# nothing\n"}, "runtime.txt: names no version"),
        (
            {"runtime.txt": "python-3.9.18\n"},
            "runtime.txt:1: Python 3.9 reached its end of life in 2025-10",
        ),
        ({"runtime.txt": "python-2.7.18\n"}, "runtime.txt:1: expected a CPython version"),
        (
            {"runtime.txt": "\n\npython-3.12.99\n"},
            "runtime.txt:3: Python 3.12.99 was never published",
        ),
        ({"runtime.txt": "python-3.10.8\n"}, None),
        ({".python-version": "pypy3.10\n"}, ".python-version:1: expected a CPython version"),
        ({".python-version": "3.12.01\n"}, ".python-version:1: expected a CPython version"),
        ({".python-version": "# nothing\n"}, ".python-version: names no version"),
        ({".python-version": "3.12\n3.13\n"}, ".python-version:2: a second version ('3.13')"),
        ({".python-version": "3.16\n"}, ".python-version:1: Python 3.16 has no official image"),
        (
            {"pyproject.toml": '[project]\nname = "x"\nrequires-python = ">=4"\n'},
            "pyproject.toml:3: no supported Python release satisfies requires-python '>=4'",
        ),
        (
            {"pyproject.toml": '[project]\nrequires-python = "3.12"\n'},
            "pyproject.toml:2: cannot read requires-python clause",
        ),
        ({"pyproject.toml": "[project\n"}, "pyproject.toml:1: invalid TOML"),
        ({"uv.lock": "version = 1\nrequires-python = 3\n"}, "uv.lock:2: requires-python must be"),
        ({"Pipfile.lock": '{\n  "_meta": [\n'}, "Pipfile.lock:3: invalid JSON"),
    ],
)
def test_bad_python_versions_name_the_file_and_line(
    tmp_path: Path, files: dict[str, str], message: str | None
) -> None:
    app = make_app(tmp_path, files)
    if message is None:
        resolve_python(app)
        return
    with pytest.raises(BuildpackError, match=re.escape(message)):
        resolve_python(app)


def test_a_requested_version_is_named_as_its_setting(tmp_path: Path) -> None:
    with pytest.raises(BuildpackError, match=r"^paaskit-app:pythonVersion: Python 3\.8 reached"):
        resolve_python(tmp_path, "3.8", requested_source="paaskit-app:pythonVersion")


def test_a_python_version_file_with_a_byte_order_mark_still_reads(tmp_path: Path) -> None:
    (tmp_path / ".python-version").write_bytes(b"\xef\xbb\xbf3.12\n")
    assert resolve_python(tmp_path).version == PYTHON_PATCHES["3.12"]
    (tmp_path / ".python-version").write_bytes("3.12\n".encode("utf-16"))
    with pytest.raises(BuildpackError, match="not UTF-8 text"):
        resolve_python(tmp_path)
