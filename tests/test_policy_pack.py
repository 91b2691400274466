"""The policy pack: real pulumi-policy classes, fed by the engine's own protocol.

There is no Pulumi CLI here, so the engine's side is played by calling the
analyzer servicer that `PolicyPack` serves (pulumi-policy's own) with the
protobuf requests the engine sends: `Analyze` per resource, `AnalyzeStack` for
the whole stack. Each policy must report exactly what `paaskit policy` reports
offline for the same records.
"""

from __future__ import annotations

import runpy
import tomllib
from pathlib import Path
from unittest import mock

import pytest
import yaml
from google.protobuf import struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy.policy import _PolicyAnalyzerServicer
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from paaskit.plan import Plan, ResourceRecord
from paaskit.policy import ALL_RULES, run_rules
from paaskit.policy.pulumi_pack import PACK_NAME, WAIVED_POLICY, WAIVERS_ENV, plain, policies
from paaskit.testing import plan
from tests.test_policy_rules import COMPLIANT, changed

ROOT = Path(__file__).resolve().parent.parent
PACK = ROOT / "paaskit" / "policy" / "pack"
INSECURE = ROOT / "tests" / "data" / "policy" / "insecure"


@pytest.fixture(scope="module")
def insecure() -> Plan:
    return plan(INSECURE, stack="dev")


@pytest.fixture(scope="module")
def servicer() -> _PolicyAnalyzerServicer:
    return _PolicyAnalyzerServicer(
        PACK_NAME, "0.0.1", policies(waivers=[]), EnforcementLevel.ADVISORY
    )


def _struct(inputs: dict[str, object]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(inputs)
    return struct


def analyze(servicer, record: ResourceRecord) -> list[tuple[str, str]]:
    request = proto.AnalyzeRequest(
        type=record.type,
        properties=_struct(record.inputs),
        urn=record.urn,
        name=record.name,
        options=proto.AnalyzerResourceOptions(protect=record.protect, parent=record.parent or ""),
    )
    response = servicer.Analyze(request, None)
    return sorted((d.policyName, d.message.split("\n", 1)[1]) for d in response.diagnostics)


def analyze_stack(servicer, p: Plan) -> list[tuple[str, str, str]]:
    resources = [
        proto.AnalyzerResource(
            type=r.type,
            properties=_struct(r.inputs),
            urn=r.urn,
            name=r.name,
            options=proto.AnalyzerResourceOptions(protect=r.protect),
            parent=r.parent or "",
            dependencies=list(r.dependencies),
        )
        for r in p.resources
    ]
    response = servicer.AnalyzeStack(proto.AnalyzeStackRequest(resources=resources), None)
    return sorted((d.policyName, d.urn, d.message.split("\n", 1)[1]) for d in response.diagnostics)


# --- the pack directory ---------------------------------------------------------------------


def test_the_pack_directory_is_a_python_policy_pack():
    spec = yaml.safe_load((PACK / "PulumiPolicy.yaml").read_text())
    assert spec["runtime"]["name"] == "python"
    assert (PACK / "__main__.py").is_file()


def test_the_pack_requirements_are_paaskits_dependencies_and_pulumi_policy():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = set(project["dependencies"]) | set(project["optional-dependencies"]["policy"])
    lines = (PACK / "requirements.txt").read_text().splitlines()
    listed = {line.strip() for line in lines if line.strip() and not line.startswith("#")}
    assert listed == wanted


def test_main_builds_a_real_policy_pack(monkeypatch):
    """Run `__main__.py` as Pulumi would, with the server stopped at `start()`."""

    class Served(Exception):
        pass

    server = mock.MagicMock()
    server.add_insecure_port.return_value = 0
    server.start.side_effect = Served
    monkeypatch.setattr("pulumi_policy.policy.grpc.server", lambda *a, **k: server)
    monkeypatch.delenv(WAIVERS_ENV, raising=False)
    with pytest.raises(Served):
        runpy.run_path(str(PACK / "__main__.py"), run_name="__main__")
    server.add_insecure_port.assert_called_once_with(address="127.0.0.1:0")


def test_one_policy_per_rule_of_the_right_kind_and_level():
    built = policies(waivers=[])
    assert [p.name for p in built] == [r.id for r in ALL_RULES] + [WAIVED_POLICY]
    for rule, built_policy in zip(ALL_RULES, built, strict=False):
        kind = ResourceValidationPolicy if rule.scope == "resource" else StackValidationPolicy
        assert isinstance(built_policy, kind), rule.id
        level = (
            EnforcementLevel.MANDATORY if rule.severity == "error" else EnforcementLevel.ADVISORY
        )
        assert built_policy.enforcement_level == level, rule.id


def test_the_engine_sees_every_policy(servicer):
    info = servicer.GetAnalyzerInfo(None, None)
    names = [p.name for p in info.policies]
    assert names[0] == "PK-NET-001"
    assert len(names) == len(ALL_RULES) + 1
    mandatory = {p.name for p in info.policies if p.enforcementLevel == proto.MANDATORY}
    assert mandatory == {r.id for r in ALL_RULES if r.severity == "error"}


# --- what the policies report -----------------------------------------------------------------


def test_resource_policies_report_what_the_offline_rules_report(servicer, insecure):
    resource_rules = [r for r in ALL_RULES if r.scope == "resource"]
    for record in insecure.resources:
        if not record.custom:
            continue
        offline = sorted((f.rule, f.message) for f in run_rules([record], resource_rules))
        assert analyze(servicer, record) == offline, record.name


def test_stack_policies_report_what_the_offline_rules_report(servicer, insecure):
    stack_rules = [r for r in ALL_RULES if r.scope == "stack"]
    offline = sorted((f.rule, f.urn, f.message) for f in run_rules(insecure.resources, stack_rules))
    assert offline  # the insecure stack breaks cross-resource rules too
    assert analyze_stack(servicer, insecure) == offline


def test_the_compliant_stack_draws_no_violation(servicer):
    good = plan(COMPLIANT, stack="dev")
    assert analyze_stack(servicer, good) == []
    assert [analyze(servicer, r) for r in good.resources if r.custom] == [
        [] for r in good.resources if r.custom
    ]


def test_unknown_values_during_preview_are_not_judged(servicer):
    good = plan(COMPLIANT, stack="dev")
    template = changed(
        good, "nodes-lt", {"metadataOptions.httpTokens": UNKNOWN_STRING_VALUE}
    ).named("nodes-lt")
    assert analyze(servicer, template) == []


def test_plain_unwraps_the_engines_proxies():
    from pulumi_policy.proxy import unknown_checking_proxy

    props = unknown_checking_proxy(
        {"a": {"b": [1, UNKNOWN_STRING_VALUE]}, "c": UNKNOWN_STRING_VALUE}
    )
    assert plain(props) == {"a": {"b": [1, "[unknown]"]}, "c": "[unknown]"}


def test_waived_findings_are_reported_by_the_advisory_waiver_policy(tmp_path, monkeypatch):
    good = plan(COMPLIANT, stack="dev")
    tagged = changed(
        good,
        "alb",
        {"enableDeletionProtection": False, "tags": {"paaskit:waive:PK-ELB-001": "dev stack"}},
    )
    waiver_file = tmp_path / "paaskit.waivers.yaml"
    waiver_file.write_text(
        "waivers:\n  - {rule: PK-NET-001, resource: nothing-here, reason: stale}\n"
    )
    monkeypatch.setenv(WAIVERS_ENV, str(waiver_file))
    served = _PolicyAnalyzerServicer(PACK_NAME, "0.0.1", policies(), EnforcementLevel.ADVISORY)
    alb = tagged.named("alb")
    assert analyze(served, alb) == []
    assert analyze_stack(served, tagged) == [
        (
            WAIVED_POLICY,
            "",
            "waiver paaskit.waivers.yaml:2 for PK-NET-001 on nothing-here matches nothing",
        ),
        (
            WAIVED_POLICY,
            alb.urn,
            "PK-ELB-001 (warning) waived by tag paaskit:waive:PK-ELB-001: dev stack -- finding: "
            "enableDeletionProtection is off: a `pulumi destroy` or a replacement takes every app offline",
        ),
    ]
