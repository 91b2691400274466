"""Test your own stacks the way paaskit tests itself: plan them and read the records.

    from paaskit.testing import plan

    def test_my_stack_is_private():
        records = plan(my_program, config={"zones": "3"})
        for subnet in records.of_type("aws:ec2/subnet:Subnet"):
            assert subnet.inputs["mapPublicIpOnLaunch"] is False

`plan` takes a callable (a whole program, or a few lines that build one
component) or a Pulumi project directory, runs it in-process under the same
recording engine as `paaskit plan`, and returns a `paaskit.plan.Plan` of
every resource registered, with wire-format inputs. Because paaskit's
components are plain Python, every child resource is in the record.

With pytest, the `paaskit_plan` fixture hands you the same function (the
plugin is registered automatically when paaskit is installed).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .plan import Plan, plan_directory
from .plan.engine import InvokeFailed, InvokeHandler, RunOptions, run

__all__ = ["InvokeFailed", "Plan", "paaskit_plan", "plan"]


def plan(
    program: Callable[[], Any] | str | os.PathLike[str],
    *,
    project: str = "test",
    stack: str = "test",
    config: Mapping[str, str] | None = None,
    secrets: Mapping[str, str] | None = None,
    refs: Mapping[str, Mapping[str, Any]] | None = None,
    invokes: Mapping[str, InvokeHandler] | None = None,
) -> Plan:
    """Plan a program (a callable) or a project directory and return the records.

    - `config`: values by key; a key without a namespace belongs to `project`
      (for a directory, to the project its `Pulumi.yaml` names).
    - `secrets`: like `config`, but secret: the program sees the value, the
      records show `[secret]`.
    - `refs`: outputs of other stacks, for `pulumi.StackReference(name)`.
    - `invokes`: answers for provider functions the built-in fakes do not know, or
      other answers for those they do; a handler raises `InvokeFailed` to answer as a
      provider whose function fails.
    """
    if not callable(program):
        path = Path(program)
        overrides = [f"{k}={v}" for k, v in {**(config or {}), **(secrets or {})}.items()]
        return plan_directory(path, stack=stack, overrides=overrides, refs=refs)

    def full(key: str) -> str:
        return key if ":" in key else f"{project}:{key}"

    values = {full(k): str(v) for k, v in (config or {}).items()}
    values.update({full(k): str(v) for k, v in (secrets or {}).items()})
    options = RunOptions(
        project=project,
        stack=stack,
        config=values,
        secret_keys=[full(k) for k in (secrets or {})],
        refs=refs or {},
        invokes=invokes or {},
    )
    return run(program, options)


try:
    import pytest
except ImportError:  # pragma: no cover - only pytest loads this as a plugin
    pass
else:

    @pytest.fixture
    def paaskit_plan() -> Callable[..., Plan]:
        """The `plan` function, as a fixture."""
        return plan
