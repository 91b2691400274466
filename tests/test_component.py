"""One vocabulary for every component's children: `CHILDREN`, `nodes` and `transform`.

Every component is built in enough configurations to make every child it can
make, with a recording hook on every key: each hook must run, and `nodes`
must hold exactly the component's direct children in the plan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from paaskit import (
    App,
    AppArgs,
    Cache,
    CacheArgs,
    Cdn,
    CdnArgs,
    Database,
    DatabaseArgs,
    DatabaseSettings,
    Edge,
    EdgeArgs,
    LoadBalancer,
    LoadBalancerArgs,
    Network,
    NetworkArgs,
    Rack,
    RackArgs,
    SpotCluster,
    SpotClusterArgs,
    Volume,
    VolumeArgs,
)
from paaskit._component import Component, keyword_arguments
from paaskit.config import ConfigError
from paaskit.manifest import load_manifest
from paaskit.plan import Plan
from paaskit.testing import plan
from tests.test_app import RACK, make_app

VPC = "vpc-0123456789abcdef0"
SUBNETS = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"]
NODES = "sg-0123456789abcdef0"
TOPIC = "arn:aws:sns:us-east-1:123456789012:alarms"
ALB = "rack-lb-1234567890.us-east-1.elb.amazonaws.com"

APP_MANIFEST = """
environment:
  - SECRET_KEY
resources:
  database:
    type: postgres
  cache:
    type: redis
services:
  web:
    build: .
    port: 8000
    scale:
      count: 2-4
      targets: {cpu: 60, requests: 500}
    resources: [database]
    release: python manage.py migrate
    static: static
    policies: [arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess]
  api:
    image: ghcr.io/example/api:1
    port: 9000
    domain: api.shop.com
  worker:
    image: public.ecr.aws/docker/library/python:3.12
    command: python worker.py
    volumes: [/data]
    resources: [cache]
  search:
    image: ghcr.io/example/search:1
    port: 9200
    internal: true
timers:
  nightly:
    schedule: "0 3 * * *"
    command: python report.py
    service: worker
"""

Build = Callable[[dict[str, Any]], Component]
"""Makes one component with the given transform hooks (inside a program)."""


def _network(transform: dict[str, Any]) -> Iterator[Build]:
    common = {"ipv6": True, "endpoints": ["ecr", "logs"], "transform": transform}
    yield lambda t: Network("net", NetworkArgs(nat="per_az", **{**common, "transform": t}))
    yield lambda t: Network("net", NetworkArgs(nat="instance", **{**common, "transform": t}))


def _cluster(transform: dict[str, Any]) -> Iterator[Build]:
    yield lambda t: SpotCluster(
        "cluster", SpotClusterArgs(vpc_id=VPC, subnet_ids=SUBNETS, transform=t)
    )


def _route(lb: LoadBalancer) -> LoadBalancer:
    lb.add_route("web", "arn:aws:elasticloadbalancing:::targetgroup/web/1", hosts=["a.example.com"])
    return lb


def _loadbalancer(transform: dict[str, Any]) -> Iterator[Build]:
    wiring = {"vpc_id": VPC, "public_subnet_ids": SUBNETS, "node_security_group_id": NODES}
    domain = {"domain": "example.com", "zone_name": "example.com"}
    yield lambda t: _route(LoadBalancer("lb", LoadBalancerArgs(**wiring, **domain, transform=t)))
    yield lambda t: LoadBalancer(
        "lb", LoadBalancerArgs(**wiring, **domain, cloudfront_only=False, transform=t)
    )


def _cdn(static: Path) -> Callable[[dict[str, Any]], Iterator[Build]]:
    def builds(transform: dict[str, Any]) -> Iterator[Build]:
        def make(t: dict[str, Any]) -> Cdn:
            cdn = Cdn(
                "cdn",
                CdnArgs(
                    origin_domain=ALB,
                    domains=["example.com", "*.example.com"],
                    zone_name="example.com",
                    logging=True,
                    static_by_host=True,
                    own_us_east_1_provider=True,
                    transform=t,
                ),
            )
            cdn.upload_assets("site", static, "shop/web/static")
            return cdn

        yield make

    return builds


def _edge(transform: dict[str, Any]) -> Iterator[Build]:
    yield lambda t: Edge(
        "edge",
        EdgeArgs(
            load_balancer_arn="arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/x/1",
            load_balancer_dns_name=ALB,
            rack_name="rack",
            domain="apps.example.com",
            zone_name="example.com",
            transform=t,
        ),
    )


def _database(transform: dict[str, Any]) -> Iterator[Build]:
    wiring = {"vpc_id": VPC, "subnet_ids": SUBNETS, "allowed_security_group_ids": [NODES]}
    yield lambda t: Database(
        "db",
        DatabaseArgs(
            **wiring,
            read_replicas=1,
            alarms_topic_arn=TOPIC,
            enhanced_monitoring_interval=60,
            transform=t,
        ),
    )


def _volume(transform: dict[str, Any]) -> Iterator[Build]:
    yield lambda t: Volume(
        "files",
        VolumeArgs(
            vpc_id=VPC,
            subnet_ids=SUBNETS,
            allowed_security_group_ids=[NODES],
            directories={"web:/data": "/services/web/data"},
            transform=t,
        ),
    )


def _cache(transform: dict[str, Any]) -> Iterator[Build]:
    wiring = {"vpc_id": VPC, "subnet_ids": SUBNETS, "allowed_security_group_ids": [NODES]}
    yield lambda t: Cache("cache", CacheArgs(**wiring, multi_az=True, transform=t))
    yield lambda t: Cache("cache", CacheArgs(**wiring, engine="memcached", nodes=2, transform=t))


def _rack(transform: dict[str, Any]) -> Iterator[Build]:
    yield lambda t: Rack("rk", RackArgs(database=DatabaseSettings(), transform=t))
    yield lambda t: Rack("rk", RackArgs(legacy_edge="keep", transform=t))


def _app(root: Path) -> Callable[[dict[str, Any]], Iterator[Build]]:
    def builds(transform: dict[str, Any]) -> Iterator[Build]:
        def make(t: dict[str, Any], zones: list[str]) -> App:
            return App(
                "shop",
                AppArgs(
                    manifest=load_manifest(root),
                    rack=RACK,
                    environment={"SECRET_KEY": "s3cr3t-value"},
                    zones=zones,
                    transform=t,
                ),
            )

        # The api's domain in two steps, then in one (its zone given).
        yield lambda t: make(t, [])
        yield lambda t: make(t, ["shop.com"])

    return builds


@pytest.fixture(scope="module")
def builders(tmp_path_factory) -> dict[type[Component], Callable[..., Iterator[Build]]]:
    static = tmp_path_factory.mktemp("static")
    (static / "app.3f9a1c2e.css").write_text("body{}")
    app = make_app(tmp_path_factory.mktemp("app") / "shop", APP_MANIFEST)
    return {
        Network: _network,
        SpotCluster: _cluster,
        LoadBalancer: _loadbalancer,
        Cdn: _cdn(static),
        Edge: _edge,
        Database: _database,
        Cache: _cache,
        Volume: _volume,
        Rack: _rack,
        App: _app(app),
    }


def _flatten(nodes: dict[str, Any]) -> list[pulumi.Resource]:
    out: list[pulumi.Resource] = []
    for value in nodes.values():
        if isinstance(value, list):
            out.extend(value)
        elif isinstance(value, dict):
            out.extend(value.values())
        else:
            out.append(value)
    return out


def _direct_children(p: Plan, component: Component) -> set[str]:
    (record,) = [r for r in p if r.type == component.TYPE and r.name == component.component_name]
    return {r.name for r in p if r.parent == record.urn}


COMPONENTS = [Network, SpotCluster, LoadBalancer, Cdn, Edge, Database, Cache, Volume, Rack, App]


@pytest.mark.parametrize("cls", COMPONENTS, ids=lambda c: c.__name__)
def test_every_key_is_made_and_nodes_hold_every_child(cls, builders):
    ran: dict[str, int] = dict.fromkeys(cls.CHILDREN, 0)

    def recorder(key: str) -> Callable[[dict[str, Any], pulumi.ResourceOptions], None]:
        def hook(kwargs: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
            ran[key] += 1

        return hook

    hooks = {key: recorder(key) for key in cls.CHILDREN}
    for build in builders[cls](hooks):
        made: list[Component] = []

        def program(build: Build = build, made: list[Component] = made) -> None:
            made.append(build(hooks))

        p = plan(program)
        (component,) = made
        in_nodes = [r._name for r in _flatten(component.nodes)]
        assert len(in_nodes) == len(set(in_nodes)), "a child is in nodes twice"
        assert set(in_nodes) == _direct_children(p, component)
        for key, value in component.nodes.items():
            child = cls.CHILDREN[key]
            expected = {"one": pulumi.Resource, "list": list, "map": dict}[child.cardinality]
            assert isinstance(value, expected), key
            for resource in _flatten({key: value}):
                assert type(resource) is child.cls, key
    assert [key for key, count in ran.items() if count == 0] == []


@pytest.mark.parametrize("cls", COMPONENTS, ids=lambda c: c.__name__)
def test_every_key_names_one_class_of_resource(cls):
    for key, child in cls.CHILDREN.items():
        assert key.isidentifier(), key
        assert key == key.lower(), key
        assert issubclass(child.cls, pulumi.Resource), key
        assert child.cardinality in ("one", "list", "map"), key


# --- a transform may be a mapping merged into the arguments ----------------------------

BOUNDARY = "arn:aws:iam::123456789012:policy/platform-boundary"


def _cluster_with(transform: dict[str, Any]) -> Plan:
    return plan(
        lambda: SpotCluster(
            "cluster", SpotClusterArgs(vpc_id=VPC, subnet_ids=SUBNETS, transform=transform)
        )
    )


def test_a_mapping_transform_sets_a_permissions_boundary_on_the_node_role():
    p = _cluster_with({"node_role": {"permissions_boundary": BOUNDARY}})
    role = p.named("cluster-node-role")
    assert role.inputs["permissionsBoundary"] == BOUNDARY
    # Only that child: the other roles of the cluster are untouched.
    others = [r for r in p.of_type("aws:iam/role:Role") if r.name != "cluster-node-role"]
    assert others
    assert all("permissionsBoundary" not in r.inputs for r in others)


def test_a_mapping_merges_nested_mappings_and_replaces_the_rest():
    p = _cluster_with(
        {
            "launch_template": {
                "metadata_options": {"http_put_response_hop_limit": 2},
                "description": "mine",
            }
        }
    )
    template = p.named("cluster-launch-template").inputs
    assert template["metadataOptions"]["httpPutResponseHopLimit"] == 2
    assert template["metadataOptions"]["httpTokens"] == "required"  # kept
    assert template["description"] == "mine"


def test_tags_in_a_mapping_add_to_the_components_tags():
    p = _cluster_with({"node_role": {"tags": {"owner": "platform"}}})
    assert p.named("cluster-node-role").inputs["tags"] == {
        "paaskit:component": "cluster",
        "owner": "platform",
    }


def test_a_mapping_with_an_argument_the_class_lacks_fails_before_anything_is_made():
    made: list[str] = []

    def program() -> None:
        made.append("started")
        SpotCluster(
            "cluster",
            SpotClusterArgs(
                vpc_id=VPC,
                subnet_ids=SUBNETS,
                transform={"node_role": {"permission_boundary": BOUNDARY}},
            ),
        )

    with pytest.raises(Exception, match=r"transform\.node_role\.permission_boundary") as caught:
        plan(program)
    assert "did you mean permissions_boundary?" in str(caught.value)
    assert "Role (the node_role of SpotCluster)" in str(caught.value)


def test_an_unknown_key_is_a_config_error_with_a_suggestion():
    with pytest.raises(ConfigError, match=r"transform\.node_rol: no such child of SpotCluster; "):
        SpotCluster(
            "cluster",
            SpotClusterArgs(
                vpc_id=VPC, subnet_ids=SUBNETS, transform={"node_rol": {"description": "x"}}
            ),
        )


def test_a_function_that_adds_an_unknown_argument_gets_the_same_clear_error():
    def typo(kwargs: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        kwargs["permission_boundary"] = BOUNDARY

    with pytest.raises(Exception, match=r"transform\.node_role\.permission_boundary: Role"):
        _cluster_with({"node_role": typo})


def test_keyword_arguments_are_the_resource_class_ones():
    assert "permissions_boundary" in keyword_arguments(aws.iam.Role)
    assert "opts" not in keyword_arguments(aws.iam.Role)
    assert keyword_arguments(Network) == {"args"}


# --- the same with a stack-wide Pulumi transform ----------------------------------------


def test_a_stack_transform_sets_the_boundary_on_every_role():
    def boundary(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if args.type_ == "aws:iam/role:Role":
            props = {**args.props, "permissionsBoundary": BOUNDARY}
            return pulumi.ResourceTransformResult(props, args.opts)
        return None

    def program() -> None:
        pulumi.runtime.register_resource_transform(boundary)
        SpotCluster("cluster", SpotClusterArgs(vpc_id=VPC, subnet_ids=SUBNETS))

    roles = plan(program).of_type("aws:iam/role:Role")
    assert len(roles) == 2
    assert all(r.inputs["permissionsBoundary"] == BOUNDARY for r in roles)
