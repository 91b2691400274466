"""What `paaskit.ops` and the shared one-off task code need at run time.

ops/ talks to AWS through boto3 and knows resources only by their tags: it never
imports components, Pulumi or pydantic (tests/test_imports.py keeps the rule). `paaskit.release.tasks` and `records`
run in the release function too: standard library (and boto3) only.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "paaskit"
STDLIB = set(sys.stdlib_module_names)


def _imports(path: Path) -> list[str]:
    """Every module `path` imports, absolute (`from x import y` counts as `x.y`)."""
    package = ["paaskit", *path.relative_to(PACKAGE).parent.parts]
    names = []
    for item in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(item, ast.Import):
            names += [alias.name for alias in item.names]
        elif isinstance(item, ast.ImportFrom):
            base = ".".join(package[: len(package) - item.level + 1]) if item.level else ""
            module = ".".join(p for p in (base, item.module or "") if p)
            names += [f"{module}.{alias.name}" for alias in item.names]
    return names


def test_the_shared_task_code_imports_only_the_standard_library():
    for name in ("tasks.py", "records.py"):
        for imported in _imports(PACKAGE / "release" / name):
            assert imported.split(".")[0] in STDLIB, f"release/{name} imports {imported}"


def test_ops_loads_without_pulumi_or_pydantic(tmp_path):
    """As the release function's zip does: paaskit with an empty __init__, ops and release only."""
    root = tmp_path / "paaskit"
    for sub in ("ops", "release"):
        shutil.copytree(PACKAGE / sub, root / sub, ignore=shutil.ignore_patterns("__pycache__"))
    # The leaves any room may import (tests/test_imports.py): standard library only.
    for leaf in ("errors.py", "tags.py"):
        shutil.copy(PACKAGE / leaf, root / leaf)
    (root / "__init__.py").write_text("")
    modules = ", ".join(
        f"paaskit.ops.{p.stem}"
        for p in sorted((PACKAGE / "ops").glob("*.py"))
        if p.stem != "__init__"
    )
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        f"import {modules}, paaskit.release.tasks, paaskit.release.records\n"
        "print(sorted(m for m in ('pulumi', 'pydantic', 'pulumi_aws', 'yaml') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
