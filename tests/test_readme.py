"""The README's quickstart is what CI runs, and what it says is true."""

from __future__ import annotations

import re
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
