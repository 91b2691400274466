"""An app's internal services: reached by name from inside the rack, never through the edge.

A service is reached inside the rack (`Service.discoverable`) when it is
`internal` with a `port`, or lists `ports` (any service but an agent or a web
service): at `<service>.<app>.<rack>.internal`, on every port it declares, TCP
or UDP, as Convox v3 serves `<service>.<app>.<rack>.local`. Its tasks run in
`awsvpc` network mode, each with an address of its own that AWS Cloud Map
publishes as a DNS A record in a private zone of the rack's VPC, so anything in
the VPC resolves the name: the app's other services, its one-off tasks
(releases, timers, `paaskit run`, which Service Connect does not serve) and
other apps of the rack. Bridge networking would not do: its dynamic host ports
are published as SRV records only, which few clients read.

Who may connect: the tasks carry the nodes' security group (so what admits the
nodes, a database or a file system, admits them too) and one of the app's own
that admits the nodes' group on the declared ports only. An internal service
is never published on the CDN: it has no target group, route or distribution.

`links` set `<NAME>_URL` in the linking service, as Convox v2 does: an internal
service's URL is `<scheme>://<service>.<app>.<rack>.internal:<port>`; a web
service's is its URL at the edge (its domain once served, else its
`*.cloudfront.net` name), since that is the only way to it.

The price of `awsvpc` on EC2: each task takes an elastic network interface of
its node (a t3.medium has room for two besides its own), and ECS's managed
scaling adds nodes when tasks wait for one. A one-off task of such a service
needs the same network configuration, which the App hands to the runner and
the schedules, and `paaskit run` reads from the ECS service.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_aws as aws

from paaskit.config import Input
from paaskit.manifest import Service, env_prefix
from paaskit.tags import SERVICE_TAG

if TYPE_CHECKING:
    from ._app import App

__all__ = [
    "DNS_TTL",
    "INTERNAL_DOMAIN",
    "AppInternal",
    "internal_host",
]

INTERNAL_DOMAIN = "internal"
"""The last label of internal names: ICANN keeps `.internal` for private use (2024), where
Convox's `.local` belongs to multicast DNS and is resolved differently on some systems."""

DNS_TTL = 10
"""Seconds resolvers keep an internal name's addresses: short, since tasks come and go."""


def internal_host(service: str, app: str, rack: str) -> str:
    """`<service>.<app>.<rack>.internal`: where the rack reaches a service of an app."""
    return f"{service}.{app}.{rack}.{INTERNAL_DOMAIN}"


@dataclass
class AppInternal:
    """The internal services of one App: their private DNS names and who may connect."""

    app: App
    discovery: dict[str, aws.servicediscovery.Service] = field(default_factory=dict)
    _edge_urls: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        app = self.app
        self.rack = app.rack
        self.name = app.component_name
        self.services = [s for s in app.manifest.services.values() if s.discoverable]
        self.namespace: aws.servicediscovery.PrivateDnsNamespace | None = None
        self.security_group: aws.ec2.SecurityGroup | None = None
        # A web service's URL exists once its distribution does; its linkers' task
        # definitions are made before, so they read it through a deferred output.
        for service in app.manifest.services.values():
            for other in service.links:
                target = app.manifest.services[other]
                if target.web and other not in self._edge_urls:
                    self._edge_urls[other] = pulumi.deferred_output()
        if not self.services:
            return
        self.namespace = app.child(
            "namespace",
            aws.servicediscovery.PrivateDnsNamespace,
            "internal",
            name=self.domain,
            vpc=self.rack.vpc_id,
            description=f"paaskit app {self.name}: its internal services' names",
        )
        self.security_group = self._security_group()
        for service in self.services:
            self.discovery[service.name] = app.child(
                "discovery",
                aws.servicediscovery.Service,
                f"{service.name}-discovery",
                at=service.name,
                tags={SERVICE_TAG: service.name},
                name=service.name,
                description=f"paaskit app {self.name}: service {service.name}",
                dns_config={
                    "namespace_id": self.namespace.id,
                    "dns_records": [{"type": "A", "ttl": DNS_TTL}],
                    "routing_policy": "MULTIVALUE",
                },
                # Its instances are tasks ECS registers and deregisters: never worth keeping.
                force_destroy=True,
            )

    @property
    def domain(self) -> pulumi.Output[str]:
        """The app's private DNS zone: `<app>.<rack>.internal`."""
        return pulumi.Output.from_input(self.rack.name).apply(
            lambda rack: f"{self.name}.{rack}.{INTERNAL_DOMAIN}"
        )

    def _security_group(self) -> aws.ec2.SecurityGroup:
        sg = self.app.child(
            "internal_security_group",
            aws.ec2.SecurityGroup,
            "internal-sg",
            vpc_id=self.rack.vpc_id,
            description="Internal services: their declared ports from the rack nodes only",
        )
        ports = sorted({(p.port, p.protocol) for s in self.services for p in s.internal_ports})
        for port, protocol in ports:
            self.app.child(
                "internal_security_group_ingress",
                aws.vpc.SecurityGroupIngressRule,
                f"internal-sg-{protocol}-{port}",
                security_group_id=sg.id,
                referenced_security_group_id=self.rack.node_security_group_id,
                ip_protocol=protocol,
                from_port=port,
                to_port=port,
                description=f"{protocol.upper()} {port} from the rack nodes and their tasks",
            )
        return sg

    # --- what the App's tasks and services use ------------------------------------

    def is_internal(self, service: Service) -> bool:
        """Whether the service's tasks run in awsvpc mode with an internal name."""
        return service.name in self.discovery

    def security_groups(self) -> list[Input]:
        """An internal task's security groups: the nodes' (what admits the nodes admits it)
        and the app's internal one (its ports, from the nodes)."""
        assert self.security_group is not None
        return [self.rack.node_security_group_id, self.security_group.id]

    def _network(self) -> dict[str, Any]:
        """An internal task's network: the rack's private subnets, its groups, no public IP."""
        return {
            "subnets": self.rack.private_subnet_ids,
            "security_groups": self.security_groups(),
            "assign_public_ip": False,
        }

    def service_arguments(self, service: Service) -> dict[str, Any]:
        """The ECS service's network configuration and registry, or nothing for a bridge one."""
        if not self.is_internal(service):
            return {}
        return {
            "network_configuration": self._network(),
            "service_registries": {"registry_arn": self.discovery[service.name].arn},
        }

    def run_task_network(self, service: Service) -> pulumi.Output[dict[str, Any] | None]:
        """RunTask's `networkConfiguration` for a one-off task of the service (None: bridge)."""
        if not self.is_internal(service):
            return pulumi.Output.from_input(None)
        return pulumi.Output.all(
            pulumi.Output.from_input(self.rack.private_subnet_ids), *self.security_groups()
        ).apply(
            lambda v: {
                "awsvpcConfiguration": {
                    "subnets": list(v[0]),
                    "securityGroups": list(v[1:]),
                    "assignPublicIp": "DISABLED",
                }
            }
        )

    def schedule_network(self, service: Service) -> dict[str, Any]:
        """A schedule's ECS parameters for a timer of the service: its network configuration
        for an internal service, nothing for a bridge one."""
        if not self.is_internal(service):
            return {}
        return {"network_configuration": self._network()}

    def host(self, service: str) -> pulumi.Output[str]:
        """The service's internal name."""
        return pulumi.Output.from_input(self.rack.name).apply(
            lambda rack: internal_host(service, self.name, rack)
        )

    def link_environment(self, service: Service) -> list[pulumi.Output[dict[str, str]]]:
        """`<NAME>_URL` of each service `service` links to, as ECS environment entries."""
        entries = []
        for other in service.links:
            target = self.app.manifest.services[other]
            assert target.port is not None  # the manifest checks a link's target has one
            url: pulumi.Output[str]
            if target.web:
                url = self._edge_urls[other][0]
            else:
                scheme, port = target.port.scheme, target.port.port
                url = self.host(other).apply(lambda h, s=scheme, p=port: f"{s}://{h}:{p}")  # type: ignore[misc]
            entries.append(url.apply(_url_entry(f"{env_prefix(other)}_URL")))
        return entries

    def served(self, service: str, url: pulumi.Output[str]) -> None:
        """A web service's URL at the edge, once its distribution exists: its linkers read it."""
        deferred = self._edge_urls.get(service)
        if deferred is not None:
            deferred[1](url)

    @property
    def hosts(self) -> Mapping[str, pulumi.Output[str]]:
        """Each internal service's name."""
        return {name: self.host(name) for name in self.discovery}


def _url_entry(name: str) -> Any:
    """An ECS environment entry `name` = the URL it is given."""

    def entry(url: str) -> dict[str, str]:
        return {"name": name, "value": url}

    return entry
