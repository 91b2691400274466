"""The `paaskit` command: verbs, exit codes, and the JSON contract."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from paaskit.cli import build_parser, main
from paaskit.policy import ALL_RULES

ROOT = Path(__file__).resolve().parent.parent
RECORD_FIELDS = {
    "urn", "type", "name", "parent", "custom", "protect", "retain_on_delete",
    "dependencies", "provider", "inputs",
}  # fmt: skip


VERBS = ("plan", "policy", "cost", "diagram")
INSECURE = ROOT / "tests" / "data" / "policy" / "insecure"
COMPLIANT = ROOT / "tests" / "data" / "policy" / "compliant"
FINDING_FIELDS = {"rule", "severity", "urn", "message"}


def test_help_lists_every_verb_with_its_help():
    text = build_parser().format_help()
    for verb in VERBS:
        assert verb in text
    result = subprocess.run(
        [sys.executable, "-m", "paaskit", "--help"], capture_output=True, text=True, check=True
    )
    for verb in VERBS:
        assert verb in result.stdout
    for verb in VERBS:
        sub = subprocess.run(
            [sys.executable, "-m", "paaskit", verb, "--help"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert "DIR" in sub.stdout


def test_plan_json_is_the_documented_schema_and_nothing_else(capsys):
    assert main(["plan", str(ROOT), "--json"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert {"project", "stack", "resources", "outputs"} <= set(data)
    assert data["project"] == "paaskit-rack"
    assert data["stack"] == "dev"
    for record in data["resources"]:
        assert set(record) >= RECORD_FIELDS
        assert isinstance(record["dependencies"], list)
        assert isinstance(record["inputs"], dict)
    assert "vpcId" in data["outputs"]


def test_plan_json_adds_findings_policy_and_cost(capsys):
    assert main(["plan", str(INSECURE), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"project", "stack", "resources", "outputs", "findings", "policy", "cost"} <= set(data)
    assert data["findings"]
    for finding in data["findings"]:
        assert set(finding) >= FINDING_FIELDS | {"sources", "waived", "reason"}
        assert finding["urn"] in {r["urn"] for r in data["resources"]}
    assert data["policy"]["passed"] is False
    assert data["policy"]["counts"]["error"] == sum(
        f["severity"] == "error" for f in data["findings"]
    )
    assert data["cost"]["total"] == round(
        sum(line["monthly"] or 0 for line in data["cost"]["lines"]), 2
    )


def test_plan_text_shows_a_tree_and_counts(capsys):
    assert main(["plan", str(ROOT)]) == 0
    out = capsys.readouterr().out
    assert "paaskit:rack:Rack  rack" in out
    assert "└─ paaskit:network:Network  rack-network" in out
    assert "Resources by type:" in out
    assert "aws:ec2/subnet:Subnet" in out
    assert "\nPolicy: " in out
    assert "\nAWS limits: " in out
    assert "\nCost: about $" in out


def test_plan_shows_findings_after_the_tree(capsys):
    assert main(["plan", str(INSECURE)]) == 0
    out = capsys.readouterr().out
    tree, checks = out.split("\nPolicy: ", 1)
    assert "aws:rds/instance:Instance  db" in tree
    assert "  ERROR    PK-RDS-002      db: publiclyAccessible is true" in checks
    assert (
        "  ERROR    PK-LIMIT-001    public-load-balancer-with-a-long-name: load balancer name"
        in checks
    )
    assert "Failed: 24 error(s) without a waiver." in checks


def test_policy_fails_on_the_insecure_stack_naming_each_finding(capsys):
    assert main(["policy", str(INSECURE)]) == 1
    out = capsys.readouterr().out
    for line in (
        "  ERROR    PK-NET-003      ssh-world: admits tcp port 22 from 0.0.0.0/0; only tcp 80 and 443 may be open to the world",
        "  ERROR    PK-EC2-001      nodes: metadataOptions.httpTokens is 'optional': IMDSv1 answers; set it to required",
        "  ERROR    PK-S3-002       uploads: acl public-read opens the bucket to the internet",
        "  ERROR    PK-RDS-001      db: storageEncrypted is off: data, backups and snapshots are stored in the clear; it cannot be turned on later",
        "  ERROR    PK-IAM-003      admin-access: attaches AdministratorAccess: grant the actions it needs instead",
        "  ERROR    PK-ECS-004      web: web: privileged is true: every Linux capability and "
        "every device of the node, outside its isolation: root on the node, with every other "
        "task's files, secrets and network, and the node's role",
        "  ERROR    PK-LAMBDA-001   old: runtime python3.8 was deprecated on 2024-10-14: no security patches; AWS blocks new functions with it",
        "  ERROR    PK-LIMIT-011    public-load-balancer-with-a-long-name: 1 subnet(s); an Application Load Balancer needs two zones",
    ):
        assert line in out.splitlines()
    assert out.rstrip().endswith("Failed: 24 error(s) without a waiver.")


def test_policy_passes_on_the_compliant_stack(capsys):
    assert main(["policy", str(COMPLIANT)]) == 0
    out = capsys.readouterr().out
    assert "Policy: 0 error(s), 0 warning(s), 0 note(s), 0 waived" in out
    assert "Passed: no error without a waiver." in out


def test_policy_passes_on_the_reference_rack_with_a_domain(capsys):
    args = ["policy", str(ROOT), "-c", "domain=apps.example.com", "-c", "zoneName=example.com"]
    assert main(args) == 0
    assert "Policy: 0 error(s), 0 warning(s)" in capsys.readouterr().out


def test_the_reference_rack_passes_with_nothing_to_waive(capsys):
    # CloudFront reaches the internal load balancer through a VPC origin: no waiver.
    assert main(["policy", str(ROOT)]) == 0
    out = capsys.readouterr().out
    assert "Passed: no error without a waiver." in out
    assert "waived" not in out.replace("0 waived", "")


def test_a_rack_keeping_its_legacy_edge_shows_what_it_waives(capsys):
    # The legacy shared distribution reaches the public load balancer over HTTP: waived
    # by the rack with a tag, shown with its reason, until the rack retires it.
    assert main(["policy", str(ROOT), "-c", "legacyEdge=keep"]) == 0
    out = capsys.readouterr().out
    assert (
        "  waived   PK-CF-007       rack-cdn-distribution: origin app: originProtocolPolicy is http-only"
        in out
    )
    assert "waived by tag paaskit:waive:PK-CF-007: No domain" in out


def test_policy_json(capsys):
    assert main(["policy", str(INSECURE), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert {"project", "stack", "findings", "passed", "counts", "waivers", "rules"} <= set(data)
    assert data["passed"] is False
    assert all(set(f) >= FINDING_FIELDS for f in data["findings"])


def test_policy_lists_its_rules(capsys):
    assert main(["policy", "--rules"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(
        "PK-NET-001      error    The default security group has no rules  [EC2.2, CKV2_AWS_12]"
    )
    assert len(out) == len(ALL_RULES)
    assert main(["policy", "--rules", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["id"] for row in rows] == [rule.id for rule in ALL_RULES]
    assert set(rows[0]) >= {"id", "severity", "sources", "title", "waivable"}


def test_policy_needs_a_directory_unless_listing_rules(capsys):
    assert main(["policy"]) == 2
    assert "DIR is required" in capsys.readouterr().err


def test_a_wrong_waiver_file_exits_1_naming_the_entry(capsys, tmp_path):
    bad = tmp_path / "waivers.yaml"
    bad.write_text("waivers:\n  - {rule: PK-RDS-002, resource: db}\n")
    assert main(["policy", str(INSECURE), "--waivers", str(bad)]) == 1
    assert "waivers.yaml:2: reason: missing" in capsys.readouterr().err


def test_cost_prints_a_table_and_what_is_not_counted(capsys):
    assert main(["cost", str(ROOT)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Monthly cost estimate: paaskit-rack (dev) (USD, us-east-1)")
    assert "NAT gateway" in out
    assert "Not counted (depends on use):" in out
    assert main(["cost", str(ROOT), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["prices_as_of"] == "2026-07-20"
    assert data["total"] <= data["total_on_demand"]


def test_diagram_as_mermaid_on_stdout(capsys):
    assert main(["diagram", str(ROOT), "--format", "mermaid", "--out", "-"]) == 0
    assert capsys.readouterr().out.startswith("flowchart LR")


def test_diagram_without_graphviz_writes_mermaid_and_says_so(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert main(["diagram", str(ROOT), "--out", str(tmp_path / "rack.svg")]) == 0
    captured = capsys.readouterr()
    assert "Graphviz (dot) is not installed" in captured.err
    assert f"wrote {tmp_path / 'rack.mmd'} (mermaid)" in captured.out
    assert (tmp_path / "rack.mmd").read_text().startswith("flowchart LR")


def test_diagram_text_on_stdout_needs_a_text_format(capsys):
    assert main(["diagram", str(ROOT), "--out", "-"]) == 2
    assert "--format mermaid or dot" in capsys.readouterr().err


def test_config_overrides_reach_the_program(capsys):
    assert main(["plan", str(ROOT), "--json", "-c", "zones=3"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert sum(r["type"] == "aws:ec2/subnet:Subnet" for r in data["resources"]) == 6


def test_a_bad_setting_exits_1_and_names_the_key(capsys):
    assert main(["plan", str(ROOT), "-c", "natMode=gateway"]) == 1
    err = capsys.readouterr().err
    assert "paaskit-rack:natMode" in err
    assert "Traceback" not in err


def test_a_missing_directory_exits_1(capsys, tmp_path):
    assert main(["plan", str(tmp_path / "nope")]) == 1
    assert "no such directory" in capsys.readouterr().err


def test_a_wrong_command_line_exits_2():
    with pytest.raises(SystemExit) as info:
        main(["plan"])
    assert info.value.code == 2


# --- what a new user meets ------------------------------------------------------------------


def test_plan_and_policy_count_the_same_things(capsys):
    assert main(["plan", str(ROOT)]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert main(["policy", str(ROOT)]) == 0
    checked = capsys.readouterr().out.splitlines()[0]
    counted = header.split(": ", 1)[1]
    assert re.fullmatch(r"\d+ resources in \d+ components", counted)
    assert checked.startswith(f"Checked paaskit-rack (dev): {counted}, ")


def test_errors_start_with_the_directory_as_written(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    args = ["plan", "stacks/app", "-c", "paaskit-app:manifest=examples/flask/paaskit.yml"]
    assert main([*args, "-c", "paaskit-app:releaseTimeoutSeconds=0"]) == 1
    assert capsys.readouterr().err == (
        "paaskit plan: error: stacks/app: paaskit-app:releaseTimeoutSeconds: "
        "Input should be greater than or equal to 60 (got '0')\n"
    )
    assert main(["plan", ".", "-c", "natMode=gateway"]) == 1
    assert capsys.readouterr().err.startswith("paaskit plan: error: paaskit-rack:natMode: ")


def test_an_error_shows_a_very_long_value_by_its_start_and_length(capsys, monkeypatch):
    # The rack's own check of webAclId repeated all 5,000 digits, and the region's did too.
    monkeypatch.chdir(ROOT)
    assert main(["plan", ".", "-c", "webAclId=" + "9" * 5000]) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "paaskit plan: error: paaskit-rack:webAclId: '" + "9" * 60 + "...(5000 characters)': "
        "give the ARN of a WAFv2 web ACL"
    )
    assert len(err) < 500
    assert main(["plan", ".", "-c", "aws:region=" + "x" * 2000]) == 1
    err = capsys.readouterr().err
    assert err.startswith("paaskit plan: error: aws:region: '" + "x" * 60 + "...(2000 characters)'")
    assert len(err) < 500


def test_diagram_into_a_missing_folder_exits_1_before_planning(capsys, tmp_path):
    out = tmp_path / "missing" / "rack.mmd"
    assert main(["diagram", str(ROOT), "--format", "mermaid", "--out", str(out)]) == 1
    assert capsys.readouterr().err == (
        f"paaskit diagram: error: --out {out}: the folder {out.parent} does not exist\n"
    )


def test_diagram_that_cannot_be_written_exits_1(capsys, tmp_path, monkeypatch):
    from paaskit import diagram

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(diagram, "render", refuse)
    out = tmp_path / "rack.mmd"
    assert main(["diagram", str(ROOT), "--format", "mermaid", "--out", str(out)]) == 1
    assert capsys.readouterr().err == (
        f"paaskit diagram: error: --out {out}: cannot write: Permission denied\n"
    )


def test_a_binary_waiver_file_exits_1_naming_it(capsys, tmp_path):
    bad = tmp_path / "waivers.yaml"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert main(["policy", str(COMPLIANT), "--waivers", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"paaskit policy: error: {bad}: not UTF-8 text (byte 0x89 at offset 0)")
    assert "Traceback" not in err
