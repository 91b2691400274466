"""Reading a user's own Dockerfile: the ENTRYPOINT and CMD its final stage leaves on the image."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from paaskit.buildpack import BuildpackError, generate_dockerfile, image_command

APPS = Path(__file__).parent / "data" / "apps"


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


def test_image_command_of_generated_dockerfiles() -> None:
    # No ENTRYPOINT: a task's command replaces the CMD and nothing stands in between.
    assert image_command(generate_dockerfile(APPS / "flask")) == (
        None,
        ("/bin/sh", "-c", "exec gunicorn app:app --bind 0.0.0.0:$PORT --workers 2"),
    )
    assert image_command(generate_dockerfile(APPS / "flask-poetry")) == (
        None,
        ("gunicorn", "app:app", "--access-logfile", "-"),
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
