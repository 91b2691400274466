"""The Procfile: processes, `release:`, and the argv a Procfile command runs as."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paaskit.buildpack import (
    BuildpackError,
    command_argv,
    has_shell_syntax,
    parse_procfile,
    process_command,
    read_procfile,
    release_command,
    service_process,
)

APPS = Path(__file__).parent / "data" / "apps"


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
        ("web: a\nweb: b\n", "app/Procfile:2: process 'web' is declared twice (first on line 1)"),
        ("web:\n", "app/Procfile:1: process 'web' has no command"),
        ("we b: x\n", "app/Procfile:1: expected"),
        ("w" * 64 + ": x\n", "app/Procfile:1: expected"),
    ],
)
def test_bad_procfiles_name_file_and_line(text: str, message: str) -> None:
    with pytest.raises(BuildpackError, match=re.escape(message)):
        parse_procfile(text, source="app/Procfile")


def test_a_service_runs_the_process_of_its_own_name() -> None:
    app = APPS / "flask"
    assert process_command(app, "web") == "gunicorn app:app --bind 0.0.0.0:$PORT --workers 2"
    assert process_command(app, "worker") == "celery -A app.celery worker"
    assert release_command(app) == "flask db upgrade"
    procfile = read_procfile(app)
    assert procfile is not None
    assert procfile.lines == {"web": 2, "release": 3, "worker": 4}


def test_a_missing_process_names_the_procfile_and_what_it_has(tmp_path: Path) -> None:
    (tmp_path / "Procfile").write_text("web: gunicorn app:app\nrelease: ./migrate\n")
    with pytest.raises(
        BuildpackError,
        match=re.escape(f"{tmp_path / 'Procfile'}: no 'worker' process (has: web, release)"),
    ):
        process_command(tmp_path, "worker")


def test_one_rule_says_which_process_a_service_runs(tmp_path: Path) -> None:
    # The App's rule and `paaskit start`'s: the process of the service's own name.
    (tmp_path / "Procfile").write_text("web: gunicorn app:app\nworker: rq worker\n")
    assert service_process(tmp_path, "worker", own_dockerfile=False) == "worker"
    assert service_process(tmp_path, "worker", own_dockerfile=True) == "worker"
    # An own Dockerfile without the process runs its image's CMD...
    assert service_process(tmp_path, "clock", own_dockerfile=True) is None
    # ...a generated one has nothing else to run: never the web server by default.
    with pytest.raises(BuildpackError, match=r"Procfile: no 'clock' process \(has: web, worker\)"):
        service_process(tmp_path, "clock", own_dockerfile=False)
    assert service_process(tmp_path / "missing", "web", own_dockerfile=False) is None


def test_no_procfile_means_no_process_and_no_release(tmp_path: Path) -> None:
    assert process_command(tmp_path, "web") is None
    assert release_command(tmp_path) is None
    (tmp_path / "Procfile").write_text("web: x\n")
    assert release_command(tmp_path) is None


def test_a_procfile_that_is_not_text_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "Procfile").write_bytes(b"web: \xff\xfe\n")
    with pytest.raises(BuildpackError, match="Procfile: not UTF-8 text"):
        read_procfile(tmp_path)


@pytest.mark.parametrize(
    ("command", "argv"),
    [
        ("gunicorn app:app", ("gunicorn", "app:app")),
        ("gunicorn 'my app:app' --log-file -", ("gunicorn", "my app:app", "--log-file", "-")),
        (
            "exec gunicorn app:app --bind :$PORT",
            ("/bin/sh", "-c", "exec gunicorn app:app --bind :$PORT"),
        ),
        (
            "gunicorn app:app --bind :$PORT",
            ("/bin/sh", "-c", "exec gunicorn app:app --bind :$PORT"),
        ),
        ("./migrate && gunicorn app:app", ("/bin/sh", "-c", "./migrate && gunicorn app:app")),
        ("DEBUG=1 flask run", ("/bin/sh", "-c", "DEBUG=1 flask run")),
        ("python app.py > /tmp/log", ("/bin/sh", "-c", "python app.py > /tmp/log")),
        ("celery -A 'app' worker -Q a,b", ("celery", "-A", "app", "worker", "-Q", "a,b")),
        # Quoted text is read as sh reads it (paaskit.command): no shell needed.
        ("python -c 'print(1)'", ("python", "-c", "print(1)")),
        ("rm *.pid; x", ("/bin/sh", "-c", "rm *.pid; x")),
        ("echo 'unclosed", ("/bin/sh", "-c", "exec echo 'unclosed")),
        ("exec gunicorn app:app", ("/bin/sh", "-c", "exec gunicorn app:app")),
        ("cd src", ("/bin/sh", "-c", "cd src")),
    ],
)
def test_command_argv_splits_plain_words_and_shells_the_rest(
    command: str, argv: tuple[str, ...]
) -> None:
    assert command_argv(command) == argv


def test_command_argv_refuses_nothing() -> None:
    with pytest.raises(BuildpackError, match="command: must not be empty"):
        command_argv("  ")


def _as_shell_runs_it(command: str) -> str:
    """What `/bin/sh -c <command>` passes to the program: the shell's own reading."""
    script = f"printargs() {{ /usr/bin/printf '[%s]\\n' \"$@\"; }}\n{command}"
    return subprocess.run(
        ["/bin/sh", "-c", script], capture_output=True, check=True
    ).stdout.decode()


def _as_argv_runs_it(command: str) -> str:
    argv = command_argv(command)
    assert argv[0] == "printargs"
    return subprocess.run(
        ["/usr/bin/printf", "[%s]\\n", *argv[1:]], capture_output=True, check=True
    ).stdout.decode()


@pytest.mark.parametrize(
    "command",
    [
        "printargs plain words",
        "printargs 'single quoted' \"double quoted\" mixed'quo'\"tes\"",
        "printargs back\\ slash 'it'\\''s' a=b --opt=value",
        "printargs '' \"\" empty-args",
        "printargs unicode-é '日本'",
    ],
)
def test_split_commands_mean_what_sh_means(command: str) -> None:
    assert not has_shell_syntax(command)
    assert _as_argv_runs_it(command) == _as_shell_runs_it(command)


WORD = st.text(
    alphabet=st.characters(
        codec="utf-8", exclude_categories=["Cs", "Cc"], exclude_characters="\x00"
    ),
    min_size=0,
    max_size=8,
)


@settings(max_examples=40, deadline=None)
@given(st.lists(WORD, min_size=1, max_size=4), st.sampled_from(["'", '"', ""]))
def test_any_words_split_as_sh_splits_them_or_go_through_sh(words: list[str], quote: str) -> None:
    def quoted(word: str) -> str:
        if quote == "'":
            return "'" + word.replace("'", "'\\''") + "'"
        if quote == '"':
            return '"' + re.sub(r'(["\\$`])', r"\\\1", word) + '"'
        return word

    command = "printargs " + " ".join(quoted(word) for word in words)
    argv = command_argv(command)
    if argv[:2] == ("/bin/sh", "-c"):
        return  # the shell reads it: the same by definition
    assert _as_argv_runs_it(command) == _as_shell_runs_it(command)
