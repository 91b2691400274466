"""Waivers: a finding accepted for a reason is still reported, marked waived; never silent."""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path

import pytest

from paaskit.policy import RULES_BY_ID, WaiverError, evaluate, load_waivers
from paaskit.testing import plan
from tests.test_policy_rules import COMPLIANT, changed

INSECURE = Path(__file__).resolve().parent / "data" / "policy" / "insecure"


@pytest.fixture(scope="module")
def insecure():
    return plan(INSECURE, stack="dev")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "paaskit.waivers.yaml"
    path.write_text(text)
    return path


def test_a_waived_finding_is_reported_with_its_reason_and_no_longer_blocks(tmp_path, insecure):
    path = write(
        tmp_path,
        "waivers:\n"
        "  - rule: PK-RDS-002\n"
        "    resource: db\n"
        "    reason: a demo database, reached from a fixed office address\n",
    )
    report = evaluate(insecure, waiver_file=path)
    waived = [f for f in report.findings if f.rule == "PK-RDS-002"]
    assert [(f.waived, f.reason, f.waiver) for f in waived] == [
        (True, "a demo database, reached from a fixed office address", "paaskit.waivers.yaml:2")
    ]
    assert all(f.rule != "PK-RDS-002" for f in report.blocking)
    assert waived[0].to_json()["severity"] == "error"
    assert [(u.findings, u.expired) for u in report.waivers] == [(1, False)]


def test_globs_match_logical_names_and_urns(tmp_path, insecure):
    path = write(
        tmp_path,
        "waivers:\n"
        "  - {rule: PK-EC2-001, resource: 'node*', reason: legacy AMI}\n"
        "  - {rule: PK-ECS-004, resource: 'urn:pulumi:*::web', reason: needs a device}\n",
    )
    report = evaluate(insecure, waiver_file=path)
    assert {f.rule for f in report.findings if f.waived} == {"PK-EC2-001", "PK-ECS-004"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "waivers:\n  - {rule: PK-RDS-002, resource: db}\n",
            "paaskit.waivers.yaml:2: reason: missing (why the finding is acceptable); a waiver is never silent",
        ),
        (
            "waivers:\n  - {rule: PK-RDS-002, resource: db, reason: '  '}\n",
            "paaskit.waivers.yaml:2: reason: missing (why the finding is acceptable); a waiver is never silent",
        ),
        (
            "waivers:\n  - {rule: PK-RSD-002, resource: db, reason: x}\n",
            "paaskit.waivers.yaml:2: rule: no rule PK-RSD-002 (did you mean PK-RDS-002?)",
        ),
        (
            "waivers:\n  - {rule: PK-LIMIT-001, resource: alb, reason: x}\n",
            "paaskit.waivers.yaml:2: rule: PK-LIMIT-001 is a hard AWS limit; AWS refuses the request whatever the waiver says",
        ),
        (
            "waivers:\n  - {rule: PK-RDS-002, resource: db, reason: x, until: 2027}\n",
            "paaskit.waivers.yaml:2: unknown key(s) until; use expires, reason, resource, rule",
        ),
        (
            "waivers:\n  - {rule: PK-RDS-002, resource: db, reason: x, expires: soon}\n",
            "paaskit.waivers.yaml:2: expires: 'soon' is not a date (YYYY-MM-DD)",
        ),
        (
            "exceptions: []\n",
            "paaskit.waivers.yaml: expected one key, waivers: a list of {rule, resource, reason}",
        ),
    ],
)
def test_a_wrong_waiver_is_an_error_naming_the_entry(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(WaiverError) as info:
        load_waivers(path, RULES_BY_ID)
    assert str(info.value).endswith(message)


def test_an_expired_waiver_stops_applying_and_says_so(tmp_path, insecure):
    path = write(
        tmp_path,
        "waivers:\n  - {rule: PK-RDS-002, resource: db, reason: demo, expires: 2026-01-31}\n",
    )
    report = evaluate(insecure, waiver_file=path, today=datetime.date(2026, 2, 1))
    finding = next(f for f in report.findings if f.rule == "PK-RDS-002")
    assert not finding.waived
    assert finding.message.endswith("(waiver paaskit.waivers.yaml:2 expired on 2026-01-31)")
    assert [(u.findings, u.expired) for u in report.waivers] == [(1, True)]
    still = evaluate(insecure, waiver_file=path, today=datetime.date(2026, 1, 30))
    assert next(f for f in still.findings if f.rule == "PK-RDS-002").waived


def test_an_unused_waiver_is_reported(tmp_path, insecure):
    path = write(tmp_path, "waivers:\n  - {rule: PK-RDS-002, resource: gone-db, reason: old}\n")
    report = evaluate(insecure, waiver_file=path)
    assert [(u.waiver.resource, u.findings) for u in report.waivers] == [("gone-db", 0)]


def test_a_tag_waives_with_its_value_as_the_reason():
    good = plan(COMPLIANT, stack="dev")
    tagged = changed(
        good,
        "alb",
        {
            "enableDeletionProtection": False,
            "tags": {"paaskit:waive:PK-ELB-001": "dev stack, rebuilt nightly"},
        },
    )
    finding = next(f for f in evaluate(tagged).findings if f.rule == "PK-ELB-001")
    assert (finding.waived, finding.reason, finding.waiver) == (
        True,
        "dev stack, rebuilt nightly",
        "tag paaskit:waive:PK-ELB-001",
    )
    empty = changed(
        good, "alb", {"enableDeletionProtection": False, "tags": {"paaskit:waive:PK-ELB-001": ""}}
    )
    assert not next(f for f in evaluate(empty).findings if f.rule == "PK-ELB-001").waived


def test_the_json_of_a_finding_keeps_the_four_contract_fields(insecure):
    data = json.loads(json.dumps(evaluate(insecure).to_json()))
    for finding in data:
        assert {"rule", "severity", "urn", "message"} <= set(finding)
        assert {"sources", "waived", "reason", "title", "resource", "type"} <= set(finding)


def test_the_project_waiver_file_is_found_beside_pulumi_yaml(tmp_path):
    from paaskit.policy import evaluate_project

    project = tmp_path / "insecure"
    shutil.copytree(INSECURE, project)
    (project / "paaskit.waivers.yaml").write_text(
        "waivers:\n  - {rule: PK-S3-002, resource: uploads, reason: a public download bucket}\n"
    )
    p = plan(project, stack="dev")
    report = evaluate_project(p, project)
    assert [f.rule for f in report.findings if f.waived] == ["PK-S3-002"]
