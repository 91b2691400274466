"""`paaskit start`: an app's services on this machine, as `heroku local` runs them."""

from __future__ import annotations

import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from paaskit.buildpack import BuildpackError
from paaskit.cli import main
from paaskit.local import LocalError, LocalProcess, local_processes, read_env_file, run
from paaskit.manifest import ManifestError

APPS = Path(__file__).parent / "data" / "apps"
EXAMPLES = Path(__file__).parent.parent / "examples"


def make_app(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


# --------------------------------------------------------------------------- .env


def test_env_file_reads_herokus_format(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(
        "# local settings\n"
        "SECRET_KEY=abc  # a comment\n"
        "export DEBUG=true\n"
        "EMPTY=\n"
        "SINGLE='a $literal # not a comment'\n"
        'DOUBLE="line\\nbreak \\"quoted\\"" # comment\n'
        "URL=postgres://u:p@localhost:5432/db?sslmode=disable#frag\n"
    )
    assert read_env_file(env) == {
        "SECRET_KEY": "abc",
        "DEBUG": "true",
        "EMPTY": "",
        "SINGLE": "a $literal # not a comment",
        "DOUBLE": 'line\nbreak "quoted"',
        "URL": "postgres://u:p@localhost:5432/db?sslmode=disable#frag",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("OK=1\nnot a line\n", ".env:2: expected KEY=value"),
        ("A='open\n", ".env:1: A: the quote is not closed"),
        ('A="x" y\n', ".env:1: A: unexpected text after the quotes"),
        ("1A=x\n", ".env:1: expected KEY=value"),
    ],
)
def test_bad_env_files_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / ".env").write_text(text)
    with pytest.raises(LocalError, match=re.escape(message)):
        read_env_file(tmp_path / ".env")


# --------------------------------------------------------------------------- what runs


def test_a_procfile_app_runs_every_process_but_release(tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        {
            "Procfile": "web: gunicorn app:app --bind :$PORT\nrelease: ./migrate\nworker: rq worker\n",
            ".env": "QUEUE=jobs\n",
        },
    )
    processes, notes = local_processes(app)
    assert [(p.name, p.argv, p.port) for p in processes] == [
        ("web", ("/bin/sh", "-c", "exec gunicorn app:app --bind :$PORT"), 5000),
        ("worker", ("rq", "worker"), 5100),
    ]
    web = processes[0].environment
    assert (web["PORT"], web["QUEUE"], web["SERVICE"], web["RACK"]) == (
        "5000",
        "jobs",
        "web",
        "local",
    )
    assert notes == ["release: not run by paaskit start (it runs on deploy): ./migrate"]
    only, _ = local_processes(app, services=["worker"], base_port=8000)
    assert [(p.name, p.port) for p in only] == [("worker", 8000 + 100)]


MANIFEST = """\
environment:
  - SECRET_KEY
  - DEBUG=false
  - LEVEL=info
resources:
  database:
    type: postgres
services:
  web:
    build: .
    port: 8000
    resources: [database]
    scale: {memory: 1024, cpu: 2048}
  worker:
    build: .
    environment: [QUEUE=default]
  clock:
    build: .
    command: ["python", "-m", "clock", "--every", "60"]
  report:
    build: reports
    command: python report.py > /tmp/report.txt
  agent:
    image: public.ecr.aws/datadog/agent:7
"""


def test_a_manifest_runs_what_each_container_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(
        tmp_path,
        {
            "paaskit.yml": MANIFEST,
            "Procfile": "web: gunicorn app:app\nworker: celery -A app worker\n",
            "reports/report.py": "",
            ".env": "LEVEL=debug\n",
        },
    )
    monkeypatch.setenv("DEBUG", "true")  # the shell wins over the manifest's default
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    processes, notes = local_processes(app)
    by_name = {p.name: p for p in processes}
    assert list(by_name) == ["web", "worker", "clock", "report"]
    assert by_name["web"].argv == ("gunicorn", "app:app")  # the Procfile process of its name
    assert by_name["worker"].argv == ("celery", "-A", "app", "worker")
    assert by_name["clock"].argv == ("python", "-m", "clock", "--every", "60")
    assert by_name["report"].argv == ("/bin/sh", "-c", "python report.py > /tmp/report.txt")
    assert by_name["report"].cwd == (tmp_path / "reports").resolve()
    web = by_name["web"].environment
    assert (web["PORT"], web["WEB_CONCURRENCY"]) == ("5000", "4")  # 1 GiB, 2 vCPUs
    assert (web["DEBUG"], web["LEVEL"]) == ("true", "debug")
    assert by_name["worker"].environment["QUEUE"] == "default"
    assert by_name["worker"].port is None
    source = app / "paaskit.yml"
    assert notes == [
        f"web: SECRET_KEY required by {source} and not set (add to .env)",
        "web: DATABASE_URL is not set: paaskit start runs no resources (set it in .env)",
        f"worker: SECRET_KEY required by {source} and not set (add to .env)",
        f"clock: SECRET_KEY required by {source} and not set (add to .env)",
        f"report: SECRET_KEY required by {source} and not set (add to .env)",
        "agent: runs the image public.ecr.aws/datadog/agent:7: not started here",
    ]


def test_a_service_with_its_own_dockerfile_runs_the_images_command(tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        {
            "paaskit.yml": "services:\n  web:\n    build: .\n    port: 8000\n",
            "Dockerfile": 'FROM python:3.12\nENTRYPOINT ["python"]\nCMD ["-m", "app"]\n',
        },
    )
    processes, _ = local_processes(app)
    assert processes[0].argv == ("python", "-m", "app")
    django, _ = local_processes(EXAMPLES / "django", env_file=os.devnull)
    assert django[0].argv[0] == "gunicorn"


@pytest.mark.parametrize(
    ("files", "error", "message"),
    [
        ({}, LocalError, "no paaskit.yml or convox.yml and no Procfile"),
        (
            {"paaskit.yml": "services:\n  worker:\n    build: .\n", "Procfile": "web: x\n"},
            BuildpackError,
            "Procfile: no 'worker' process (has: web)",
        ),
        (
            {"paaskit.yml": "services:\n  worker:\n    build: .\n"},
            LocalError,
            "services.worker: nothing to run: no command, and",
        ),
        (
            {
                "paaskit.yml": "services:\n  web:\n    build: .\n    port: 8000\n"
                "    environment: [PORT=5000]\n",
                "Procfile": "web: x\n",
            },
            BuildpackError,
            "paaskit.yml: services.web.environment.PORT: '5000' differs from the service's port 8000",
        ),
        ({"paaskit.yml": "services: [\n"}, ManifestError, "paaskit.yml: invalid YAML"),
        ({"Procfile": "web: x\n", ".env": "nope\n"}, LocalError, ".env:1: expected KEY=value"),
    ],
)
def test_what_cannot_start_is_an_error_naming_file_or_key(
    tmp_path: Path, files: dict[str, str], error: type[Exception], message: str
) -> None:
    app = make_app(tmp_path, files)
    with pytest.raises(error, match=re.escape(message)):
        local_processes(app)


def test_unknown_services_are_named(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"Procfile": "web: x\n"})
    with pytest.raises(LocalError, match=r"no process 'wrker' to start \(there are: web\)"):
        local_processes(app, services=["wrker"])


# --------------------------------------------------------------------------- running


def alive(pid: int) -> bool:
    """Whether a process runs (a zombie waiting for its new parent to reap it does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _process(name: str, script: str, tmp_path: Path) -> LocalProcess:
    return LocalProcess(
        name, ("/bin/sh", "-c", script), tmp_path, {"PATH": os.environ["PATH"]}, None
    )


def test_run_stops_everything_when_one_fails_and_returns_its_status(tmp_path: Path) -> None:
    out = io.StringIO()
    started = time.monotonic()
    status = run(
        [
            _process("web", "echo serving; exec sleep 30", tmp_path),
            _process("job", "echo working; sleep 0.3; echo failing >&2; exit 3", tmp_path),
        ],
        grace=5,
        stream=out,
    )
    assert status == 3
    assert time.monotonic() - started < 10  # web was stopped, not waited for
    lines = out.getvalue().splitlines()
    assert "web     | serving" in lines
    assert "job     | failing" in lines  # stderr too, prefixed
    assert "paaskit | job exited with 3" in lines


def test_run_kills_what_ignores_sigterm_after_the_grace(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    out = io.StringIO()
    status = run(
        [
            _process(
                "stubborn",
                f"trap '' TERM; sleep 60 & echo $! > {pids}; wait",
                tmp_path,
            ),
            _process("short", "sleep 0.5; exit 0", tmp_path),
        ],
        grace=0.5,
        stream=out,
    )
    assert status == 0  # nothing failed: `short` finished
    assert not alive(int(pids.read_text()))  # the whole group went, the shell's child too


def test_a_command_that_cannot_start_is_127(tmp_path: Path) -> None:
    out = io.StringIO()
    process = LocalProcess("web", ("/no/such/program",), tmp_path, {}, None)
    assert run([process], grace=1, stream=out) == 127
    assert "web     | paaskit: cannot start:" in out.getvalue()


def test_paaskit_start_serves_port_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        {
            "Procfile": (
                "web: python3 -m http.server $PORT --bind 127.0.0.1\n"
                "stubborn: trap 'echo ignoring TERM' TERM; echo $$ > stubborn.pid;"
                " while true; do sleep 0.1; done\n"
            ),
            "index.html": "hello from paaskit start",
        },
    )
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "paaskit", "start", str(app), "--port", str(port), "--grace", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    try:
        body = b""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    body = response.read()
                break
            except OSError:
                time.sleep(0.2)
        assert body == b"hello from paaskit start"
        while not (app / "stubborn.pid").is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130
    assert "stopping web, stubborn (SIGTERM, then SIGKILL after 1 s)" in output
    assert "stubborn | ignoring TERM" in output
    assert not alive(int((app / "stubborn.pid").read_text()))


def free_port() -> int:
    """A free port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_cli_reports_errors_with_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_app(tmp_path, {"Procfile": "web:\n"})
    assert main(["start", str(tmp_path)]) == 1
    assert f"paaskit start: error: {tmp_path / 'Procfile'}:1: process 'web' has no command" in (
        capsys.readouterr().err
    )
