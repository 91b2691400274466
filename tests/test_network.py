"""Network: subnets per zone, routes through the chosen NAT, private stays private."""

from __future__ import annotations

import json
import subprocess

import pytest
from pydantic import ValidationError

from paaskit import Network, NetworkArgs
from paaskit.config import ConfigError
from paaskit.network import subnet_layout
from paaskit.testing import plan

SUBNET = "aws:ec2/subnet:Subnet"
ROUTE = "aws:ec2/route:Route"


def plan_network(**settings):
    return plan(lambda: Network("net", NetworkArgs(**settings)))


def subnets(p, tier):
    return sorted(
        (r for r in p.of_type(SUBNET) if r.inputs["tags"]["paaskit:tier"] == tier),
        key=lambda r: r.name,
    )


def test_default_is_two_zones_with_public_and_private_subnets():
    p = plan_network()
    public, private = subnets(p, "public"), subnets(p, "private")
    assert [s.inputs["cidrBlock"] for s in public] == ["10.0.128.0/22", "10.0.132.0/22"]
    assert [s.inputs["cidrBlock"] for s in private] == ["10.0.0.0/19", "10.0.32.0/19"]
    assert [s.inputs["availabilityZone"] for s in private] == ["us-east-1a", "us-east-1b"]
    vpc = p.one("aws:ec2/vpc:Vpc")
    assert vpc.inputs["cidrBlock"] == "10.0.0.0/16"
    assert vpc.inputs["enableDnsHostnames"] is True


def test_no_subnet_gives_public_ips_on_launch():
    for subnet in plan_network(zones=3).of_type(SUBNET):
        assert subnet.inputs["mapPublicIpOnLaunch"] is False


def test_adding_a_zone_keeps_existing_subnets_unchanged():
    two = {r.name: r.inputs["cidrBlock"] for r in plan_network(zones=2).of_type(SUBNET)}
    three = {r.name: r.inputs["cidrBlock"] for r in plan_network(zones=3).of_type(SUBNET)}
    assert {k: three[k] for k in two} == two
    assert sorted(set(three) - set(two)) == ["net-private-2", "net-public-2"]


def test_layout_subnets_never_overlap_and_stay_inside_the_vpc():
    import ipaddress

    for cidr in ("10.0.0.0/16", "172.20.0.0/18", "192.168.4.0/22"):
        nets = [ipaddress.IPv4Network(c) for pair in subnet_layout(cidr, 4) for c in pair]
        vpc = ipaddress.IPv4Network(cidr)
        assert all(n.subnet_of(vpc) for n in nets)
        assert all(not a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])
        assert min(n.prefixlen for n in nets) >= vpc.prefixlen
        assert max(n.prefixlen for n in nets) <= 28


def private_default_routes(p):
    return {
        r.name: r.inputs
        for r in p.of_type(ROUTE)
        if r.name.startswith("net-private") and "destinationCidrBlock" in r.inputs
    }


def test_single_nat_serves_every_private_route_table():
    p = plan_network(zones=3, nat="single")
    gateway = p.one("aws:ec2/natGateway:NatGateway")
    assert p.named("net-public-0").urn in gateway.dependencies
    routes = private_default_routes(p)
    assert len(routes) == 3
    gateway_ids = {r["natGatewayId"] for r in routes.values()}
    assert len(gateway_ids) == 1
    assert all(r["destinationCidrBlock"] == "0.0.0.0/0" for r in routes.values())


def test_nat_gateways_sit_in_public_subnets():
    p = plan_network(nat="per_az")
    public_ids = {p.named(f"net-public-{i}").urn for i in range(2)}
    for gateway in p.of_type("aws:ec2/natGateway:NatGateway"):
        assert set(gateway.dependencies) & public_ids
        assert gateway.inputs["connectivityType"] == "public"


def test_per_az_nat_routes_each_zone_through_its_own_gateway():
    p = plan_network(zones=3, nat="per_az")
    assert len(p.of_type("aws:ec2/natGateway:NatGateway")) == 3
    routes = private_default_routes(p)
    assert len({r["natGatewayId"] for r in routes.values()}) == 3
    # zone i's route uses the gateway in zone i's public subnet
    for i in range(3):
        route = p.named(f"net-private-{i}-default")
        gateway = next(
            g for g in p.of_type("aws:ec2/natGateway:NatGateway") if g.name == f"net-nat-{i}"
        )
        assert gateway.urn in route.dependencies
        assert p.named(f"net-public-{i}").urn in gateway.dependencies


def test_nat_instance_is_a_hardened_forwarder():
    p = plan_network(nat="instance")
    instance = p.one("aws:ec2/instance:Instance")
    assert instance.inputs["sourceDestCheck"] is False
    assert instance.inputs["instanceType"] == "t4g.nano"
    assert instance.inputs["metadataOptions"]["httpTokens"] == "required"
    assert instance.inputs["metadataOptions"]["httpPutResponseHopLimit"] == 1
    assert instance.inputs["rootBlockDevice"]["encrypted"] is True
    assert "keyName" not in instance.inputs
    assert "ami" in instance.ignore_changes
    assert "MASQUERADE" in instance.inputs["userData"]
    for route in private_default_routes(p).values():
        assert route["networkInterfaceId"].startswith("eni-")
    assert not p.of_type("aws:ec2/natGateway:NatGateway")
    rule = p.named("net-nat-sg-from-vpc")
    assert rule.inputs["cidrIpv4"] == "10.0.0.0/16"


def test_the_nat_instance_runs_the_image_of_its_types_architecture():
    from paaskit.testing import plan

    def ami(instance_type: str) -> str:
        args = NetworkArgs(nat="instance", nat_instance_type=instance_type)
        records = plan(lambda: Network("n", args))
        return str(records.one("aws:ec2/instance:Instance").inputs["ami"])

    # The image is looked up by architecture (the plan answers each lookup with its own id).
    # m7gd is Graviton, though its family does not end in "g": the catalogue knows.
    assert ami("m7gd.medium") == ami("t4g.nano") != ami("t3.nano")


def test_no_nat_means_no_default_route_from_private_subnets():
    p = plan_network(nat="none")
    assert private_default_routes(p) == {}
    assert not p.of_type("aws:ec2/natGateway:NatGateway")
    assert not p.of_type("aws:ec2/instance:Instance")


def test_public_subnets_route_to_the_internet_gateway():
    p = plan_network()
    route = p.named("net-public-default")
    assert route.inputs["destinationCidrBlock"] == "0.0.0.0/0"
    assert p.one("aws:ec2/internetGateway:InternetGateway").urn in route.dependencies


def test_default_security_group_has_no_rules():
    group = plan_network().one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert group.inputs["ingress"] == []
    assert group.inputs["egress"] == []


def test_s3_gateway_endpoint_serves_every_route_table():
    p = plan_network(zones=3)
    endpoint = p.named("net-s3-endpoint")
    assert endpoint.inputs["vpcEndpointType"] == "Gateway"
    assert endpoint.inputs["serviceName"] == "com.amazonaws.us-east-1.s3"
    assert len(endpoint.inputs["routeTableIds"]) == 4


def test_interface_endpoints_are_private_and_reached_over_https_from_the_vpc_only():
    p = plan_network(endpoints=["ecr", "logs"], nat="none")
    endpoints = [
        r
        for r in p.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if r.inputs["vpcEndpointType"] == "Interface"
    ]
    assert sorted(e.inputs["serviceName"] for e in endpoints) == [
        "com.amazonaws.us-east-1.ecr.api",
        "com.amazonaws.us-east-1.ecr.dkr",
        "com.amazonaws.us-east-1.logs",
    ]
    assert all(e.inputs["privateDnsEnabled"] for e in endpoints)
    rules = p.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert [(r.inputs["cidrIpv4"], r.inputs["fromPort"], r.inputs["toPort"]) for r in rules] == [
        ("10.0.0.0/16", 443, 443)
    ]


def test_ssm_and_ssmmessages_together_make_one_ssmmessages_endpoint():
    p = plan_network(endpoints=["ssm", "ssmmessages"], nat="none")
    services = sorted(
        r.inputs["serviceName"].rsplit(".", 1)[-1]
        for r in p.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if r.inputs["vpcEndpointType"] == "Interface"
    )
    assert services == ["ec2messages", "ssm", "ssmmessages"]


def test_flow_logs_record_all_traffic_to_a_log_group_with_retention():
    p = plan_network(flow_logs_retention_days=90)
    flow = p.one("aws:ec2/flowLog:FlowLog")
    group = p.one("aws:cloudwatch/logGroup:LogGroup")
    assert flow.inputs["trafficType"] == "ALL"
    assert flow.inputs["logDestinationType"] == "cloud-watch-logs"
    assert group.urn in flow.dependencies
    assert group.inputs["retentionInDays"] == 90


def test_flow_log_role_writes_only_to_its_log_group():
    p = plan_network()
    policy = json.loads(p.named("net-flow-logs-write").inputs["policy"])
    (statement,) = policy["Statement"]
    group_arn = statement["Resource"][0]
    assert group_arn.startswith("arn:aws:logs:us-east-1:")
    assert group_arn.endswith(":log-group:net-flow-logs-" + group_arn[-7:])
    assert statement["Resource"] == [group_arn, group_arn + ":*"]
    assert "*" not in statement["Action"]
    trust = json.loads(p.named("net-flow-logs-role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"]


def test_flow_logs_can_be_switched_off():
    p = plan_network(flow_logs=False)
    assert not p.of_type("aws:ec2/flowLog:FlowLog")
    assert not p.of_type("aws:cloudwatch/logGroup:LogGroup")


def test_ipv6_gives_each_subnet_a_distinct_64_and_private_egress_only():
    p = plan_network(ipv6=True)
    blocks = [s.inputs["ipv6CidrBlock"] for s in p.of_type(SUBNET)]
    assert len(set(blocks)) == 4
    assert all(b.endswith("/64") for b in blocks)
    assert p.one("aws:ec2/vpc:Vpc").inputs["assignGeneratedIpv6CidrBlock"] is True
    eigw = p.one("aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway")
    assert all(eigw.urn in p.named(f"net-private-{i}-default-ipv6").dependencies for i in range(2))


def test_pinned_zones_are_used_as_given():
    p = plan_network(availability_zones=["us-east-1c", "us-east-1d"])
    assert [s.inputs["availabilityZone"] for s in subnets(p, "private")] == [
        "us-east-1c",
        "us-east-1d",
    ]


def test_every_resource_is_tagged_with_its_component_and_the_users_tags():
    p = plan_network(tags={"team": "platform"}, nat="instance")
    for record in p:
        if record.custom and "tags" in record.inputs:
            assert record.inputs["tags"]["paaskit:component"] == "net"
            assert record.inputs["tags"]["team"] == "platform"


def test_a_transform_changes_a_child_before_it_is_created():
    def dedicated(kwargs, opts):
        kwargs["instance_tenancy"] = "dedicated"

    p = plan_network(transform={"vpc": dedicated})
    assert p.one("aws:ec2/vpc:Vpc").inputs["instanceTenancy"] == "dedicated"


def test_an_unknown_transform_kind_is_an_error():
    with pytest.raises(
        ConfigError, match=r"transform\.vcp: no such child of Network; did you mean vpc\?"
    ):
        Network("x", NetworkArgs(transform={"vcp": lambda kwargs, opts: None}))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"cidr": "10.0.0.0/33"}, "cidr"),
        ({"cidr": "10.0.0.1/16"}, "cidr"),
        ({"cidr": "10.0.0.0/24"}, "cidr.*too small"),
        ({"cidr": "10.0.0.0/12"}, "cidr.*larger than AWS allows"),
        ({"cidr": "8.8.0.0/16"}, "cidr.*private range"),
        ({"zones": 1}, "zones"),
        ({"zones": 4}, "zones"),
        ({"nat": "gateway"}, "nat"),
        ({"nat": "single", "private_subnets": False}, "nat: 'single' serves private subnets"),
        (
            {"availability_zones": ["us-east-1a"]},
            "availability_zones: 1 zones named but zones is 2",
        ),
        ({"flow_logs_retention_days": 10}, "flow_logs_retention_days"),
        ({"endpoints": ["dynamodb"]}, "endpoints"),
        ({"zonez": 2}, "zonez"),
        (
            {"nat_instance_type": "t4g.huge"},
            "nat_instance_type.*unknown EC2 instance type 't4g.huge'",
        ),
    ],
)
def test_bad_settings_fail_naming_the_key(settings, message):
    with pytest.raises(ValidationError, match="(?s)" + message):
        NetworkArgs(**settings)


# --- zones are fixed once deployed -----------------------------------------------------


def _region_lists(names: list[str]):
    """The region's answer to getAvailabilityZones, as it may change over a rack's life."""

    def answer(args):
        return {
            "id": "us-east-1",
            "names": names,
            "zoneIds": [f"use1-az{i}" for i in range(1, len(names) + 1)],
            "groupNames": ["us-east-1"] * len(names),
            "state": "available",
        }

    return {"aws:index/getAvailabilityZones:getAvailabilityZones": answer}


def what_would_change(before, after) -> dict[str, set[str]]:
    """The inputs Pulumi would see change, by resource: every input of the same resource
    that differs, except those its `ignore_changes` names (Pulumi keeps the old value)."""
    old = {r.urn: r for r in before}
    changed = {}
    for record in after:
        if record.urn not in old:
            changed[record.name] = {"(created)"}
            continue
        keys = set(record.inputs) | set(old[record.urn].inputs)
        differs = {
            k
            for k in keys
            if record.inputs.get(k) != old[record.urn].inputs.get(k)
            and k not in record.ignore_changes
        }
        if differs:
            changed[record.name] = differs
    return changed


def test_a_later_change_in_the_regions_zones_changes_nothing_deployed():
    """A zone the region no longer lists first (or at all) must not move any subnet: EC2 cannot
    move a subnet (ModifySubnetAttribute has no zone), so Pulumi would replace it."""
    import botocore.session

    ec2 = botocore.session.get_session().get_service_model("ec2")
    members = ec2.operation_model("ModifySubnetAttribute").input_shape.members
    assert "AvailabilityZone" not in members

    program = lambda: Network("net", NetworkArgs(nat="per_az"))  # noqa: E731
    deployed = plan(program, invokes=_region_lists(["us-east-1a", "us-east-1b", "us-east-1c"]))
    later = plan(program, invokes=_region_lists(["us-east-1b", "us-east-1c", "us-east-1d"]))
    assert what_would_change(deployed, later) == {}
    assert {r.inputs["availabilityZone"] for r in later.of_type(SUBNET)} == {
        "us-east-1b",
        "us-east-1c",
    }


def test_zones_named_in_the_settings_change_when_the_settings_do():
    named = plan_network(availability_zones=["us-east-1a", "us-east-1b"])
    renamed = plan_network(availability_zones=["us-east-1a", "us-east-1c"])
    assert what_would_change(named, renamed) == {
        "net-public-1": {"availabilityZone"},
        "net-private-1": {"availabilityZone"},
    }


# --- the NAT instance's user data, run with stand-ins for the machine's programs --------

RECORDER = """#!/bin/sh
# Record the call, then behave as {name} would for the script.
echo "{name} $*" >> "$CALLS"
{body}
"""

NAT_STUBS = {
    "sysctl": "",
    "ip": 'echo "default via 10.0.0.1 dev ens5 proto dhcp src 10.0.0.10 metric 512"',
    "systemctl": "",
    "service": "",
    "sleep": "",
    # Fails until the network is up (the Elastic IP associated), then installs iptables.
    "dnf": """
n=$(cat "$STATE/dnf" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$STATE/dnf"
if [ "$n" -le "$DNF_FAILURES" ]; then echo "Curl error (28): Timeout" >&2; exit 1; fi
cp "$STATE/iptables" "$BIN/iptables"
""",
}
IPTABLES = """
case "$*" in
  *" -C "*) grep -q -- "-A POSTROUTING" "$CALLS.rules" 2>/dev/null ;;
  *" -A POSTROUTING"*) echo "-A POSTROUTING $*" >> "$CALLS.rules" ;;
esac
"""


def _run_nat_user_data(tmp_path, dnf_failures: int):
    from paaskit.network import _NAT_USER_DATA

    etc, bin_, state = tmp_path / "etc", tmp_path / "bin", tmp_path / "state"
    for folder in (etc / "sysctl.d", etc / "dnf", bin_, state):
        folder.mkdir(parents=True)
    (etc / "dnf" / "automatic.conf").write_text("[commands]\napply_updates = no\n")
    for name, body in NAT_STUBS.items():
        (bin_ / name).write_text(RECORDER.format(name=name, body=body))
        (bin_ / name).chmod(0o755)
    # iptables is not on an Amazon Linux 2023 image until iptables-services is installed.
    (state / "iptables").write_text(RECORDER.format(name="iptables", body=IPTABLES))
    (state / "iptables").chmod(0o755)
    script = tmp_path / "user-data"
    script.write_text(_NAT_USER_DATA.replace("/etc/", f"{etc}/"))
    calls = tmp_path / "calls"
    env = {
        "PATH": f"{bin_}:/usr/bin:/bin",
        "CALLS": str(calls),
        "STATE": str(state),
        "BIN": str(bin_),
        "DNF_FAILURES": str(dnf_failures),
    }
    result = subprocess.run(
        ["bash", str(script)], env=env, capture_output=True, text=True, timeout=60
    )
    lines = calls.read_text().splitlines() if calls.exists() else []
    return result, lines, etc


def test_the_nat_user_data_is_valid_shell():
    from paaskit.network import _NAT_USER_DATA

    assert _NAT_USER_DATA.startswith("#!/bin/bash\n")
    checked = subprocess.run(["bash", "-n"], input=_NAT_USER_DATA, text=True, capture_output=True)
    assert checked.returncode == 0, checked.stderr


def test_the_nat_forwards_before_it_installs_and_waits_out_a_slow_network(tmp_path):
    result, calls, etc = _run_nat_user_data(tmp_path, dnf_failures=3)
    assert result.returncode == 0, result.stderr
    forward = calls.index("sysctl -w net.ipv4.ip_forward=1")
    installs = [i for i, c in enumerate(calls) if c.startswith("dnf install")]
    assert len(installs) == 4  # three timeouts, then the install
    assert forward < installs[0]
    assert "net.ipv4.ip_forward = 1" in (etc / "sysctl.d" / "90-paaskit-nat.conf").read_text()
    assert [c for c in calls if c.startswith("sleep")] == ["sleep 5", "sleep 10", "sleep 15"]
    masquerade = [c for c in calls if "-A POSTROUTING" in c]
    assert masquerade == ["iptables -t nat -A POSTROUTING -o ens5 -j MASQUERADE"]
    after = calls[installs[-1] + 1 :]
    assert after.index("iptables -F FORWARD") < after.index("service iptables save")
    assert after.index("service iptables save") < after.index("systemctl enable --now iptables")
    assert "apply_updates = yes" in (etc / "dnf" / "automatic.conf").read_text()


def test_without_the_network_the_nat_still_forwards_and_then_reports_failure(tmp_path):
    result, calls, etc = _run_nat_user_data(tmp_path, dnf_failures=10**6)
    assert result.returncode == 1
    assert "giving up: dnf install" in result.stdout
    assert "sysctl -w net.ipv4.ip_forward=1" in calls
    assert (etc / "sysctl.d" / "90-paaskit-nat.conf").exists()
    assert len([c for c in calls if c.startswith("dnf install")]) == 40
