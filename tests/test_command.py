"""The one command rule, and what a container of an app really runs, in a real /bin/sh.

The first part states the rule (`paaskit.command`). The second checks what the
App composes by doing what Docker and ECS do with it, on this machine:

- the image's ENTRYPOINT and CMD are what the test's own Dockerfiles say (read
  by the test, not by paaskit), or what a generated Dockerfile's CMD line says;
- ECS gives the task definition's `entryPoint` to Docker as the Entrypoint and
  its `command` as the Cmd, and RunTask's `containerOverrides.command` (a
  release, a timer, `paaskit run`) replaces the Cmd (it has no entry point);
- moby's `merge` (daemon/commit.go): without a user Entrypoint the image's is
  kept and, without a user Cmd, the image's Cmd; a user Entrypoint drops the
  image's Cmd;
- the environment is the task's `environment` plus its `secrets` as ECS injects
  them: an SSM parameter's value, or one JSON key of a Secrets Manager secret
  (`<arn>:<key>::`), here the link secret the deploy runner wrote into moto.

The resulting argv runs for real, with stub programs on PATH (`python`,
`gunicorn`, the images' `docker-entrypoint.sh`) that print their argv, their
environment and their pid; `/bin/sh` is the machine's own (dash on Debian).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import textwrap
import urllib.parse
from pathlib import Path
from typing import Any

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paaskit.command import SHELL, command_argv, has_shell_syntax
from paaskit.plan import Plan
from paaskit.release.links import write_link
from tests.test_app import plan_app

# --- the rule ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "argv"),
    [
        ("python manage.py migrate --noinput", ("python", "manage.py", "migrate", "--noinput")),
        ('python -c "print(1)"', ("python", "-c", "print(1)")),
        ("bin/web --name 'a b'", ("bin/web", "--name", "a b")),
        (r"echo a\ b", ("echo", "a b")),
        ("  gunicorn app:app  ", ("gunicorn", "app:app")),
        (["python", "-m", "app"], ("python", "-m", "app")),
        (["sh", "-c", "echo $HOME"], ("sh", "-c", "echo $HOME")),
        # Shell syntax: /bin/sh -c, with `exec` before a single command.
        ("gunicorn --bind :$PORT", (*SHELL, "exec gunicorn --bind :$PORT")),
        ('echo "$HOME"', (*SHELL, 'exec echo "$HOME"')),
        ("./migrate && gunicorn app:app", (*SHELL, "./migrate && gunicorn app:app")),
        ("python app.py > /tmp/log", (*SHELL, "python app.py > /tmp/log")),
        ("cat *.txt", (*SHELL, "exec cat *.txt")),
        ("DEBUG=1 flask run", (*SHELL, "DEBUG=1 flask run")),
        ("cd /app; ls", (*SHELL, "cd /app; ls")),
        ("export A=1", (*SHELL, "export A=1")),
        ("exec gunicorn app:app", (*SHELL, "exec gunicorn app:app")),
        ("ls ~/x", (*SHELL, "exec ls ~/x")),
        ("echo `date`", (*SHELL, "echo `date`")),
        ("run # comment", (*SHELL, "exec run # comment")),
        ("a\nb", (*SHELL, "a\nb")),
        ("echo {a,b}", (*SHELL, "echo {a,b}")),
    ],
)
def test_the_command_rule(command, argv):
    assert command_argv(command) == argv


@pytest.mark.parametrize("bad", ["", "   ", [], ["ok", 3]])
def test_an_empty_or_mixed_command_is_refused(bad):
    with pytest.raises(ValueError, match="command"):
        command_argv(bad)


_WORD = st.text(
    alphabet=st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters="\x00"),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_WORD, min_size=1, max_size=4))
def test_a_split_command_is_what_sh_itself_would_run(words):
    """Whatever the rule splits without a shell, /bin/sh splits the same way."""
    text = " ".join(shlex.quote(w) for w in words)
    argv = command_argv(text)
    if argv[:2] == SHELL:
        return  # the shell runs it: nothing to compare
    script = 'for a in "$@"; do printf "%s\\0" "$a"; done'
    shell = subprocess.run(
        ["/bin/sh", "-c", f"set -- {text}; {script}"], capture_output=True, check=True
    )
    assert tuple(shell.stdout.decode().split("\0")[:-1]) == argv
    assert not has_shell_syntax(text)


# --- what containers run -------------------------------------------------------------

STUB = """#!{python}
import json, os, sys
print(json.dumps({{"argv": [os.path.basename(sys.argv[0]), *sys.argv[1:]],
                   "env": {{k: v for k, v in os.environ.items() if k != "PATH"}},
                   "pid": os.getpid()}}))
"""

ENTRYPOINT_SCRIPT = """#!/bin/sh
# An official image's docker-entrypoint.sh: prepare, then exec its arguments.
export FROM_ENTRYPOINT=yes
exec "$@"
"""


def docker_argv(
    image: tuple[list[str] | None, list[str] | None],
    task_entrypoint: list[str] | None,
    task_command: list[str] | None,
    override: list[str] | None,
) -> list[str]:
    """What Docker runs for an ECS container: moby's merge of the task's config and the image's."""
    image_entrypoint, image_cmd = image
    entrypoint = task_entrypoint
    cmd = override if override is not None else task_command  # RunTask replaces the Cmd only
    if not entrypoint:
        if not cmd:
            cmd = image_cmd
        if entrypoint is None:
            entrypoint = image_entrypoint
    return [*(entrypoint or []), *(cmd or [])]


def run_container(argv: list[str], env: dict[str, str], stubs: Path) -> dict[str, Any]:
    process = subprocess.Popen(
        argv,
        env={**env, "PATH": f"{stubs}:/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    result: dict[str, Any] = json.loads(out)
    result["started_pid"] = process.pid
    return result


@pytest.fixture(scope="module")
def stubs(tmp_path_factory) -> Path:
    folder: Path = tmp_path_factory.mktemp("stubs")
    for name in ("python", "gunicorn", "agent"):
        path = folder / name
        path.write_text(STUB.format(python=sys.executable))
        path.chmod(0o755)
    entrypoint = folder / "docker-entrypoint.sh"
    entrypoint.write_text(ENTRYPOINT_SCRIPT)
    entrypoint.chmod(0o755)
    return folder


MANIFEST = """
environment:
  - SECRET_KEY
resources:
  database:
    type: postgres
services:
  script:                      # ENTRYPOINT script + CMD
    build: script
    port: 8000
    resources: [database]
    release: python manage.py migrate --noinput
  execform:                    # CMD only, exec form
    build: execform
    resources: [database]
    release: python manage.py migrate --noinput
  shellform:                   # CMD only, shell form
    build: shellform
    port: 8001
    resources: [database]
    release: python manage.py migrate --noinput
  generated:                   # no Dockerfile: generated from the Procfile
    build: generated
    port: 8002
    resources: [database]
    release: python manage.py migrate --noinput
  prebuilt:                    # image: paaskit cannot know its ENTRYPOINT
    image: example/agent:1
    resources: [database]
    release: python manage.py migrate --noinput
timers:
  script-report:
    schedule: "0 3 * * *"
    command: python report.py --since "$SINCE"
    service: script
  execform-report:
    schedule: "0 3 * * *"
    command: python report.py
    service: execform
  shellform-report:
    schedule: "0 3 * * *"
    command: python report.py
    service: shellform
  generated-report:
    schedule: "0 3 * * *"
    command: python report.py
    service: generated
  prebuilt-report:
    schedule: "0 3 * * *"
    command: python report.py
    service: prebuilt
"""

DOCKERFILES = {
    "script": 'FROM python:3.12-slim\nCOPY docker-entrypoint.sh /usr/local/bin/\nENTRYPOINT ["docker-entrypoint.sh"]\nCMD ["gunicorn", "app.wsgi", "--bind", "0.0.0.0:8000"]\n',
    "execform": 'FROM python:3.12-slim\nCMD ["python", "worker.py"]\n',
    "shellform": "FROM python:3.12-slim\nCMD gunicorn app.wsgi --bind 0.0.0.0:$PORT\n",
}
"""The test's own images, and what each runs by itself (read by the test, below)."""

IMAGES: dict[str, tuple[list[str] | None, list[str] | None]] = {
    "script": (["docker-entrypoint.sh"], ["gunicorn", "app.wsgi", "--bind", "0.0.0.0:8000"]),
    "execform": (None, ["python", "worker.py"]),
    "shellform": (None, ["/bin/sh", "-c", "gunicorn app.wsgi --bind 0.0.0.0:$PORT"]),
    # A prebuilt image with an entrypoint script: the case paaskit must not override blindly.
    "prebuilt": (["docker-entrypoint.sh"], ["agent", "run"]),
}

PASSWORD = "p@ss:w/rd?#%& é"


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Plan:
    root = tmp_path_factory.mktemp("commands")
    (root / "paaskit.yml").write_text(textwrap.dedent(MANIFEST))
    for name, text in DOCKERFILES.items():
        (root / name).mkdir()
        (root / name / "Dockerfile").write_text(text)
    generated = root / "generated"
    generated.mkdir()
    (generated / "requirements.txt").write_text("gunicorn\n")
    # The service runs the Procfile process of its own name.
    (generated / "Procfile").write_text("generated: gunicorn app:app --bind 0.0.0.0:$PORT\n")
    return plan_app(root, environment={"SECRET_KEY": "s3cr3t"})


def _image_of(records: Plan, service: str) -> tuple[list[str] | None, list[str] | None]:
    if service in IMAGES:
        return IMAGES[service]
    # A generated Dockerfile: its last line is its CMD, in exec form.
    path = Path(records.named(f"shop-{service}-image").inputs["build"]["dockerfile"])
    last = path.read_text().strip().splitlines()[-1]
    assert last.startswith("CMD [")
    return None, json.loads(last.removeprefix("CMD "))


def _container(records: Plan, service: str) -> dict[str, Any]:
    (definition,) = json.loads(records.named(f"shop-{service}-task").inputs["containerDefinitions"])
    return dict(definition)


def _link_secrets_in_moto(records: Plan) -> dict[str, str]:
    """Run the deploy runner's `link` action against moto, as `pulumi up` would invoke it:
    the link secret's JSON, by the plan's secret ARN."""
    secrets = boto3.client("secretsmanager")
    values = {}
    for link in (
        r for r in records.of_type("aws:lambda/invocation:Invocation") if r.name.endswith("-link")
    ):
        event = json.loads(link.inputs["input"])
        source = secrets.create_secret(
            Name=f"rds-{event['resource']}",
            SecretString=json.dumps({"username": "app", "password": PASSWORD}),
        )["ARN"]
        target = secrets.create_secret(Name=f"{event['resource']}-url")["ARN"]
        write_link({**event, "sourceSecret": source, "linkSecret": target}, secrets=secrets)
        values[event["linkSecret"]] = secrets.get_secret_value(SecretId=target)["SecretString"]
    return values


def _environment(records: Plan, service: str, links: dict[str, str]) -> dict[str, str]:
    """The container's environment as ECS builds it: plain values, then resolved secrets."""
    container = _container(records, service)
    env = {e["name"]: e["value"] for e in container["environment"]}
    for secret in container["secrets"]:
        reference = secret["valueFrom"]
        if ":ssm:" in reference:
            env[secret["name"]] = "s3cr3t"  # SECRET_KEY's parameter
            continue
        arn, key, stage, version = reference.rsplit(":", 3)
        assert (stage, version) == ("", "")
        if arn in links:
            env[secret["name"]] = str(json.loads(links[arn])[key])
        else:  # a database's own secret, as RDS keeps it
            env[secret["name"]] = {"username": "app", "password": PASSWORD}[key]
    return env


def _override(records: Plan, kind: str, service: str) -> list[str] | None:
    if kind == "release":
        return list(json.loads(records.named(f"shop-{service}-release").inputs["input"])["command"])
    if kind == "timer":
        target = records.named(f"shop-timer-{service}-report").inputs["target"]
        (override,) = json.loads(target["input"])["containerOverrides"]
        assert override["name"] == service
        return list(override["command"])
    if kind == "run":
        # `paaskit run shop <service> -- 'python report.py --since "$SINCE"'`: one word, a
        # command line, composed by the rule of releases and timers (RunTask's override).
        from paaskit.ops.run import command_argv as typed_after_dashes

        return typed_after_dashes(['python report.py --since "$SINCE"'])
    return None


EXPECTED: dict[tuple[str, str | None], list[str]] = {
    # (service, override): the argv that must run
    ("script", None): ["gunicorn", "app.wsgi", "--bind", "0.0.0.0:8000"],
    ("execform", None): ["python", "worker.py"],
    ("shellform", None): ["gunicorn", "app.wsgi", "--bind", "0.0.0.0:8001"],
    ("generated", None): ["gunicorn", "app:app", "--bind", "0.0.0.0:8002"],
    ("prebuilt", None): ["agent", "run"],
    **{
        (service, "release"): ["python", "manage.py", "migrate", "--noinput"]
        for service in ("script", "execform", "shellform", "generated", "prebuilt")
    },
    ("script", "timer"): ["python", "report.py", "--since", "2026-01-01"],
    **{
        (service, "timer"): ["python", "report.py"]
        for service in ("execform", "shellform", "generated", "prebuilt")
    },
    **{
        (service, "run"): ["python", "report.py", "--since", "2026-01-01"]
        for service in ("script", "execform", "shellform", "generated", "prebuilt")
    },
}


@pytest.mark.parametrize(("service", "kind"), sorted(EXPECTED, key=str))
def test_each_container_runs_its_command_through_its_images_entrypoint(
    app, aws, stubs, service, kind
):
    links = _link_secrets_in_moto(app)
    container = _container(app, service)
    argv = docker_argv(
        _image_of(app, service),
        container.get("entryPoint"),
        container.get("command"),
        _override(app, kind, service),
    )
    env = {**_environment(app, service, links), "SINCE": "2026-01-01"}
    ran = run_container(argv, env, stubs)

    assert ran["argv"] == EXPECTED[(service, kind)]
    # The images with an entrypoint script ran it, whatever the command.
    assert (ran["env"].get("FROM_ENTRYPOINT") == "yes") == (service in ("script", "prebuilt"))
    # The program itself is the process the container started (exec all the way down),
    # so it gets the SIGTERM that stops the container; except under the image's own
    # shell-form CMD, which Docker runs as `/bin/sh -c` as written (Docker's caveat).
    assert (ran["pid"] == ran["started_pid"]) == ((service, kind) != ("shellform", None))
    url = urllib.parse.urlsplit(ran["env"]["DATABASE_URL"])
    assert (url.scheme, url.username, url.port, url.path) == ("postgres", "app", 5432, "/app")
    assert urllib.parse.unquote(url.password or "") == PASSWORD
    assert url.hostname == ran["env"]["DATABASE_HOST"]
    assert ran["env"]["DATABASE_PASS"] == PASSWORD
    assert ran["env"]["SECRET_KEY"] == "s3cr3t"


def test_no_container_sets_an_entry_point(app):
    for record in app.of_type("aws:ecs/taskDefinition:TaskDefinition"):
        (container,) = json.loads(record.inputs["containerDefinitions"])
        assert "entryPoint" not in container, record.name


# --- the Django example, as the issue asks -------------------------------------------

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_the_django_examples_release_runs_migrate_with_database_url(aws, stubs, tmp_path):
    records = plan_app(EXAMPLES / "django", environment={"SECRET_KEY": "s3cr3t"}, name="shop")
    links = _link_secrets_in_moto(records)
    dockerfile = (EXAMPLES / "django" / "Dockerfile").read_text()
    cmd_line = next(line for line in dockerfile.splitlines() if line.startswith("CMD "))
    assert "ENTRYPOINT" not in dockerfile
    container = _container(records, "web")
    argv = docker_argv(
        (None, json.loads(cmd_line.removeprefix("CMD "))),
        container.get("entryPoint"),
        container.get("command"),
        _override(records, "release", "web"),
    )
    ran = run_container(argv, _environment(records, "web", links), stubs)
    assert ran["argv"] == ["python", "manage.py", "migrate", "--noinput"]
    url = urllib.parse.urlsplit(ran["env"]["DATABASE_URL"])
    assert url.scheme == "postgres"
    assert url.hostname == ran["env"]["DATABASE_HOST"]
    assert urllib.parse.unquote(url.password or "") == PASSWORD


def test_stub_programs_really_print_what_they_got(stubs):
    ran = run_container(["python", "a b", "$X"], {"X": "1"}, stubs)
    assert ran["argv"] == ["python", "a b", "$X"]
    assert ran["env"]["X"] == "1"
    assert os.path.basename(str(stubs / "python")) == "python"
