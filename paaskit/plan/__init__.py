"""The offline plan: run a Pulumi program in-process and record every resource.

`plan_directory(DIR)` does for a project directory what `paaskit plan DIR`
does; `run(program, RunOptions(...))` plans a Python callable. Both return a
`Plan`, the record that the policy rules, the limits, the cost estimate, the
diagram and the tests all read, and they read it through the vocabulary kept
here: `PlanIndex` (who refers to whom), `paaskit.plan.values` (reading
wire-format inputs), `paaskit.plan.types` (type tokens) and
`paaskit.plan.queries` (questions several readers ask).

This package knows Pulumi, not paaskit's components.
"""

from .engine import MissingStackReference, ProgramError, RunOptions, run
from .fakes import SECRET_MARKER
from .index import PlanIndex
from .model import Plan, PlanLookupError, ResourceRecord
from .project import (
    PlanError,
    find_project,
    load_config,
    load_project,
    parse_ref_file,
    plan_directory,
)
from .render import counts, render_text

__all__ = [
    "SECRET_MARKER",
    "MissingStackReference",
    "Plan",
    "PlanError",
    "PlanIndex",
    "PlanLookupError",
    "ProgramError",
    "ResourceRecord",
    "RunOptions",
    "counts",
    "find_project",
    "load_config",
    "load_project",
    "parse_ref_file",
    "plan_directory",
    "render_text",
    "run",
]
