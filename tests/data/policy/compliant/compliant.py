"""One compliant resource of every type paaskit's rules judge (never deployed).

Plain pulumi_aws resources with short logical names, so tests can name the
record they change: `changed(plan, "nodes-lt", "metadataOptions.httpTokens", "optional")`.
"""

import base64
import json

import pulumi
import pulumi_aws as aws

TAGS = {"team": "platform"}


def doc(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


# --- network ------------------------------------------------------------------------
vpc = aws.ec2.Vpc("vpc", cidr_block="10.0.0.0/16", tags=TAGS)
aws.ec2.DefaultSecurityGroup("default-sg", vpc_id=vpc.id, ingress=[], egress=[])
flow_group = aws.cloudwatch.LogGroup("flow-logs", retention_in_days=30)
flow_role = aws.iam.Role(
    "flow-role",
    description="VPC flow logs",
    assume_role_policy=doc(
        {
            "Effect": "Allow",
            "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
        }
    ),
)
aws.ec2.FlowLog(
    "flow-log",
    vpc_id=vpc.id,
    traffic_type="ALL",
    log_destination=flow_group.arn,
    iam_role_arn=flow_role.arn,
)
subnets = [
    aws.ec2.Subnet(
        f"subnet-{zone}",
        vpc_id=vpc.id,
        availability_zone=f"us-east-1{zone}",
        cidr_block=cidr,
        map_public_ip_on_launch=False,
    )
    for zone, cidr in (("a", "10.0.0.0/24"), ("b", "10.0.1.0/24"))
]
app_sg = aws.ec2.SecurityGroup("app-sg", vpc_id=vpc.id, description="Load balancer: HTTPS in")
aws.vpc.SecurityGroupIngressRule(
    "https-in",
    security_group_id=app_sg.id,
    cidr_ipv4="0.0.0.0/0",
    ip_protocol="tcp",
    from_port=443,
    to_port=443,
    description="HTTPS from anywhere",
)
aws.vpc.SecurityGroupEgressRule(
    "all-out",
    security_group_id=app_sg.id,
    cidr_ipv4="10.0.0.0/16",
    ip_protocol="tcp",
    from_port=32768,
    to_port=65535,
    description="to the nodes",
)

# --- nodes ----------------------------------------------------------------------------
template = aws.ec2.LaunchTemplate(
    "nodes-lt",
    image_id="ami-0123456789abcdef0",
    instance_type="t3.medium",
    metadata_options={
        "http_endpoint": "enabled",
        "http_tokens": "required",
        "http_put_response_hop_limit": 1,
    },
    network_interfaces=[
        {"device_index": 0, "associate_public_ip_address": "false", "security_groups": [app_sg.id]}
    ],
    block_device_mappings=[
        {
            "device_name": "/dev/xvda",
            "ebs": {"volume_size": 30, "volume_type": "gp3", "encrypted": "true"},
        }
    ],
    user_data=base64.b64encode(
        b"#!/bin/bash\necho ECS_CLUSTER=apps >> /etc/ecs/ecs.config\n"
    ).decode(),
)
aws.ec2.Instance(
    "box",
    ami="ami-0123456789abcdef0",
    instance_type="t4g.nano",
    subnet_id=subnets[0].id,
    metadata_options={"http_tokens": "required", "http_put_response_hop_limit": 1},
    root_block_device={"encrypted": True, "volume_size": 8},
    user_data="#!/bin/bash\necho hello\n",
)
aws.autoscaling.Group(
    "nodes",
    min_size=2,
    max_size=4,
    vpc_zone_identifiers=[s.id for s in subnets],
    mixed_instances_policy={
        "instances_distribution": {
            "on_demand_base_capacity": 1,
            "on_demand_percentage_above_base_capacity": 0,
        },
        "launch_template": {
            "launch_template_specification": {"launch_template_id": template.id},
            "overrides": [{"instance_type": "t3.medium"}, {"instance_type": "t3a.medium"}],
        },
    },
)

# --- containers -----------------------------------------------------------------------
cluster = aws.ecs.Cluster("cluster", settings=[{"name": "containerInsights", "value": "enabled"}])
task_role = aws.iam.Role(
    "task-role",
    assume_role_policy=doc(
        {
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ),
)
execution_role = aws.iam.Role(
    "execution-role",
    assume_role_policy=doc(
        {
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ),
)
# --- files ----------------------------------------------------------------------------
files = aws.efs.FileSystem("files", encrypted=True, opts=pulumi.ResourceOptions(protect=True))
aws.efs.FileSystemPolicy(
    "files-policy",
    file_system_id=files.id,
    policy=files.arn.apply(
        lambda arn: doc(
            {
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "*",
                "Resource": arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        )
    ),
)
aws.efs.BackupPolicy("files-backups", file_system_id=files.id, backup_policy={"status": "ENABLED"})
aws.efs.MountTarget("files-mount-a", file_system_id=files.id, subnet_id=subnets[0].id)
files_ap = aws.efs.AccessPoint(
    "files-ap",
    file_system_id=files.id,
    posix_user={"uid": 1000, "gid": 1000},
    root_directory={
        "path": "/web",
        "creation_info": {"owner_uid": 1000, "owner_gid": 1000, "permissions": "0755"},
    },
)

task = aws.ecs.TaskDefinition(
    "web-task",
    family="web",
    task_role_arn=task_role.arn,
    execution_role_arn=execution_role.arn,
    cpu="256",
    memory="512",
    volumes=[
        {
            "name": "uploads",
            "efs_volume_configuration": {
                "file_system_id": files.id,
                "transit_encryption": "ENABLED",
                "authorization_config": {"access_point_id": files_ap.id, "iam": "ENABLED"},
            },
        }
    ],
    container_definitions=json.dumps(
        [
            {
                "name": "web",
                "image": "public.ecr.aws/nginx/nginx:1.27",
                "memory": 256,
                "cpu": 128,
                "readonlyRootFilesystem": True,
                "environment": [{"name": "PORT", "value": "8080"}],
                "secrets": [
                    {
                        "name": "DATABASE_PASSWORD",
                        "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db",
                    }
                ],
                "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "web"}},
                "mountPoints": [{"sourceVolume": "uploads", "containerPath": "/uploads"}],
            }
        ]
    ),
)
repo = aws.ecr.Repository(
    "repo",
    image_scanning_configuration={"scan_on_push": True},
    image_tag_mutability="IMMUTABLE",
)
aws.ecr.LifecyclePolicy(
    "repo-lifecycle",
    repository=repo.name,
    policy=json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "selection": {
                        "tagStatus": "any",
                        "countType": "imageCountMoreThan",
                        "countNumber": 20,
                    },
                    "action": {"type": "expire"},
                }
            ]
        }
    ),
)

# --- load balancer --------------------------------------------------------------------
logs_bucket = aws.s3.Bucket("lb-logs")
aws.s3.BucketPublicAccessBlock(
    "lb-logs-pab",
    bucket=logs_bucket.id,
    block_public_acls=True,
    block_public_policy=True,
    ignore_public_acls=True,
    restrict_public_buckets=True,
)
aws.s3.BucketServerSideEncryptionConfiguration(
    "lb-logs-sse",
    bucket=logs_bucket.id,
    rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
)
aws.s3.BucketPolicy(
    "lb-logs-policy",
    bucket=logs_bucket.id,
    policy=logs_bucket.arn.apply(
        lambda arn: doc(
            {
                "Effect": "Allow",
                "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"{arn}/*",
            },
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [arn, f"{arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        )
    ),
)
alb = aws.lb.LoadBalancer(
    "alb",
    subnets=[s.id for s in subnets],
    security_groups=[app_sg.id],
    enable_deletion_protection=True,
    drop_invalid_header_fields=True,
    desync_mitigation_mode="defensive",
    access_logs={"bucket": logs_bucket.id, "enabled": True},
)
group = aws.lb.TargetGroup(
    "web-tg",
    port=80,
    protocol="HTTP",
    vpc_id=vpc.id,
    health_check={"enabled": True, "path": "/healthz", "matcher": "200"},
)
https = aws.lb.Listener(
    "https",
    load_balancer_arn=alb.arn,
    port=443,
    protocol="HTTPS",
    ssl_policy="ELBSecurityPolicy-TLS13-1-2-2021-06",
    certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/abc",
    default_actions=[
        {
            "type": "fixed-response",
            "fixed_response": {"content_type": "text/plain", "status_code": "404"},
        }
    ],
)
aws.lb.Listener(
    "http",
    load_balancer_arn=alb.arn,
    port=80,
    protocol="HTTP",
    default_actions=[
        {
            "type": "redirect",
            "redirect": {"protocol": "HTTPS", "port": "443", "status_code": "HTTP_301"},
        }
    ],
)
aws.lb.ListenerRule(
    "web-route",
    listener_arn=https.arn,
    priority=100,
    actions=[{"type": "forward", "target_group_arn": group.arn}],
    conditions=[{"host_header": {"values": ["web.example.com"]}}],
)
aws.ecs.Service(
    "web-service",
    cluster=cluster.arn,
    task_definition=task.arn,
    desired_count=2,
    deployment_circuit_breaker={"enable": True, "rollback": True},
    network_configuration={"subnets": [s.id for s in subnets], "assign_public_ip": False},
    load_balancers=[
        {"target_group_arn": group.arn, "container_name": "web", "container_port": 8080}
    ],
)

# --- static content -------------------------------------------------------------------
assets = aws.s3.Bucket("assets", opts=pulumi.ResourceOptions(retain_on_delete=True))
aws.s3.BucketPublicAccessBlock(
    "assets-pab",
    bucket=assets.id,
    block_public_acls=True,
    block_public_policy=True,
    ignore_public_acls=True,
    restrict_public_buckets=True,
)
aws.s3.BucketOwnershipControls(
    "assets-ownership", bucket=assets.id, rule={"object_ownership": "BucketOwnerEnforced"}
)
aws.s3.BucketServerSideEncryptionConfiguration(
    "assets-sse",
    bucket=assets.id,
    rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
)
aws.s3.BucketVersioning(
    "assets-versioning", bucket=assets.id, versioning_configuration={"status": "Enabled"}
)
oac = aws.cloudfront.OriginAccessControl(
    "oac",
    origin_access_control_origin_type="s3",
    signing_behavior="always",
    signing_protocol="sigv4",
)
headers = aws.cloudfront.ResponseHeadersPolicy(
    "headers",
    security_headers_config={
        "strict_transport_security": {"access_control_max_age_sec": 31536000, "override": True},
        "content_type_options": {"override": True},
    },
)
cdn = aws.cloudfront.Distribution(
    "cdn",
    enabled=True,
    default_root_object="index.html",
    aliases=["www.example.com"],
    origins=[
        {
            "origin_id": "assets",
            "domain_name": assets.bucket_regional_domain_name,
            "origin_access_control_id": oac.id,
        },
        {
            "origin_id": "apps",
            "domain_name": alb.dns_name,
            "custom_origin_config": {
                "http_port": 80,
                "https_port": 443,
                "origin_protocol_policy": "https-only",
                "origin_ssl_protocols": ["TLSv1.2"],
            },
        },
    ],
    default_cache_behavior={
        "target_origin_id": "assets",
        "viewer_protocol_policy": "redirect-to-https",
        "allowed_methods": ["GET", "HEAD"],
        "cached_methods": ["GET", "HEAD"],
        "cache_policy_id": "658327ea-f89d-4fab-a63d-7e88639e58f6",
        "response_headers_policy_id": headers.id,
    },
    ordered_cache_behaviors=[
        {
            "path_pattern": "/api/*",
            "target_origin_id": "apps",
            "viewer_protocol_policy": "https-only",
            "allowed_methods": ["GET", "HEAD"],
            "cached_methods": ["GET", "HEAD"],
            "cache_policy_id": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
            "response_headers_policy_id": headers.id,
        }
    ],
    restrictions={"geo_restriction": {"restriction_type": "none"}},
    viewer_certificate={
        "acm_certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/cdn",
        "minimum_protocol_version": "TLSv1.2_2021",
        "ssl_support_method": "sni-only",
    },
)
aws.s3.BucketPolicy(
    "assets-policy",
    bucket=assets.id,
    policy=pulumi.Output.all(assets.arn, cdn.arn).apply(
        lambda args: doc(
            {
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "s3:GetObject",
                "Resource": f"{args[0]}/*",
                "Condition": {"StringEquals": {"AWS:SourceArn": args[1]}},
            },
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [args[0], f"{args[0]}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        )
    ),
)

# --- database -------------------------------------------------------------------------
params = aws.rds.ParameterGroup(
    "db-params",
    family="postgres14",
    description="TLS only",
    parameters=[{"name": "rds.force_ssl", "value": "1"}],
)
aws.rds.Instance(
    "db",
    engine="postgres",
    engine_version="14.12",
    instance_class="db.t4g.micro",
    allocated_storage=20,
    username="app",
    manage_master_user_password=True,
    parameter_group_name=params.name,
    storage_encrypted=True,
    publicly_accessible=False,
    multi_az=True,
    deletion_protection=True,
    backup_retention_period=7,
    enabled_cloudwatch_logs_exports=["postgresql", "upgrade"],
    copy_tags_to_snapshot=True,
    final_snapshot_identifier="db-final",
    opts=pulumi.ResourceOptions(protect=True),
)

# --- cache ----------------------------------------------------------------------------
cache_subnets = aws.elasticache.SubnetGroup(
    "cache-subnets", subnet_ids=[s.id for s in subnets], description="private subnets"
)
aws.elasticache.ReplicationGroup(
    "cache",
    replication_group_id="sessions",
    description="sessions",
    engine="valkey",
    engine_version="8.2",
    node_type="cache.t4g.small",
    num_cache_clusters=2,
    automatic_failover_enabled=True,
    multi_az_enabled=True,
    at_rest_encryption_enabled=True,
    transit_encryption_enabled=True,
    user_group_ids=["sessions-users"],
    auto_minor_version_upgrade=True,
    snapshot_retention_limit=1,
    subnet_group_name=cache_subnets.name,
    security_group_ids=[app_sg.id],
)
aws.elasticache.Cluster(
    "memcache",
    engine="memcached",
    engine_version="1.6.22",
    node_type="cache.t4g.micro",
    num_cache_nodes=2,
    az_mode="cross-az",
    transit_encryption_enabled=True,
    subnet_group_name=cache_subnets.name,
    security_group_ids=[app_sg.id],
)

# --- identity -------------------------------------------------------------------------
aws.iam.RolePolicy(
    "task-role-policy",
    role=task_role.id,
    policy=doc(
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::assets/*"},
        {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"},
    ),
)
aws.iam.RolePolicyAttachment(
    "execution-role-ecs",
    role=execution_role.name,
    policy_arn="arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
)
aws.iam.Policy(
    "read-logs",
    policy=doc(
        {
            "Effect": "Allow",
            "Action": ["logs:GetLogEvents"],
            "Resource": "arn:aws:logs:us-east-1:123456789012:log-group:web:*",
        }
    ),
)

# --- serverless, queues, logs, keys ---------------------------------------------------
dead_letters = aws.sqs.Queue("dead-letters", message_retention_seconds=1209600)
handler_role = aws.iam.Role(
    "handler-role",
    assume_role_policy=doc(
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ),
)
handler = aws.lambda_.Function(
    "handler",
    runtime="python3.13",
    handler="index.handler",
    role=handler_role.arn,
    s3_bucket="code",
    s3_key="handler.zip",
    memory_size=256,
    timeout=60,
    dead_letter_config={"target_arn": dead_letters.arn},
)
schedule = aws.cloudwatch.EventRule("tick", schedule_expression="rate(1 minute)")
aws.cloudwatch.EventTarget("tick-handler", rule=schedule.name, arn=handler.arn)
aws.lambda_.Permission(
    "handler-invoke",
    action="lambda:InvokeFunction",
    function=handler.name,
    principal="events.amazonaws.com",
    source_arn=schedule.arn,
)
aws.cloudwatch.LogGroup("handler-logs", retention_in_days=30)
aws.kms.Key("key", enable_key_rotation=True, description="app data")
