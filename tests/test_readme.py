"""The README's quickstart is what CI runs, and what it says is true."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def quickstart() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    return [line for line in block.group(1).splitlines() if line and not line.startswith("#")]


def test_quickstart_is_exactly_two_commands():
    commands = quickstart()
    assert len(commands) == 2
    assert commands[0].endswith("paaskit plan .")
    assert commands[1].endswith("pytest")


def test_ci_runs_the_readmes_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert quickstart()[1] in ci


def _python_blocks(section: str) -> list[str]:
    text = (ROOT / "README.md").read_text()
    body = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", body, re.S)


BOUNDARY = "arn:aws:iam::123456789012:policy/platform-boundary"


def test_the_readmes_permissions_boundary_examples_plan_as_they_say():
    from paaskit.testing import plan

    component_level, stack_wide = _python_blocks("Using the components in your own programs")

    # The README's own code, run as a program: S102 is about untrusted input.
    roles = plan(lambda: exec(component_level, {})).of_type("aws:iam/role:Role")  # noqa: S102
    bounded = {r.name for r in roles if r.inputs.get("permissionsBoundary") == BOUNDARY}
    assert bounded == {"rack-cluster-node-role"}

    roles = plan(lambda: exec(stack_wide, {})).of_type("aws:iam/role:Role")  # noqa: S102
    assert len(roles) > 2
    assert all(r.inputs.get("permissionsBoundary") == BOUNDARY for r in roles)


def test_the_readme_says_which_databases_are_multi_az():
    # It once said an app's own postgres is Multi-AZ by default; `durable` is off, as in Convox.
    from paaskit import RackArgs
    from paaskit.config import default_at
    from paaskit.manifest import PostgresOptions, parse_manifest

    text = (ROOT / "README.md").read_text()
    section = " ".join(text.split("### Database", 1)[1].split("\n## ", 1)[0].split())
    assert "The rack's is Multi-AZ by default" in section
    assert (
        "an app's own is in one zone (~$14 a month) unless its resource says `durable: true`"
        in section
    )
    assert default_at(RackArgs, "database.multi_az") is True
    manifest = parse_manifest(
        "resources:\n  db:\n    type: postgres\nservices:\n  web:\n    image: nginx\n"
    )
    options = manifest.resources["db"].options
    assert isinstance(options, PostgresOptions)
    assert options.durable is False


# --- every `paaskit plan` the README shows: a plan, and nothing on stderr -------------------------


def plan_commands() -> list[list[str]]:
    """The arguments of each `paaskit plan` command of the README's shell blocks, once each
    (`.venv/bin/` and a `> file` redirection left out)."""
    text = (ROOT / "README.md").read_text()
    found: list[list[str]] = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for line in block.splitlines():
            command = re.search(r"(?:^|&& )(?:\.venv/bin/)?paaskit plan (.*)", line.split(" #")[0])
            if command is None:
                continue
            args = shlex.split(command.group(1).split(">")[0])
            if args not in found:
                found.append(args)
    return found


def test_every_paaskit_plan_the_readme_shows_prints_a_plan_and_nothing_on_stderr():
    # Issue 13: users read anything on stderr as a crash; once every app plan ended with
    # Python's "RuntimeWarning: coroutine 'Output.future' was never awaited". Every Python
    # warning is shown here (-W default), as a user's own settings may.
    commands = plan_commands()
    assert ["."] in commands
    assert ["stacks/app", "-c", "paaskit-app:manifest=examples/flask/paaskit.yml"] in commands
    assert len(commands) >= 5
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONWARNINGS", "PAASKIT_TRACEBACK")}

    def run(args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-W", "default", "-m", "paaskit", "plan", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run, commands))
    for args, result in zip(commands, results, strict=True):
        assert (result.returncode, result.stderr) == (0, ""), args
        if "--json" in args:
            assert json.loads(result.stdout)["resources"], args
        else:
            assert result.stdout.startswith("Plan of "), args


# --- "Deploy for real": a runbook whose commands are honest where this machine can tell ---------


def runbook() -> str:
    text = (ROOT / "README.md").read_text()
    return text.split("## Deploy for real\n", 1)[1].split("\n### What is verified offline", 1)[0]


def _commands(section: str) -> list[str]:
    """The runbook's shell lines: those of its ```sh blocks, and inline `...` commands."""
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        lines += [line.split("  #")[0].strip() for line in block.splitlines()]
    lines += re.findall(
        r"`((?:pulumi|\.venv/bin/paaskit|paaskit|aws) [^`]+)`", " ".join(section.split())
    )
    return [line for line in lines if line and not line.startswith("#")]


def test_the_runbook_walks_through_every_step_the_issue_asks_for():
    section = runbook()
    for step in (
        "get.pulumi.com",  # installing the Pulumi CLI
        "paaskit permissions .",  # the deployer's permissions, generated
        "$ .venv/bin/paaskit cost .",  # the cost, as paaskit prices it
        "pulumi stack init dev",  # both stacks
        "pulumi -C stacks/app stack init",
        "PULUMI_CONFIG_PASSPHRASE",  # the secrets passphrase
        "aws iam create-service-linked-role --aws-service-name ecs.amazonaws.com",
        "pulumi -C stacks/app stack output dns",  # the second step for custom domains
        "pulumi -C stacks/app destroy",  # tearing down, apps first
    ):
        assert step in section, step
    assert section.index("pulumi -C stacks/app destroy") < section.index("pulumi destroy\n")


def test_every_paaskit_verb_the_runbook_names_exists():
    from paaskit.cli import build_parser

    parser = build_parser()
    (verbs,) = [a for a in parser._actions if a.dest == "verb"]  # argparse's subparsers action
    known = set(verbs.choices or ())
    named = set()
    for line in _commands(runbook()):
        for found in re.finditer(r"(?:^|\s|&& )(?:\.venv/bin/)?paaskit (\w+)", line):
            named.add(found.group(1))
    assert named >= {"cost", "permissions", "policy", "apps"}
    assert named <= known, named - known
    # The verbs named in prose too (`paaskit releases flask`).
    prose = set(re.findall(r"`paaskit (\w+)", runbook()))
    assert prose <= known, prose - known


def _declared(project_file: Path) -> tuple[str, set[str]]:
    """A project's name and the config keys it documents: declared, or named in a comment."""
    import yaml

    text = project_file.read_text()
    project = yaml.safe_load(text)
    keys = {k if ":" in k else f"{project['name']}:{k}" for k in project["config"]}
    keys |= set(re.findall(rf"#\s*({re.escape(project['name'])}:\w+):", text))
    return project["name"], keys


def test_every_config_key_the_runbook_sets_is_documented():
    projects = {
        ".": _declared(ROOT / "Pulumi.yaml"),
        "stacks/app": _declared(ROOT / "stacks" / "app" / "Pulumi.yaml"),
    }
    used = []
    for line in _commands(runbook()):
        words = line.split()
        if words[:1] != ["pulumi"] or "config" not in words:
            continue
        directory = words[words.index("-C") + 1] if "-C" in words else "."
        name, keys = projects[directory]
        rest = [w for w in words[words.index("config") + 2 :] if not w.startswith("--")]
        key = re.split(r"[.\[]", rest[0].strip("'\""))[0]
        full = key if ":" in key else f"{name}:{key}"
        used.append(full)
        assert full in keys, f"{line}: {full} is not documented in {directory}/Pulumi.yaml"
    for line in _commands(runbook()):
        for key in re.findall(r"-c ([\w-]+:\w+)=", line):
            used.append(key)
            assert key in projects["stacks/app"][1] | projects["."][1], line
    assert {"aws:region", "paaskit-rack:domain", "paaskit-app:manifest"} <= set(used)
    assert {"paaskit-rack:throwaway", "paaskit-app:throwaway", "paaskit-app:zones"} <= set(used)


def test_the_runbooks_links_and_directories_exist():
    section = runbook()
    for link in re.findall(r"\]\(((?:docs/)[^)#]+)", section):
        assert (ROOT / link).is_file(), link
    for anchor in re.findall(r"\]\(#([^)]+)\)", section):
        headings = re.findall(r"^#+ (.+)$", (ROOT / "README.md").read_text(), re.M)
        slugs = {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}
        assert anchor in slugs, anchor
    for directory in re.findall(r"pulumi -C (\S+)", section):
        assert (ROOT / directory / "Pulumi.yaml").is_file(), directory


def _money(text: str) -> float:
    return float(text.replace(",", ""))


def test_the_runbooks_costs_are_the_cost_engines():
    from paaskit.cost import estimate
    from paaskit.testing import plan

    section = " ".join(runbook().split())
    rack = estimate(plan(ROOT, stack="dev"))
    total, on_demand = re.search(r"total \$([\d.,]+) \$([\d.,]+)", section).groups()  # type: ignore[union-attr]
    assert (_money(total), _money(on_demand)) == (rack.total, rack.total_on_demand)
    month, hour, all_on_demand = re.search(  # type: ignore[union-attr]
        r"that is \$([\d.,]+) a month, about \$([\d.]+) an hour \(\$([\d.,]+) with every node on demand\)",
        section,
    ).groups()
    assert _money(month) == rack.total
    assert _money(all_on_demand) == rack.total_on_demand
    assert _money(hour) == round(rack.total / 730, 2)
    app = estimate(
        plan(
            ROOT / "stacks" / "app",
            config={"manifest": str(ROOT / "examples" / "flask" / "paaskit.yml")},
        )
    )
    (share,) = re.findall(r"share of the nodes, \$([\d.,]+) a month", section)
    assert _money(share) == app.total


def test_what_the_teardown_says_to_remove_is_named_as_the_stacks_name_it():
    """The record parameter and task definition families the runbook names, for the Flask app
    on the reference rack, are what the App registers and the runner writes."""
    from paaskit.release.records import parameter_name
    from paaskit.testing import plan

    section = runbook()
    app = plan(
        ROOT / "stacks" / "app",
        config={"manifest": str(ROOT / "examples" / "flask" / "paaskit.yml")},
    )
    (rack_ref,) = [r for r in app.resources if r.type == "pulumi:pulumi:StackReference"]
    rack = rack_ref.outputs["rackName"]  # the rack stack's outputs, as the app read them
    assert f"--name {parameter_name(rack, 'flask')}" in section
    (prefix,) = re.findall(r"--family-prefix (\S+)`", section)
    families = [t.inputs["family"] for t in app.of_type("aws:ecs/taskDefinition:TaskDefinition")]
    assert families
    assert all(f.startswith(prefix) for f in families)
    record = app.named("flask-record")
    assert json.loads(record.inputs["input"])["rack"] == rack
