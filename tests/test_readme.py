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
