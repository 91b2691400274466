"""LoadBalancer: the rack's Application Load Balancer, its certificates and the apps' routes.

Every request to an app enters here (behind the Cdn, in a rack). One model of
domains, chosen by the settings:

==========================  ===================================================
settings                    what the load balancer serves
==========================  ===================================================
`domain` + `zone_name`      HTTPS on 443 with an ACM certificate for `domain` and
(or `zone_id`)              `*.domain`, validated by DNS records in that Route 53
                            zone (never by email); HTTP on 80 answers 301 to HTTPS
`domain` + `certificate_arn`  the same with a certificate you bring
no domain                   plain HTTP on 80, to CloudFront only; CloudFront gives
                            viewers HTTPS on its own `*.cloudfront.net` domain
==========================  ===================================================

A domain with neither a zone nor a certificate is an error naming `domain`.
Apps get hosts under the rack's domain, `<app>-<service>.<domain>` (`app_host`).
Without a domain, traffic between CloudFront and the load balancer is plain
HTTP over the internet (restricted to CloudFront's addresses and a secret
header): fine to try a rack, but production racks should have a domain.

Only CloudFront (`cloudfront_only`, on by default). A rack always puts the Cdn
in front, so the load balancer admits only CloudFront's origin-facing addresses
(the AWS-managed prefix list) and every route also requires a secret header
that CloudFront adds on its way to the origin: nobody can bypass the CDN (and
its WAF and security headers) by calling the load balancer directly. Requests
without the header fall to the default action, a fixed 404. A security group
counts a prefix-list reference as the list's maximum size (55 entries for
CloudFront) against its 60-rule quota, so only the one port CloudFront uses is
opened (443 with a domain, 80 without). Without a domain this mode is
mandatory: plain HTTP must never face viewers.

The secret header's value (`origin_secret`) is a Pulumi secret. Give your own,
or let the component make one: AWS generates 48 random letters and digits
(Secrets Manager's GetRandomPassword) and an SSM SecureString parameter keeps
them. The parameter ignores later changes of its value, so the secret is
generated once and stays the same on every `pulumi up`; it is stored encrypted
in SSM and in the Pulumi state (as a secret). The trade-off: the value is also
readable by anyone who may describe the listener rules or read the parameter,
and rotating it (put a new value in the parameter, `pulumi refresh`, `pulumi
up`) leaves a few minutes, while CloudFront deploys, during which the old
header is refused.

Routes. `add_route` (or `attach_route` from another stack, with only the
listener's ARN) adds a listener rule for hosts and/or path patterns. A rule's
priority comes from its own name, hashed into a band by specificity: host and
path rules first, then path-only rules (cross-cutting paths such as
`/.well-known/*` apply to every host), then host-only rules. Adding or removing
another app never changes a rule's priority. Collisions within a program, more
rules than AWS allows per load balancer (100 by default, `max_rules` after a
quota increase) and more than AWS's 5 condition values per rule are errors
before anything is deployed.

Load balancer settings: invalid header fields dropped (which includes headers
with underscores), HTTP desync mitigation `defensive`, deletion protection on
(off for `throwaway` stacks), HTTP/2, the Host header passed to apps unchanged,
TLS 1.3 with the restricted post-quantum policy AWS recommends, access logs to a
bucket of its own (private, SSE-S3, the only encryption ALB log delivery
supports, TLS-only, expiring after `access_log_retention_days`, kept on
`pulumi destroy` unless `throwaway`).

Targets. Tasks on the SpotCluster's nodes use bridge networking with dynamic
host ports (32768-65535); given `node_security_group_id`, the component opens
exactly that range from its own security group to the nodes' (both rules).
Health checks use the traffic port, so the range covers them too. Without it
the load balancer has no egress at all: add your own rule to
`lb.security_group`.

Cost (us-east-1): the load balancer $0.0225/h (~$16.43 a month) plus $0.008
per LCU-hour (~$5.84 a month for one LCU), and one public IPv4 address per
zone at $0.005/h (~$3.65 a month each). Access logs cost only their S3
storage ($0.023 per GB-month, expiring after 90 days). Certificates from ACM,
the SSM parameter (standard tier) and alias records are free.
"""

from __future__ import annotations

from ._loadbalancer import LoadBalancer
from ._policies import access_log_policy
from ._routes import (
    MAX_CONDITION_VALUES,
    MAX_CONDITION_WILDCARDS,
    MAX_PRIORITY,
    ORIGIN_HEADER,
    RuleBook,
    app_host,
    attach_route,
    listener_rule_args,
    route_priority,
)
from ._settings import (
    CLOUDFRONT_PREFIX_LIST,
    NODE_PORTS,
    TLS_POLICY,
    LoadBalancerArgs,
    LoadBalancerSettings,
)

__all__ = [
    "CLOUDFRONT_PREFIX_LIST",
    "MAX_CONDITION_VALUES",
    "MAX_CONDITION_WILDCARDS",
    "MAX_PRIORITY",
    "NODE_PORTS",
    "ORIGIN_HEADER",
    "TLS_POLICY",
    "LoadBalancer",
    "LoadBalancerArgs",
    "LoadBalancerSettings",
    "RuleBook",
    "access_log_policy",
    "app_host",
    "attach_route",
    "listener_rule_args",
    "route_priority",
]
