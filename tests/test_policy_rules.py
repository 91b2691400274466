"""Every policy rule, in the style the rule sets use: a resource that passes, and one
changed property that fails it, with the exact finding.

The passing resources are the records of `tests/data/policy/compliant` (one of every
type the rules read, planned offline). Each case changes one property of one record
(`changed`) or removes one sub-resource (`without`) and asserts the rule's findings.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from paaskit.plan import Plan
from paaskit.policy import ALL_RULES, RULES_BY_ID, run_rules
from paaskit.policy.rules import RULES
from paaskit.testing import plan

COMPLIANT = Path(__file__).resolve().parent / "data" / "policy" / "compliant"
DELETE = object()
"""A value for `changed`: remove the key."""


@pytest.fixture(scope="module")
def good() -> Plan:
    return plan(COMPLIANT, stack="dev")


def _set(inputs: Any, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    target = inputs
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if isinstance(target, list):
        if value is DELETE:
            target.pop(int(last))
        else:
            target[int(last)] = value
    elif value is DELETE:
        assert last in target, f"{path}: nothing to remove"
        del target[last]
    else:
        target[last] = value


def changed(p: Plan, name: str, changes: dict[str, Any]) -> Plan:
    """The plan with some inputs of one record changed (dotted paths, list indexes as numbers)."""
    record = p.named(name)
    inputs = copy.deepcopy(record.inputs)
    for path, value in changes.items():
        _set(inputs, path, value)
    return Plan(
        p.project,
        p.stack,
        [replace(r, inputs=inputs) if r.urn == record.urn else r for r in p.resources],
        p.outputs,
    )


def without(p: Plan, name: str) -> Plan:
    """The plan without one record (a sub-resource the program forgot)."""
    gone = p.named(name).urn
    return Plan(p.project, p.stack, [r for r in p.resources if r.urn != gone], p.outputs)


def container(p: Plan, **changes: Any) -> Plan:
    """The web task with its one container changed (`None` removes a key)."""
    containers = json.loads(p.named("web-task").inputs["containerDefinitions"])
    for key, value in changes.items():
        if value is None:
            del containers[0][key]
        else:
            containers[0][key] = value
    return changed(p, "web-task", {"containerDefinitions": json.dumps(containers)})


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def findings(p: Plan, rule: str) -> list[tuple[str, str, str]]:
    return [(f.rule, f.resource, f.message) for f in run_rules(p.resources, [RULES_BY_ID[rule]])]


Case = tuple[str, Callable[[Plan], Plan], str, str]

CASES: list[Case] = [
    # network
    ("PK-NET-001", lambda p: changed(p, "default-sg", {"ingress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}]}),
     "default-sg", "the default security group has 1 ingress rule(s); give it none"),
    ("PK-NET-002", lambda p: without(p, "default-sg"),
     "vpc", "the VPC's default security group keeps AWS's rules (members talk to each other, all egress); adopt it with aws.ec2.DefaultSecurityGroup and no rules"),
    ("PK-NET-003", lambda p: changed(p, "https-in", {"fromPort": 22, "toPort": 22}),
     "https-in", "admits tcp port 22 from 0.0.0.0/0; only tcp 80 and 443 may be open to the world"),
    ("PK-NET-004", lambda p: changed(p, "app-sg", {"description": "Managed by Pulumi"}),
     "app-sg", "no description: say who uses it and why"),
    ("PK-NET-005", lambda p: without(p, "flow-log"),
     "vpc", "no flow log records this VPC's traffic (NetworkArgs.flow_logs)"),
    ("PK-NET-006", lambda p: changed(p, "subnet-a", {"mapPublicIpOnLaunch": True}),
     "subnet-a", "mapPublicIpOnLaunch is true: every instance launched here gets a public IPv4 address"),
    # nodes
    ("PK-EC2-001", lambda p: changed(p, "nodes-lt", {"metadataOptions.httpTokens": "optional"}),
     "nodes-lt", "metadataOptions.httpTokens is 'optional': IMDSv1 answers; set it to required"),
    ("PK-EC2-002", lambda p: changed(p, "nodes-lt", {"metadataOptions.httpPutResponseHopLimit": 2}),
     "nodes-lt", "metadataOptions.httpPutResponseHopLimit is 2: containers reach the node's credentials; set it to 1"),
    ("PK-EC2-003", lambda p: changed(p, "nodes-lt", {"networkInterfaces.0.associatePublicIpAddress": "true"}),
     "nodes-lt", "networkInterfaces[0].associatePublicIpAddress is true: every node gets a public IPv4 address"),
    ("PK-EC2-004", lambda p: changed(p, "nodes-lt", {"blockDeviceMappings.0.ebs.encrypted": "false"}),
     "nodes-lt", "/dev/xvda: ebs.encrypted is not true"),
    ("PK-EC2-005", lambda p: changed(p, "box", {"userData": "#!/bin/bash\nexport DB_PASSWORD=correcthorsebattery\n"}),
     "box", "user data line 2: a password or token; move it to Secrets Manager or SSM"),
    ("PK-ASG-001", lambda p: changed(p, "subnet-b", {"availabilityZone": "us-east-1a"}),
     "nodes", "the group launches into 1 zone(s); give it subnets in at least two zones"),
    ("PK-ASG-002", lambda p: changed(p, "nodes", {"launchConfiguration": "nodes-lc"}),
     "nodes", "uses a launch configuration; use a launch template"),
    ("PK-ASG-003", lambda p: changed(p, "nodes", {"mixedInstancesPolicy.launchTemplate.overrides": [{"instanceType": "t3.medium"}]}),
     "nodes", "the group may use 1 instance type; list several interchangeable types (mixedInstancesPolicy overrides)"),
    # containers
    ("PK-ECS-001", lambda p: changed(p, "cluster", {"settings.0.value": "disabled"}),
     "cluster", "containerInsights is disabled: turn it on to see per-task metrics"),
    ("PK-ECS-002", lambda p: changed(p, "web-service", {"deploymentCircuitBreaker.rollback": False}),
     "web-service", "deploymentCircuitBreaker has rollback off: a failed deploy stops but the last good revision is not restored"),
    ("PK-ECS-003", lambda p: container(p, logConfiguration=None),
     "web-task", "web: no logConfiguration.logDriver (use awslogs)"),
    ("PK-ECS-004", lambda p: container(p, privileged=True),
     "web-task", "web: privileged is true: every Linux capability and every device of the node, outside its isolation: root on the node, with every other task's files, secrets and network, and the node's role"),
    ("PK-ECS-005", lambda p: changed(p, "web-task", {"taskRoleArn": p.named("web-task").inputs["executionRoleArn"]}),
     "web-task", "taskRoleArn and executionRoleArn are the same role: give the app a role of its own"),
    ("PK-ECS-006", lambda p: container(p, environment=[{"name": "AWS_ACCESS_KEY_ID", "value": "AKIAABCDEFGHIJKLMNOP"}]),
     "web-task", "web: environment sets AWS_ACCESS_KEY_ID; use the task role"),
    ("PK-ECS-007", lambda p: container(p, environment=[{"name": "DATABASE_URL", "value": "postgres://app:pw@db:5432/app"}]),
     "web-task", "web: environment DATABASE_URL is a URL with a password in it"),
    ("PK-ECS-008", lambda p: changed(p, "web-task", {"pidMode": "host"}),
     "web-task", "pidMode is host: the task sees every process on the node"),
    ("PK-ECS-009", lambda p: changed(p, "web-service", {"networkConfiguration.assignPublicIp": True}),
     "web-service", "networkConfiguration.assignPublicIp is true: tasks are reachable from the internet"),
    ("PK-ECS-010", lambda p: container(p, readonlyRootFilesystem=False),
     "web-task", "web: root filesystem is writable"),
    ("PK-ECS-011", lambda p: changed(p, "web-task", {"volumes.0": {"name": "docker", "hostPath": "/var/run/docker.sock"}}),
     "web-task", "volume docker mounts the node's /var/run/docker.sock: the Docker daemon: it starts containers as root with the node's disks mounted, and reads every container's environment and secrets: root on the node"),
    ("PK-ECS-012", lambda p: changed(p, "web-task", {"volumes.0.efsVolumeConfiguration.transitEncryption": "DISABLED"}),
     "web-task", "volume uploads: transitEncryption is not ENABLED: NFS in the clear"),
    ("PK-ECR-001", lambda p: changed(p, "repo", {"imageScanningConfiguration.scanOnPush": False}),
     "repo", "imageScanningConfiguration.scanOnPush is off and no registry scanning configuration covers it"),
    ("PK-ECR-002", lambda p: without(p, "repo-lifecycle"),
     "repo", "no lifecycle policy: every image ever pushed is kept and billed"),
    ("PK-ECR-003", lambda p: changed(p, "repo", {"imageTagMutability": "MUTABLE"}),
     "repo", "imageTagMutability is MUTABLE: a tag can be pushed over"),
    # files
    ("PK-EFS-001", lambda p: changed(p, "files", {"encrypted": False}),
     "files", "encrypted is off: files, and their backups, are stored in the clear"),
    ("PK-EFS-002", lambda p: changed(p, "files-backups", {"backupPolicy.status": "DISABLED"}),
     "files", "automatic backups are off: a deleted or overwritten file is gone for good"),
    ("PK-EFS-003", lambda p: without(p, "files-policy"),
     "files", "no file system policy: EFS's default lets any client that reaches a mount target in, anonymously and without TLS"),
    ("PK-EFS-004", lambda p: changed(p, "files-ap", {"rootDirectory.path": "/"}),
     "files-ap", "rootDirectory.path is the file system's root: give each volume a directory of its own"),
    ("PK-EFS-005", lambda p: changed(p, "files-ap", {"posixUser": DELETE}),
     "files-ap", "no posixUser: clients act as whatever user they run as, root included"),
    ("PK-EFS-006", lambda p: changed(p, "subnet-a", {"mapPublicIpOnLaunch": True}),
     "files-mount-a", "subnet subnet-a maps public IPs on launch: put mount targets in private subnets"),
    # load balancer
    ("PK-ELB-001", lambda p: changed(p, "alb", {"enableDeletionProtection": False}),
     "alb", "enableDeletionProtection is off: a `pulumi destroy` or a replacement takes every app offline"),
    ("PK-ELB-002", lambda p: changed(p, "alb", {"accessLogs.enabled": False}),
     "alb", "accessLogs are off: no record of the requests it served"),
    ("PK-ELB-003", lambda p: changed(p, "alb", {"dropInvalidHeaderFields": False}),
     "alb", "dropInvalidHeaderFields is off: invalid header names reach the apps"),
    ("PK-ELB-004", lambda p: changed(p, "alb", {"desyncMitigationMode": "monitor"}),
     "alb", "desyncMitigationMode is 'monitor': use defensive or strictest"),
    ("PK-ELB-005", lambda p: changed(p, "http", {"defaultActions.0": {"type": "forward", "targetGroupArn": "arn:tg"}}),
     "http", "an HTTP listener whose default action does not redirect to HTTPS"),
    ("PK-ELB-006", lambda p: changed(p, "https", {"sslPolicy": "ELBSecurityPolicy-2016-08"}),
     "https", "sslPolicy ELBSecurityPolicy-2016-08 accepts TLS older than 1.2; use ELBSecurityPolicy-TLS13-1-2-2021-06"),
    ("PK-ELB-007", lambda p: changed(p, "web-tg", {"healthCheck.path": DELETE}),
     "web-tg", "healthCheck.path is not set: the default GET / passes whenever the server answers; check the app's health path"),
    ("PK-ELB-008", lambda p: changed(p, "https-in", {"cidrIpv4": DELETE, "prefixListId": "pl-3b927c52"}),
     "alb", "internet-facing, but only CloudFront may reach it: make it internal and reach it through a CloudFront VPC origin"),
    # S3
    ("PK-S3-001", lambda p: without(p, "assets-pab"),
     "assets", "no public access block: a policy or ACL written later can make the bucket public"),
    ("PK-S3-002", lambda p: changed(p, "assets", {"acl": "public-read"}),
     "assets", "acl public-read opens the bucket to the internet"),
    ("PK-S3-003", lambda p: changed(p, "assets-ownership", {"rule.objectOwnership": "ObjectWriter"}),
     "assets", "objectOwnership is ObjectWriter: ACLs are enabled; use BucketOwnerEnforced"),
    ("PK-S3-004", lambda p: without(p, "assets-sse"),
     "assets", "no encryption configuration: objects get S3's default SSE-S3; declare it to show the choice"),
    ("PK-S3-005", lambda p: changed(p, "assets-policy", {"policy": policy({"Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::assets/*"})}),
     "assets", "no policy statement denies requests without TLS (aws:SecureTransport = false)"),
    ("PK-S3-006", lambda p: without(p, "assets-versioning"),
     "assets", "the bucket holds data (protected or retained) but keeps no versions: an overwrite is final"),
    # CloudFront
    ("PK-CF-001", lambda p: changed(p, "cdn", {"defaultCacheBehavior.viewerProtocolPolicy": "allow-all"}),
     "cdn", "default behaviour: viewerProtocolPolicy is allow-all; use redirect-to-https"),
    ("PK-CF-002", lambda p: changed(p, "cdn", {"origins.0.originAccessControlId": DELETE}),
     "cdn", "origin assets: S3 origin without an origin access control; the bucket would have to be public"),
    ("PK-CF-003", lambda p: changed(p, "cdn", {"origins.0": {"originId": "assets", "domainName": "assets.s3.us-east-1.amazonaws.com", "s3OriginConfig": {"originAccessIdentity": "origin-access-identity/cloudfront/E1"}}}),
     "cdn", "origin assets: uses a legacy origin access identity; use an origin access control"),
    ("PK-CF-004", lambda p: changed(p, "cdn", {"orderedCacheBehaviors.0.responseHeadersPolicyId": DELETE}),
     "cdn", "behaviour /api/*: no response headers policy (HSTS, nosniff, frame options)"),
    ("PK-CF-005", lambda p: changed(p, "cdn", {"viewerCertificate.minimumProtocolVersion": "TLSv1_2016"}),
     "cdn", "minimumProtocolVersion is TLSv1_2016; use TLSv1.2_2021"),
    ("PK-CF-006", lambda p: changed(p, "cdn", {"viewerCertificate.sslSupportMethod": "vip"}),
     "cdn", "sslSupportMethod is vip: $600 a month for clients that predate SNI; use sni-only"),
    ("PK-CF-007", lambda p: changed(p, "cdn", {"origins.1.customOriginConfig.originProtocolPolicy": "http-only"}),
     "cdn", "origin apps: originProtocolPolicy is http-only; use https-only"),
    ("PK-CF-008", lambda p: changed(p, "cdn", {"origins.1.customOriginConfig.originSslProtocols": ["TLSv1", "TLSv1.2"]}),
     "cdn", "origin apps: originSslProtocols offers TLSv1; use TLSv1.2"),
    ("PK-CF-009", lambda p: changed(p, "cdn", {"defaultRootObject": DELETE}),
     "cdn", "the default origin is a bucket but defaultRootObject is not set (index.html)"),
    # RDS
    ("PK-RDS-001", lambda p: changed(p, "db", {"storageEncrypted": False}),
     "db", "storageEncrypted is off: data, backups and snapshots are stored in the clear; it cannot be turned on later"),
    ("PK-RDS-002", lambda p: changed(p, "db", {"publiclyAccessible": True}),
     "db", "publiclyAccessible is true: the database resolves to a public address"),
    ("PK-RDS-003", lambda p: changed(p, "db", {"multiAz": False}),
     "db", "multiAz is off: a zone or host failure is downtime until a restore"),
    ("PK-RDS-004", lambda p: changed(p, "db", {"deletionProtection": False}),
     "db", "deletionProtection is off: a destroy or a replacement deletes the database"),
    ("PK-RDS-005", lambda p: changed(p, "db", {"skipFinalSnapshot": True}),
     "db", "skipFinalSnapshot is true: deleting the database leaves nothing to restore"),
    ("PK-RDS-006", lambda p: changed(p, "db", {"backupRetentionPeriod": 0}),
     "db", "backupRetentionPeriod is 0: no automated backups, no point-in-time recovery"),
    ("PK-RDS-007", lambda p: changed(p, "db", {"backupRetentionPeriod": 3}),
     "db", "backupRetentionPeriod is 3 days; keep at least 7"),
    ("PK-RDS-008", lambda p: changed(p, "db", {"autoMinorVersionUpgrade": False}),
     "db", "autoMinorVersionUpgrade is off: security fixes wait for someone to apply them"),
    ("PK-RDS-009", lambda p: changed(p, "db", {"enabledCloudwatchLogsExports": ["upgrade"]}),
     "db", "enabledCloudwatchLogsExports does not include postgresql: engine logs stay on the instance"),
    ("PK-RDS-010", lambda p: changed(p, "db-params", {"parameters.0.value": "0"}),
     "db", "the parameter group sets rds.force_ssl = 0: clients may connect without TLS"),
    ("PK-RDS-011", lambda p: changed(p, "db", {"copyTagsToSnapshot": False}),
     "db", "copyTagsToSnapshot is off: snapshots lose the rack's tags"),
    ("PK-RDS-012", lambda p: changed(p, "db", {"manageMasterUserPassword": DELETE, "password": "[secret]"}),
     "db", "the master password is set by the program: it lives in Pulumi config and state; let RDS manage it"),
    # ElastiCache
    ("PK-CACHE-001", lambda p: changed(p, "cache", {"snapshotRetentionLimit": 0}),
     "cache", "snapshotRetentionLimit is 0: no automatic snapshots; a node failure loses the data"),
    ("PK-CACHE-002", lambda p: changed(p, "cache", {"autoMinorVersionUpgrade": False}),
     "cache", "autoMinorVersionUpgrade is off: security fixes wait for someone to apply them"),
    ("PK-CACHE-003", lambda p: changed(p, "cache", {"automaticFailoverEnabled": False}),
     "cache", "Multi-AZ but automaticFailoverEnabled is off: a failed primary stays down until someone promotes a replica"),
    ("PK-CACHE-004", lambda p: changed(p, "cache", {"numCacheClusters": 1, "multiAzEnabled": False, "automaticFailoverEnabled": False}),
     "cache", "one node: a node or zone failure loses the data since the last snapshot"),
    ("PK-CACHE-005", lambda p: changed(p, "cache", {"atRestEncryptionEnabled": False}),
     "cache", "atRestEncryptionEnabled is off: snapshots are stored in the clear; it cannot be turned on later"),
    ("PK-CACHE-006", lambda p: changed(p, "cache", {"transitEncryptionEnabled": False}),
     "cache", "transitEncryptionEnabled is off: clients connect in clear text, and AUTH is impossible"),
    ("PK-CACHE-007", lambda p: changed(p, "cache", {"userGroupIds": DELETE}),
     "cache", "no AUTH token or user group, and no app's deploy runner sets one: any process that reaches the nodes reads the data"),
    ("PK-CACHE-008", lambda p: changed(p, "memcache", {"subnetGroupName": DELETE}),
     "memcache", "no subnetGroupName: the cache goes to the default subnet group of the default VPC"),
    ("PK-CACHE-009", lambda p: changed(p, "memcache", {"transitEncryptionEnabled": False}),
     "memcache", "transitEncryptionEnabled is off: cached data crosses the VPC in clear text (Memcached 1.6.22: 1.6.12 or later has TLS)"),
    # IAM
    ("PK-IAM-001", lambda p: changed(p, "task-role-policy", {"policy": policy({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::assets/*"})}),
     "task-role-policy", "policy: a statement allows every action (\"Action\": \"*\")"),
    ("PK-IAM-002", lambda p: changed(p, "task-role", {"assumeRolePolicy": policy({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"})}),
     "task-role", "trust policy: allows sts:AssumeRole to any principal (\"*\") with no narrowing condition"),
    ("PK-IAM-003", lambda p: changed(p, "execution-role-ecs", {"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
     "execution-role-ecs", "attaches AdministratorAccess: grant the actions it needs instead"),
    ("PK-IAM-004", lambda p: changed(p, "task-role-policy", {"policy": policy({"Effect": "Allow", "Action": ["s3:*"], "Resource": "arn:aws:s3:::assets/*"})}),
     "task-role-policy", "policy: allows every action of s3:*"),
    ("PK-IAM-005", lambda p: changed(p, "read-logs", {"policy": policy({"Effect": "Allow", "Action": ["logs:GetLogEvents"], "Resource": "*"})}),
     "read-logs", "policy: logs:GetLogEvents on every resource (\"Resource\": \"*\")"),
    # serverless, queues, logs, keys
    ("PK-LAMBDA-001", lambda p: changed(p, "handler", {"runtime": "python3.8"}),
     "handler", "runtime python3.8 was deprecated on 2024-10-14: no security patches; AWS blocks new functions with it"),
    ("PK-LAMBDA-002", lambda p: changed(p, "handler", {"deadLetterConfig": DELETE}),
     "handler", "invoked asynchronously but no dead-letter queue or on-failure destination: failed events are dropped"),
    ("PK-LAMBDA-003", lambda p: changed(p, "handler-invoke", {"sourceArn": DELETE}),
     "handler-invoke", "events.amazonaws.com may invoke the function without a sourceArn: any account's events could"),
    ("PK-SQS-001", lambda p: changed(p, "dead-letters", {"sqsManagedSseEnabled": False}),
     "dead-letters", "sqsManagedSseEnabled is off and no KMS key is given: messages are stored in the clear"),
    ("PK-LOGS-001", lambda p: changed(p, "handler-logs", {"retentionInDays": DELETE}),
     "handler-logs", "retentionInDays is not set: logs are kept (and billed) forever"),
    ("PK-KMS-001", lambda p: changed(p, "key", {"enableKeyRotation": False}),
     "key", "enableKeyRotation is off"),
]  # fmt: skip


def test_every_rule_has_a_failing_case():
    assert sorted({case[0] for case in CASES}) == sorted(r.id for r in RULES)


def test_the_compliant_stack_passes_every_rule(good):
    assert [(f.rule, f.resource, f.message) for f in run_rules(good.resources, ALL_RULES)] == []


@pytest.mark.parametrize(
    ("rule", "mutate", "resource", "message"), CASES, ids=[c[0] for c in CASES]
)
def test_one_changed_property_fails_the_rule(good, rule, mutate, resource, message):
    assert findings(good, rule) == []
    assert findings(mutate(good), rule) == [(rule, resource, message)]


def test_every_rule_names_its_sources_severity_and_why():
    for rule in ALL_RULES:
        assert rule.sources, rule.id
        assert rule.severity in ("error", "warning", "info"), rule.id
        assert rule.doc, f"{rule.id}: the check needs a docstring saying why and how to fix"
        assert rule.types, rule.id
    assert len({r.id for r in ALL_RULES}) == len(ALL_RULES)


# --- behaviour the table does not show ------------------------------------------------


def test_world_open_http_and_https_pass_but_ranges_and_all_traffic_do_not(good):
    assert findings(changed(good, "https-in", {"fromPort": 80, "toPort": 80}), "PK-NET-003") == []
    wide = changed(good, "https-in", {"fromPort": 80, "toPort": 443})
    assert findings(wide, "PK-NET-003") == [
        (
            "PK-NET-003",
            "https-in",
            "admits tcp ports 80-443 from 0.0.0.0/0; only tcp 80 and 443 may be open to the world",
        )
    ]
    everything = changed(
        good,
        "https-in",
        {
            "ipProtocol": "-1",
            "fromPort": DELETE,
            "toPort": DELETE,
            "cidrIpv4": DELETE,
            "cidrIpv6": "::/0",
        },
    )
    assert findings(everything, "PK-NET-003") == [
        (
            "PK-NET-003",
            "https-in",
            "admits all traffic from ::/0; only tcp 80 and 443 may be open to the world",
        )
    ]


def test_a_nat_instance_may_have_a_public_address(good):
    nat = changed(good, "box", {"associatePublicIpAddress": True, "sourceDestCheck": False})
    assert findings(nat, "PK-EC2-003") == []
    plain = changed(good, "box", {"associatePublicIpAddress": True})
    assert findings(plain, "PK-EC2-003") == [
        (
            "PK-EC2-003",
            "box",
            "associatePublicIpAddress is true: the instance is reachable from the internet",
        )
    ]


def test_unknown_values_are_not_judged(good):
    unknown = changed(good, "nodes-lt", {"metadataOptions.httpTokens": "[unknown]"})
    assert findings(unknown, "PK-EC2-001") == []


def test_postgres_15_forces_tls_without_a_parameter_group(good):
    modern = changed(good, "db", {"engineVersion": "16.4", "parameterGroupName": DELETE})
    modern = without(modern, "db-params")
    assert findings(modern, "PK-RDS-010") == []
    old = changed(good, "db", {"engineVersion": "14.12", "parameterGroupName": DELETE})
    old = without(old, "db-params")
    assert findings(old, "PK-RDS-010") == [
        (
            "PK-RDS-010",
            "db",
            "rds.force_ssl is not set to 1 in the instance's parameter group: clients may connect without TLS",
        )
    ]


def test_log_buckets_need_no_versioning_even_when_retained(good):
    logs = good.named("lb-logs")
    retained = Plan(
        good.project,
        good.stack,
        [replace(r, retain_on_delete=True) if r.urn == logs.urn else r for r in good.resources],
    )
    assert findings(retained, "PK-S3-006") == []


def test_a_wildcard_principal_narrowed_by_a_condition_passes(good):
    narrowed = changed(
        good,
        "task-role",
        {
            "assumeRolePolicy": policy(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-123"}},
                }
            )
        },
    )
    assert findings(narrowed, "PK-IAM-002") == []


def test_a_listener_rule_forwarding_plain_http_is_caught(good):
    https = good.named("https")
    rule = good.named("web-route")
    to_http = Plan(
        good.project,
        good.stack,
        [
            replace(r, inputs={**r.inputs, "protocol": "HTTP"}) if r.urn == https.urn else r
            for r in good.resources
        ],
    )
    assert (
        "PK-ELB-005",
        rule.name,
        "forwards plain HTTP from listener https to a target; redirect to HTTPS instead",
    ) in findings(to_http, "PK-ELB-005")


def test_a_future_runtime_is_not_judged(good):
    assert findings(changed(good, "handler", {"runtime": "python3.99"}), "PK-LAMBDA-001") == []


def test_a_broken_rule_becomes_a_warning_not_a_crash(good):
    from paaskit.policy.model import Rule

    def boom(record, index):
        raise KeyError("oops")

    rule = Rule("PK-TEST-001", "test", "error", ("x",), ("aws:kms/key:Key",), boom)
    found = run_rules(good.resources, [rule])
    assert [(f.rule, f.severity, f.resource) for f in found] == [("PK-TEST-001", "error", "key")]
    assert "could not be checked (KeyError: 'oops'); a paaskit bug" in found[0].message


def test_a_load_balancer_only_cloudfront_reaches_may_listen_on_plain_http(good):
    # The origin-facing hop is PK-CF-007's to judge; viewers never reach this listener.
    forward = {"type": "forward", "targetGroupArn": "arn:tg"}
    cloudfront_only = changed(good, "https-in", {"cidrIpv4": DELETE, "prefixListId": "pl-3b927c52"})
    assert (
        findings(changed(cloudfront_only, "http", {"defaultActions.0": forward}), "PK-ELB-005")
        == []
    )


def test_an_internal_load_balancer_behind_cloudfront_passes(good):
    cloudfront_only = changed(good, "https-in", {"cidrIpv4": DELETE, "prefixListId": "pl-3b927c52"})
    assert findings(changed(cloudfront_only, "alb", {"internal": True}), "PK-ELB-008") == []


def test_http_inside_a_vpc_origin_is_not_https_to_a_custom_origin(good):
    # CloudFront reaches a VPC origin inside AWS's network: PK-CF-007 judges custom origins.
    vpc_origin = {
        "originId": "app",
        "domainName": "internal-alb-1.us-east-1.elb.amazonaws.com",
        "vpcOriginConfig": {"vpcOriginId": "vo_ABCDEFGHIJKLMNOPQRSTUV"},
    }
    assert findings(changed(good, "cdn", {"origins.1": vpc_origin}), "PK-CF-007") == []


def test_a_function_only_called_synchronously_needs_no_dead_letter_queue(good):
    alone = without(
        without(changed(good, "handler", {"deadLetterConfig": DELETE}), "tick-handler"),
        "handler-invoke",
    )
    assert findings(alone, "PK-LAMBDA-002") == []


def test_mysql_and_mariadb_must_require_tls_in_their_parameter_group(good):
    for engine in ("mysql", "mariadb"):
        mysql = changed(good, "db", {"engine": engine, "engineVersion": "8.4"})
        off = changed(
            mysql, "db-params", {"parameters.0": {"name": "require_secure_transport", "value": "0"}}
        )
        assert findings(off, "PK-RDS-010") == [
            (
                "PK-RDS-010",
                "db",
                "the parameter group sets require_secure_transport = 0: clients may connect without TLS",
            )
        ]
        on = changed(
            mysql, "db-params", {"parameters.0": {"name": "require_secure_transport", "value": "1"}}
        )
        assert findings(on, "PK-RDS-010") == []
        # PostgreSQL's parameter says nothing of MySQL's transport.
        assert findings(mysql, "PK-RDS-010") == [
            (
                "PK-RDS-010",
                "db",
                "require_secure_transport is not set to 1 in the instance's parameter group: clients may connect without TLS",
            )
        ]


def test_at_rest_encryption_left_out_is_on_for_valkey_only(good):
    valkey = changed(good, "cache", {"atRestEncryptionEnabled": DELETE})
    assert findings(valkey, "PK-CACHE-005") == []
    redis = changed(valkey, "cache", {"engine": "redis", "engineVersion": "7.1"})
    assert [f[2] for f in findings(redis, "PK-CACHE-005")] == [
        "atRestEncryptionEnabled is off: snapshots are stored in the clear; it cannot be turned on later"
    ]


def test_tls_that_still_accepts_clear_text_fails(good):
    preferred = changed(good, "cache", {"transitEncryptionMode": "preferred"})
    assert [f[2] for f in findings(preferred, "PK-CACHE-006")] == [
        "transitEncryptionMode is preferred: clear-text clients are still accepted; use required"
    ]


def test_an_apps_runner_setting_the_token_is_auth_enough(good):
    no_users = changed(good, "cache", {"userGroupIds": DELETE})
    invocation = replace(
        good.named("handler"),
        urn=good.named("handler").urn.replace(
            "aws:lambda/function:Function", "aws:lambda/invocation:Invocation"
        ),
        type="aws:lambda/invocation:Invocation",
        name="shop-cache-link",
        inputs={"input": json.dumps({"action": "link", "replicationGroup": "sessions"})},
    )
    with_runner = Plan(
        no_users.project, no_users.stack, [*no_users.resources, invocation], no_users.outputs
    )
    assert findings(with_runner, "PK-CACHE-007") == []
    elsewhere = replace(
        invocation, inputs={"input": json.dumps({"action": "link", "replicationGroup": "other"})}
    )
    other = Plan(
        no_users.project, no_users.stack, [*no_users.resources, elsewhere], no_users.outputs
    )
    assert len(findings(other, "PK-CACHE-007")) == 1


def test_in_a_preview_an_invocation_fed_by_the_group_counts_though_its_event_is_unknown(good):
    no_users = changed(good, "cache", {"userGroupIds": DELETE})
    cache = no_users.named("cache")
    invocation = replace(
        good.named("handler"),
        urn=good.named("handler").urn.replace(
            "aws:lambda/function:Function", "aws:lambda/invocation:Invocation"
        ),
        type="aws:lambda/invocation:Invocation",
        name="shop-cache-link",
        inputs={"input": "[unknown]"},
        dependencies=(cache.urn,),
    )
    preview = Plan(
        no_users.project, no_users.stack, [*no_users.resources, invocation], no_users.outputs
    )
    assert findings(preview, "PK-CACHE-007") == []
    unrelated = replace(invocation, dependencies=())
    alone = Plan(
        no_users.project, no_users.stack, [*no_users.resources, unrelated], no_users.outputs
    )
    assert len(findings(alone, "PK-CACHE-007")) == 1
