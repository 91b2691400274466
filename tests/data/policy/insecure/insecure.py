"""A deliberately insecure stack, one mistake per rule family. Never deploy it.

Plain pulumi_aws resources, not paaskit's components: the rules read plan
records, whatever program registered them.
"""

import base64
import json

import pulumi_aws as aws

vpc = aws.ec2.Vpc("vpc", cidr_block="10.1.0.0/16")
subnet = aws.ec2.Subnet(
    "public", vpc_id=vpc.id, cidr_block="10.1.0.0/24", map_public_ip_on_launch=True
)
sg = aws.ec2.SecurityGroup("ssh", vpc_id=vpc.id, description="SSH from anywhere")
aws.vpc.SecurityGroupIngressRule(
    "ssh-world",
    security_group_id=sg.id,
    cidr_ipv4="0.0.0.0/0",
    ip_protocol="tcp",
    from_port=22,
    to_port=22,
    description="SSH",
)

aws.ec2.LaunchTemplate(
    "nodes",
    image_id="ami-0123456789abcdef0",
    instance_type="t3.small",
    metadata_options={"http_tokens": "optional", "http_put_response_hop_limit": 2},
    network_interfaces=[{"associate_public_ip_address": "true", "security_groups": [sg.id]}],
    block_device_mappings=[{"device_name": "/dev/xvda", "ebs": {"volume_size": 30}}],
    user_data=base64.b64encode(b"#!/bin/sh\nexport AWS_KEY=AKIAABCDEFGHIJKLMNOP\n").decode(),
)

bucket = aws.s3.Bucket("uploads", acl="public-read")

aws.rds.Instance(
    "db",
    engine="postgres",
    engine_version="16",
    instance_class="db.t4g.micro",
    allocated_storage=20,
    username="app",
    password="hunter2hunter2",
    publicly_accessible=True,
    storage_encrypted=False,
    backup_retention_period=0,
    skip_final_snapshot=True,
)

admin = aws.iam.Role(
    "admin",
    assume_role_policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
            ],
        }
    ),
)
aws.iam.RolePolicyAttachment(
    "admin-access", role=admin.name, policy_arn="arn:aws:iam::aws:policy/AdministratorAccess"
)
aws.iam.RolePolicy(
    "everything",
    role=admin.id,
    policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        }
    ),
)

aws.ecs.TaskDefinition(
    "web",
    family="web",
    task_role_arn=admin.arn,
    execution_role_arn=admin.arn,
    container_definitions=json.dumps(
        [
            {
                "name": "web",
                "image": "nginx",
                "memory": 256,
                "privileged": True,
                "environment": [{"name": "AWS_SECRET_ACCESS_KEY", "value": "not-a-real-key"}],
            }
        ]
    ),
)

lb = aws.lb.LoadBalancer(
    "public-load-balancer-with-a-long-name",
    name="public-load-balancer-with-a-long-name",
    subnets=[subnet.id],
    security_groups=[sg.id],
)
group = aws.lb.TargetGroup("web", port=80, protocol="HTTP", vpc_id=vpc.id)
aws.lb.Listener(
    "http",
    load_balancer_arn=lb.arn,
    port=80,
    protocol="HTTP",
    default_actions=[{"type": "forward", "target_group_arn": group.arn}],
)

aws.lambda_.Function(
    "old",
    runtime="python3.8",
    handler="index.handler",
    role=admin.arn,
    s3_bucket="example-code",
    s3_key="old.zip",
)
aws.lambda_.Permission("anyone", action="lambda:InvokeFunction", function="old", principal="*")
