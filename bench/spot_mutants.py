"""Mutation testing of the spot decision: how many wrong decisions do the tests catch?

    pip install mutmut                      # not a project dependency: a tool run by hand
    python bench/spot_mutants.py            # paaskit/spot/decision.py against its tests
    python bench/spot_mutants.py --show 0   # the counts only

mutmut (3.x) mutates paaskit/spot/decision.py one change at a time (an operator,
a constant, a comparison...) and runs the tests that cover the mutated function
(tests/test_spot_decision.py, the decision's own: fast, no AWS emulator); a
mutant the tests do not fail on "survived". This runs it in a scratch copy of
the checkout with the ``[tool.mutmut]`` settings it needs, so the project's own
pyproject.toml carries no mutmut configuration, and prints the kill ratio
(killed / all mutants) and each survivor's diff, to be judged: a surviving
mutant is either a test to write or an equivalent change (log text, a
comparison that cannot differ on any reachable state).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = "paaskit/spot/decision.py"
TESTS = ["tests/test_spot_decision.py"]

CONFIG = """
[tool.mutmut]
source_paths = ["paaskit"]
only_mutate = ["{target}"]
pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-x"]
pytest_add_cli_args_test_selection = {tests}
"""


def mutmut() -> str:
    found = shutil.which("mutmut", path=str(Path(sys.executable).parent)) or shutil.which("mutmut")
    if found is None:
        raise SystemExit("mutmut is not installed: pip install mutmut")
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--show", type=int, default=100, help="survivors to print with their diff")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copy")
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="spot-mutants-"))
    for name in ("paaskit", "tests"):
        shutil.copytree(ROOT / name, scratch / name, ignore=shutil.ignore_patterns("__pycache__"))
    config = CONFIG.format(target=TARGET, tests=str(TESTS).replace("'", '"'))
    (scratch / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text() + config)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    tool = mutmut()
    try:
        log = scratch / "mutmut.log"
        with log.open("w") as out:
            subprocess.run(
                [tool, "run", "--max-children", str(args.jobs)],
                cwd=scratch,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=False,
            )
        listed = subprocess.run(
            [tool, "results", "--all", "true"],
            cwd=scratch,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        statuses = dict(re.findall(r"^\s*(\S+__mutmut_\d+): (.+)$", listed, re.MULTILINE))
        if not statuses:
            print(log.read_text()[-3000:])
            raise SystemExit("mutmut reported no mutants")
        counts = Counter(statuses.values())
        killed = counts["killed"]
        print(f"{TARGET}: {len(statuses)} mutants, tests: {' '.join(TESTS)}")
        for status, count in counts.most_common():
            print(f"  {status:<12} {count}")
        print(f"kill ratio {killed / len(statuses):.1%} ({killed} of {len(statuses)})")
        survivors = [name for name, status in statuses.items() if status != "killed"]
        for name in survivors[: args.show]:
            diff = subprocess.run(
                [tool, "show", name],
                cwd=scratch,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            changed = [
                line
                for line in diff.splitlines()
                if line[:1] in "+-" and line[:3] not in ("+++", "---")
            ]
            print(f"\n{name} ({statuses[name]})")
            print("\n".join(f"    {line}" for line in changed))
    finally:
        if args.keep:
            print(f"\nscratch copy kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
