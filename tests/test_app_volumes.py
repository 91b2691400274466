"""An App's `volumes`: EFS storage of a service's own or shared by name, and agents' host paths."""

from __future__ import annotations

import json
import re
from typing import Any

import botocore.session
import pytest
from hypothesis import given
from hypothesis import strategies as st

from paaskit.app._volumes import volume_directory
from paaskit.manifest import HOST_PATHS, Volume, parse_manifest
from paaskit.plan import Plan, PlanIndex
from paaskit.policy import evaluate, run_rules
from paaskit.policy.rules import RULES
from paaskit.policy.rules.containers import HOST_PATH_EXPOSURE
from tests.test_app import make_app, plan_app

MANIFEST = """
services:
  web:
    image: ghcr.io/example/web:1
    port: 8000
    volumes:
      - /app/uploads
      - media:/srv/media
  worker:
    image: ghcr.io/example/web:1
    command: python worker.py
    volumes:
      - media:/srv/media:ro
  agent:
    image: public.ecr.aws/datadog/agent:7
    agent: true
    privileged: true
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock:ro
      - /proc/:/host/proc/:ro
  plain:
    image: ghcr.io/example/web:1
"""

EFS_PATH = re.compile(
    botocore.session.get_session().get_service_model("efs").shape_for("Path").metadata["pattern"]
)


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Plan:
    return plan_app(make_app(tmp_path_factory.mktemp("vol") / "app", MANIFEST), environment={})


def task(records: Plan, service: str) -> tuple[dict[str, Any], dict[str, Any]]:
    definition = records.named(f"shop-{service}-task")
    (container,) = json.loads(definition.inputs["containerDefinitions"])
    return definition.inputs, container


def access_points(records: Plan) -> dict[str, Any]:
    """Access points by their directory."""
    return {
        r.inputs["rootDirectory"]["path"]: r
        for r in records.of_type("aws:efs/accessPoint:AccessPoint")
    }


def known_as(records: Plan, value: str) -> str:
    """The name of the record `value` (an id or ARN the offline plan gave) refers to."""
    index = PlanIndex(records)
    (found,) = [r.name for r in records if r.custom and value in index.identities(r)]
    return found


def test_one_file_system_and_an_access_point_per_volume(shop):
    (fs,) = shop.of_type("aws:efs/fileSystem:FileSystem")
    assert fs.protect
    assert sorted(access_points(shop)) == [
        "/services/web/app-uploads-ebb719a3",
        "/shared/media-721c9525",
    ]


def test_a_services_own_volume_is_tagged_with_the_service_a_shared_one_with_the_app(shop):
    points = access_points(shop)
    own = points["/services/web/app-uploads-ebb719a3"].inputs["tags"]
    shared = points["/shared/media-721c9525"].inputs["tags"]
    assert (own["paaskit:app"], own["paaskit:service"]) == ("shop", "web")
    assert shared["paaskit:app"] == "shop"
    assert "paaskit:service" not in shared


def test_each_service_mounts_its_volumes_with_tls_through_their_access_point(shop):
    points = {r.name: path for path, r in access_points(shop).items()}
    inputs, web = task(shop, "web")
    volumes = {v["name"]: v for v in inputs["volumes"]}
    seen = {}
    for mount in web["mountPoints"]:
        efs = volumes[mount["sourceVolume"]]["efsVolumeConfiguration"]
        assert efs["transitEncryption"] == "ENABLED"
        assert efs["authorizationConfig"]["iam"] == "ENABLED"
        assert known_as(shop, efs["fileSystemId"]) == shop.one("aws:efs/fileSystem:FileSystem").name
        point = known_as(shop, efs["authorizationConfig"]["accessPointId"])
        seen[mount["containerPath"]] = (points[point], mount["readOnly"])
    assert seen == {
        "/app/uploads": ("/services/web/app-uploads-ebb719a3", False),
        "/srv/media": ("/shared/media-721c9525", False),
    }
    inputs, worker = task(shop, "worker")
    (mount,) = worker["mountPoints"]
    (volume,) = inputs["volumes"]
    shared = points[
        known_as(shop, volume["efsVolumeConfiguration"]["authorizationConfig"]["accessPointId"])
    ]
    assert (mount["containerPath"], mount["readOnly"], shared) == (
        "/srv/media",
        True,
        "/shared/media-721c9525",
    )


def test_a_task_role_may_mount_only_its_own_access_points_and_write_only_where_it_may(shop):
    path_of = {r.name: path for path, r in access_points(shop).items()}
    fs = shop.one("aws:efs/fileSystem:FileSystem").name

    def grants(service: str) -> dict[str, list[str]]:
        doc = json.loads(shop.named(f"shop-{service}-volumes").inputs["policy"])
        assert {known_as(shop, s["Resource"]) for s in doc["Statement"]} == {fs}
        return {
            " ".join(s["Action"]): sorted(
                path_of[known_as(shop, arn)]
                for arn in s["Condition"]["StringEquals"]["elasticfilesystem:AccessPointArn"]
            )
            for s in doc["Statement"]
        }

    assert grants("web") == {
        "elasticfilesystem:ClientMount elasticfilesystem:ClientWrite": [
            "/services/web/app-uploads-ebb719a3",
            "/shared/media-721c9525",
        ]
    }
    assert grants("worker") == {"elasticfilesystem:ClientMount": ["/shared/media-721c9525"]}
    role = shop.named("shop-web-volumes").inputs["role"]
    assert known_as(shop, role) == "shop-web-task-role"
    # Services that mount nothing get no grant; the task starts once its grant exists.
    assert not [r for r in shop if r.name in ("shop-plain-volumes", "shop-agent-volumes")]
    assert shop.named("shop-web-volumes").urn in shop.named("shop-web-task").dependencies


def test_an_agent_mounts_the_nodes_paths_and_runs_privileged_with_the_finding_said(shop):
    inputs, agent = task(shop, "agent")
    assert inputs["volumes"] == [
        {"name": "host-0", "hostPath": "/var/run/docker.sock"},
        {"name": "host-1", "hostPath": "/proc"},
    ]
    assert agent["mountPoints"] == [
        {"sourceVolume": "host-0", "containerPath": "/var/run/docker.sock", "readOnly": True},
        {"sourceVolume": "host-1", "containerPath": "/host/proc", "readOnly": True},
    ]
    assert agent["privileged"] is True
    record = shop.named("shop-agent-task")
    report = evaluate(shop)
    findings = [
        (f.rule, f.waived, f.message)
        for f in report.findings
        if f.resource == record.name and f.severity != "info"
    ]
    (privileged,) = [f for f in findings if f[0] == "PK-ECS-004"]
    assert privileged[1] is True  # waived: the manifest asked for it
    assert privileged[2].startswith("agent: privileged is true: every Linux capability")
    assert record.inputs["tags"]["paaskit:waive:PK-ECS-004"] == (
        "services.agent.privileged in the manifest: an agent that reads its node"
    )
    host = sorted(f[2] for f in findings if f[0] == "PK-ECS-011")
    assert [m.split(":")[0] for m in host] == [
        "volume host-0 mounts the node's /var/run/docker.sock",
        "volume host-1 mounts the node's /proc",
    ]
    assert all(not f[1] for f in findings if f[0] == "PK-ECS-011")


def test_a_service_without_volumes_keeps_the_task_definition_it_had(shop):
    inputs, plain = task(shop, "plain")
    assert "volumes" not in inputs
    assert "mountPoints" not in plain
    assert plain["privileged"] is False


def test_an_app_without_volumes_has_no_file_system(tmp_path):
    manifest = "services:\n  web:\n    image: ghcr.io/example/web:1\n    port: 8000\n"
    records = plan_app(make_app(tmp_path / "app", manifest), environment={})
    assert not records.of_type("aws:efs/fileSystem:FileSystem")
    assert not [r for r in records if r.name.endswith("-volumes")]


def test_a_throwaway_app_lets_its_file_system_go(tmp_path):
    records = plan_app(make_app(tmp_path / "app", MANIFEST), environment={}, throwaway=True)
    assert not records.one("aws:efs/fileSystem:FileSystem").protect


def test_the_apps_volume_settings_reach_the_file_system(tmp_path):
    from paaskit.volume import VolumeSettings

    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    records = plan_app(
        make_app(tmp_path / "app", MANIFEST),
        environment={},
        volumes=VolumeSettings(kms_key_id=key, uid=33, gid=33),
    )
    assert records.one("aws:efs/fileSystem:FileSystem").inputs["kmsKeyId"] == key
    assert {r.inputs["posixUser"]["uid"] for r in access_points(records).values()} == {33}


def test_the_whole_app_passes_the_file_system_rules(shop):
    rules = [r for r in RULES if r.id.startswith(("PK-EFS", "PK-ECS-012"))]
    assert [f.message for f in run_rules(shop.resources, rules)] == []


names = st.from_regex(r"[a-z][a-z0-9-]{0,62}", fullmatch=True)
written = st.text(
    st.characters(exclude_characters=":\x00", exclude_categories=["Cs"]),
    min_size=1,
    max_size=150,
)


@given(names, written, st.booleans())
def test_every_volume_a_manifest_takes_gets_a_directory_efs_takes(service, text, shared):
    entry = f"{text}:/mnt" if shared else "/" + text
    try:
        volume = Volume.model_validate(entry)
    except ValueError:
        return  # not a volume: the manifest says why
    if volume.kind == "host":
        return
    directory = volume_directory(service, volume)
    assert len(directory) <= 100
    assert EFS_PATH.fullmatch(directory), directory


def test_the_same_volume_always_gets_the_same_directory():
    # A directory named differently after an upgrade would show an app an empty volume.
    manifest = parse_manifest({"services": {"web": {"volumes": ["/app/uploads", "media:/m"]}}})
    web = manifest.services["web"]
    assert [volume_directory("web", v) for v in web.volumes] == [
        "/services/web/app-uploads-ebb719a3",
        "/shared/media-721c9525",
    ]


def test_the_policy_says_what_every_path_an_agent_may_mount_exposes():
    # The manifest's list of the node's paths and the policy's words about each stay in step.
    assert set(HOST_PATH_EXPOSURE) == set(HOST_PATHS)
