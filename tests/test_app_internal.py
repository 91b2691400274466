"""Internal services: reached by name inside the rack, by services and one-off tasks, never at the edge."""

from __future__ import annotations

import json
from typing import Any

import pytest

from paaskit.app._internal import internal_host
from paaskit.plan import Plan, PlanIndex
from tests.test_app import RACK, make_app, plan_app

MANIFEST = """
environment:
  - STATS_URL=http://stats.example.com
services:
  web:
    image: ghcr.io/example/web:1
    port: 8000
    links: [api, search, admin]
    release: python manage.py migrate
  api:
    image: ghcr.io/example/api:1
    port: https:9000
    internal: true
    ports:
      - 9001
      - 8125/udp
    release: ./migrate
    links: [admin]
  search:
    image: ghcr.io/example/search:1
    port: 9200
    internal: true
  stats:
    image: ghcr.io/example/stats:1
    internal: true
    port: 8080
  admin:
    image: ghcr.io/example/admin:1
    port: 8080
  worker:
    image: ghcr.io/example/web:1
    command: celery worker
    links: [stats]
timers:
  sync:
    schedule: "*/15 * * * *"
    command: ./sync
    service: api
  report:
    schedule: "0 3 * * *"
    command: ./report
    service: worker
"""


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Plan:
    return plan_app(make_app(tmp_path_factory.mktemp("int") / "app", MANIFEST), environment={})


def container(records: Plan, service: str) -> dict[str, Any]:
    (definition,) = json.loads(records.named(f"shop-{service}-task").inputs["containerDefinitions"])
    return dict(definition)


def env(records: Plan, service: str) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container(records, service)["environment"]}


def known_as(records: Plan, value: str) -> str:
    index = PlanIndex(records)
    (found,) = [r.name for r in records if r.custom and value in index.identities(r)]
    return found


def test_the_app_has_a_private_zone_in_the_racks_vpc(shop):
    namespace = shop.one("aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace")
    assert namespace.inputs["name"] == "shop.rack.internal"
    assert namespace.inputs["vpc"] == RACK.vpc_id
    names = {r.inputs["name"]: r for r in shop.of_type("aws:servicediscovery/service:Service")}
    assert sorted(names) == ["api", "search", "stats"]
    for record in names.values():
        assert record.inputs["dnsConfig"]["dnsRecords"] == [{"type": "A", "ttl": 10}]
        assert record.inputs["dnsConfig"]["routingPolicy"] == "MULTIVALUE"
        assert known_as(shop, record.inputs["dnsConfig"]["namespaceId"]) == namespace.name
    assert internal_host("api", "shop", "rack") == "api.shop.rack.internal"


def test_an_internal_service_gets_its_own_address_registered_under_its_name(shop):
    task = shop.named("shop-api-task")
    assert task.inputs["networkMode"] == "awsvpc"
    assert container(shop, "api")["portMappings"] == [
        {"containerPort": 9000, "protocol": "tcp"},
        {"containerPort": 9001, "protocol": "tcp"},
        {"containerPort": 8125, "protocol": "udp"},
    ]
    service = shop.named("shop-api")
    network = service.inputs["networkConfiguration"]
    assert network["subnets"] == RACK.private_subnet_ids
    assert network["assignPublicIp"] is False
    groups = [
        known_as(shop, g) if g != RACK.node_security_group_id else "nodes"
        for g in network["securityGroups"]
    ]
    assert groups == ["nodes", "shop-internal-sg"]
    assert (
        known_as(shop, service.inputs["serviceRegistries"]["registryArn"]) == "shop-api-discovery"
    )
    # Nothing of it at the edge.
    for kind in ("aws:lb/targetGroup:TargetGroup", "aws:cloudfront/distribution:Distribution"):
        assert [r.name for r in shop.of_type(kind) if "-api-" in r.name] == []


def test_only_the_nodes_reach_the_declared_ports(shop):
    sg = shop.named("shop-internal-sg")
    rules = [
        (
            r.inputs["ipProtocol"],
            r.inputs["fromPort"],
            r.inputs["toPort"],
            r.inputs["referencedSecurityGroupId"],
        )
        for r in shop.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if sg.urn in r.dependencies
    ]
    nodes = RACK.node_security_group_id
    assert sorted(rules) == sorted(
        [
            ("tcp", 8080, 8080, nodes),
            ("tcp", 9000, 9000, nodes),
            ("tcp", 9001, 9001, nodes),
            ("tcp", 9200, 9200, nodes),
            ("udp", 8125, 8125, nodes),
        ]
    )


def test_web_services_stay_on_bridge_networking_behind_the_edge(shop):
    task = shop.named("shop-web-task")
    assert task.inputs["networkMode"] == "bridge"
    assert "networkConfiguration" not in shop.named("shop-web").inputs
    assert "serviceRegistries" not in shop.named("shop-web").inputs


def test_links_set_each_services_url_as_convox_does(shop):
    web = env(shop, "web")
    assert web["API_URL"] == "https://api.shop.rack.internal:9000"
    assert web["SEARCH_URL"] == "http://search.shop.rack.internal:9200"
    # A web service's URL is the one at the edge, its distribution's (or its domain).
    assert web["ADMIN_URL"] == "https://shop-admin.apps.example.com"
    assert env(shop, "api")["ADMIN_URL"] == web["ADMIN_URL"]
    # The linker's task definition waits for the distribution whose URL it carries.
    assert shop.named("shop-admin-cdn").urn in shop.named("shop-web-task").dependencies


def test_a_name_the_manifest_gives_wins_over_a_link(shop):
    assert env(shop, "worker")["STATS_URL"] == "http://stats.example.com"


def test_a_release_of_an_internal_service_runs_in_its_network(shop):
    event = json.loads(shop.named("shop-api-release").inputs["input"])
    vpc = event["networkConfiguration"]["awsvpcConfiguration"]
    assert vpc["subnets"] == RACK.private_subnet_ids
    assert vpc["assignPublicIp"] == "DISABLED"
    assert vpc["securityGroups"][0] == RACK.node_security_group_id
    assert known_as(shop, vpc["securityGroups"][1]) == "shop-internal-sg"
    assert "networkConfiguration" not in json.loads(shop.named("shop-web-release").inputs["input"])


def test_a_timer_of_an_internal_service_runs_in_its_network(shop):
    sync = shop.named("shop-timer-sync").inputs["target"]["ecsParameters"]
    assert sync["networkConfiguration"]["subnets"] == RACK.private_subnet_ids
    assert sync["networkConfiguration"]["assignPublicIp"] is False
    report = shop.named("shop-timer-report").inputs["target"]["ecsParameters"]
    assert "networkConfiguration" not in report


def test_an_app_without_internal_services_makes_none_of_it(tmp_path):
    manifest = "services:\n  web:\n    image: ghcr.io/example/web:1\n    port: 8000\n"
    records = plan_app(make_app(tmp_path / "app", manifest), environment={})
    assert not records.of_type("aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace")
    assert not [r for r in records if r.name == "shop-internal-sg"]


def test_a_worker_with_ports_is_reached_inside_the_rack_too(tmp_path):
    manifest = "services:\n  echo:\n    image: ghcr.io/example/echo:1\n    ports: [7000]\n"
    records = plan_app(make_app(tmp_path / "app", manifest), environment={})
    assert records.named("shop-echo-task").inputs["networkMode"] == "awsvpc"
    assert records.named("shop-echo-discovery").inputs["name"] == "echo"
