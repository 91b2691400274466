"""Pulumi type tokens of the AWS resources that the policy rules, cost estimate and diagram read.

Where pulumi-aws keeps a legacy alias (`aws:alb/...` for `aws:lb/...`, the
`V2` S3 sub-resources), both tokens are listed, so a stack written against the
old names is checked too.
"""

from __future__ import annotations

__all__ = [
    "ACCOUNT_PUBLIC_ACCESS_BLOCK",
    "ASG",
    "BUCKETS",
    "BUCKET_ACLS",
    "BUCKET_ENCRYPTION",
    "BUCKET_OBJECTS",
    "BUCKET_POLICY",
    "BUCKET_VERSIONING",
    "CACHE_CLUSTER",
    "CACHE_POLICY",
    "CACHE_REPLICATION_GROUP",
    "CACHE_SUBNET_GROUP",
    "CAPACITY_PROVIDER",
    "DB_INSTANCE",
    "DB_PARAMETER_GROUP",
    "DB_SUBNET_GROUP",
    "DEFAULT_SECURITY_GROUP",
    "DISTRIBUTION",
    "ECR_LIFECYCLE_POLICY",
    "ECR_REGISTRY_SCANNING",
    "ECR_REPOSITORY",
    "ECR_REPOSITORY_POLICY",
    "ECS_CLUSTER",
    "ECS_SERVICE",
    "EFS_ACCESS_POINT",
    "EFS_BACKUP_POLICY",
    "EFS_FILE_SYSTEM",
    "EFS_FILE_SYSTEM_POLICY",
    "EFS_MOUNT_TARGET",
    "EIP",
    "EVENT_RULE",
    "EVENT_TARGET",
    "FLOW_LOG",
    "GROUP_POLICY",
    "HOSTED_ZONE",
    "INSTANCE",
    "INSTANCE_PROFILE",
    "INTERNET_GATEWAY",
    "KMS_ALIAS",
    "KMS_KEY",
    "LAMBDA_FUNCTION",
    "LAMBDA_INVOCATION",
    "LAMBDA_INVOKE_CONFIG",
    "LAMBDA_PERMISSION",
    "LAUNCH_TEMPLATE",
    "LISTENERS",
    "LISTENER_RULES",
    "LOAD_BALANCERS",
    "LOG_DELIVERY_SOURCE",
    "LOG_GROUP",
    "NAT_GATEWAY",
    "ORIGIN_ACCESS_CONTROL",
    "ORIGIN_REQUEST_POLICY",
    "OWNERSHIP_CONTROLS",
    "POLICY",
    "POLICY_ATTACHMENTS",
    "PUBLIC_ACCESS_BLOCK",
    "QUEUE",
    "QUEUE_POLICY",
    "RESPONSE_HEADERS_POLICY",
    "ROLE",
    "ROLE_POLICY",
    "ROUTE",
    "ROUTE53_RECORD",
    "SCHEDULE",
    "SECRET",
    "SECRET_POLICY",
    "SECURITY_GROUP",
    "SG_EGRESS",
    "SG_INGRESS",
    "SG_RULE",
    "STACK_REFERENCE",
    "SUBNET",
    "TARGET_GROUPS",
    "TASK_DEFINITION",
    "TOPIC_POLICY",
    "USER_POLICY",
    "VPC",
    "VPC_ENDPOINT",
    "VPC_ORIGIN",
]

# network
VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SG_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG_EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
EIP = "aws:ec2/eip:Eip"
VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
ROUTE = "aws:ec2/route:Route"
ROUTE53_RECORD = "aws:route53/record:Record"
INTERNET_GATEWAY = "aws:ec2/internetGateway:InternetGateway"

# compute
INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ASG = "aws:autoscaling/group:Group"
ECS_CLUSTER = "aws:ecs/cluster:Cluster"
ECS_SERVICE = "aws:ecs/service:Service"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
CAPACITY_PROVIDER = "aws:ecs/capacityProvider:CapacityProvider"
ECR_REPOSITORY = "aws:ecr/repository:Repository"
ECR_LIFECYCLE_POLICY = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
ECR_REGISTRY_SCANNING = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"
ECR_REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"

# load balancing
LOAD_BALANCERS = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
LISTENERS = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
LISTENER_RULES = ("aws:lb/listenerRule:ListenerRule", "aws:alb/listenerRule:ListenerRule")
TARGET_GROUPS = ("aws:lb/targetGroup:TargetGroup", "aws:alb/targetGroup:TargetGroup")

# storage and cdn
BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ACCOUNT_PUBLIC_ACCESS_BLOCK = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
OWNERSHIP_CONTROLS = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
BUCKET_ACLS = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
BUCKET_ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
BUCKET_VERSIONING = (
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketVersioningV2:BucketVersioningV2",
)
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
BUCKET_OBJECTS = ("aws:s3/bucketObjectv2:BucketObjectv2", "aws:s3/bucketObject:BucketObject")
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
VPC_ORIGIN = "aws:cloudfront/vpcOrigin:VpcOrigin"
LOG_DELIVERY_SOURCE = "aws:cloudwatch/logDeliverySource:LogDeliverySource"
RESPONSE_HEADERS_POLICY = "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy"
CACHE_POLICY = "aws:cloudfront/cachePolicy:CachePolicy"
ORIGIN_REQUEST_POLICY = "aws:cloudfront/originRequestPolicy:OriginRequestPolicy"
ORIGIN_ACCESS_CONTROL = "aws:cloudfront/originAccessControl:OriginAccessControl"

# database
DB_INSTANCE = "aws:rds/instance:Instance"
DB_PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
DB_SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"

# cache
CACHE_REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
CACHE_CLUSTER = "aws:elasticache/cluster:Cluster"
CACHE_SUBNET_GROUP = "aws:elasticache/subnetGroup:SubnetGroup"

# identity
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
POLICY = "aws:iam/policy:Policy"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
INSTANCE_PROFILE = "aws:iam/instanceProfile:InstanceProfile"
POLICY_ATTACHMENTS = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
)

# serverless, messaging, logs, keys, secrets
LAMBDA_FUNCTION = "aws:lambda/function:Function"
LAMBDA_PERMISSION = "aws:lambda/permission:Permission"
LAMBDA_INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
LAMBDA_INVOCATION = "aws:lambda/invocation:Invocation"
QUEUE = "aws:sqs/queue:Queue"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
SCHEDULE = "aws:scheduler/schedule:Schedule"
KMS_KEY = "aws:kms/key:Key"
KMS_ALIAS = "aws:kms/alias:Alias"
SECRET = "aws:secretsmanager/secret:Secret"  # noqa: S105 - a type token, not a password
SECRET_POLICY = "aws:secretsmanager/secretPolicy:SecretPolicy"  # noqa: S105 - a type token
HOSTED_ZONE = "aws:route53/zone:Zone"

# files
EFS_FILE_SYSTEM = "aws:efs/fileSystem:FileSystem"
EFS_FILE_SYSTEM_POLICY = "aws:efs/fileSystemPolicy:FileSystemPolicy"
EFS_BACKUP_POLICY = "aws:efs/backupPolicy:BackupPolicy"
EFS_MOUNT_TARGET = "aws:efs/mountTarget:MountTarget"
EFS_ACCESS_POINT = "aws:efs/accessPoint:AccessPoint"

# other stacks
STACK_REFERENCE = "pulumi:pulumi:StackReference"
