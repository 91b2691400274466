"""The App component: a manifest's services, resources, releases and timers on a rack."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker
from pydantic import ValidationError

from paaskit import buildpack
from paaskit._aws import assume_role_policy, lambda_code, policy_document
from paaskit._component import Child, Component, each, named, one
from paaskit.cache import Cache, CacheArgs, CacheConnection, CacheSettings, redis_engine_for
from paaskit.config import ConfigError, Input, derive
from paaskit.database import Database, DatabaseArgs, DatabaseConnection, DatabaseSettings
from paaskit.manifest import (
    MemcachedOptions,
    MysqlOptions,
    PostgresOptions,
    RedisOptions,
    Resource,
    Service,
)
from paaskit.naming import aws_name
from paaskit.tags import APP_TAG, RACK_TAG, SERVICE_TAG, WAIVE_TAG_PREFIX
from paaskit.volume import Volume, VolumeArgs, VolumeSettings, mount_statement

from ._builds import BuildSource, plan_builds, procfile_releases
from ._checks import (
    check_definition_size,
    check_environment,
    check_fits,
    checked,
    declared_at,
    known_definition,
)
from ._command import (
    ImageCommand,
    generated_process,
    release_command,
    service_command,
    timer_command,
)
from ._edge import AppEdge, check_web_services
from ._images import (
    TAG_SEPARATOR,
    Built,
    image_owners,
    image_tag,
    relative_to_program,
    write_generated,
)
from ._internal import AppInternal
from ._pin import Pin, pin_warning, read_pin, task_definition_arn
from ._policies import exec_policy, execution_policy, run_task_policy, runner_policy
from ._settings import AppArgs
from ._volumes import container_mounts, efs_volume_keys, volume_directories

__all__ = [
    "SETTINGS_LABEL",
    "App",
    "Routing",
    "image_lifecycle_policy",
    "rotation_pattern",
]

_APP_NAME = re.compile(r"^[a-z][a-z0-9-]{0,29}[a-z0-9]$|^[a-z]$")

_RELEASE_RUNTIME = "python3.13"  # the spot handler's too; supported until 2029
_RELEASE_PACKAGE = Path(__file__).resolve().parent.parent / "release"
_LAMBDA_TIMEOUT = 900
_FAILURE_RETENTION_SECONDS = 14 * 24 * 3600
_VERIFY_TIMEOUT_SECONDS = 600
_CACHE_AUTH_TIMEOUT_SECONDS = 780
"""How long the runner waits for a cache to apply its AUTH token (ROTATE): within Lambda's
15 minutes, with time to write the link secret and report."""
"""How long the deploy check waits for a rollout that `wait_for_steady_state` left in progress."""

_MUTABLE_TAGS_REASON = (
    "Tasks run images by digest: a tag pushed again changes nothing deployed "
    "and immutable tags fail redeploys of unchanged code from another checkout"
)
"""Why the repository's tags are mutable (a tag value: letters, digits, spaces and _.:/=+-@)."""

SETTINGS_LABEL = "paaskit.settings"
"""The docker label that carries the versions of the SSM parameters a container reads: a
changed setting changes the task definition, so its services roll and no old task keeps
the old value."""


@dataclass(frozen=True)
class Routing:
    """How a web service is reached: its target group, and what must exist before its ECS service.

    ECS refuses to create a service whose target group no listener routes to, so the
    service depends on `ready` (the listener rule, or whatever routes to the group).
    """

    target_group: aws.lb.TargetGroup
    ready: list[pulumi.Resource] = field(default_factory=list)


Connection = DatabaseConnection | CacheConnection
"""How a service reaches a resource: a database (RDS) or a cache (ElastiCache)."""


@dataclass(frozen=True)
class _Link:
    """A linked resource: how to connect, and the secret holding its URL and password."""

    connection: Connection
    secret: aws.secretsmanager.Secret
    services: list[str]
    """The services that link it (their tasks read the secret)."""

    @property
    def source_secret(self) -> pulumi.Output[str] | None:
        """The secret the password comes from (a database's, RDS-managed); None for a cache,
        whose AUTH token the deploy runner generates into the link secret itself."""
        connection = self.connection
        return connection.secret_arn if isinstance(connection, DatabaseConnection) else None

    @property
    def kms_key(self) -> pulumi.Input[str] | None:
        """The customer KMS key of the source secret, if any (the link secret uses it too)."""
        connection = self.connection
        if isinstance(connection, DatabaseConnection):
            return connection.secret_kms_key_arn
        return None


class App(Component):
    """The services, resources, releases and timers of one manifest, on a rack.

    Creates: an ECR repository with a lifecycle policy (when a service is
    built); a log group; SSM parameters for the app's settings; per `postgres`,
    `mysql` or `mariadb` resource a `Database` (or the rack's shared one), per
    `redis` or `memcached` resource a `Cache`, and for each linked database and
    Valkey/Redis cache a link secret holding its URL; an execution role; per service an image, a task role, a task
    definition and an ECS service (and autoscaling); the app's claims on the
    rack and, with static files, a bucket of its own; per web service a target
    group, a CloudFront distribution with its logs, a certificate for its
    domains, a listener rule and its static files (`_edge.py`); the app's
    deploy runner (a Lambda function) with an invocation per link secret
    (writes it), per service with `release` (runs it) and per service (checks
    the deploy) and one that records the release once every check passed,
    and a rule per link secret that rewrites it when its source rotates; and a
    schedule per timer. Services start their tasks with ECS Exec on (`paaskit
    exec`); task definitions keep their old revisions registered (rollback).
    With a rollback pin (`release`), the services keep the pinned release
    (`_pin.py`).
    """

    TYPE = "paaskit:app:App"
    CHILDREN: ClassVar[Mapping[str, Child]] = {
        "repository": one(aws.ecr.Repository),
        "lifecycle_policy": one(aws.ecr.LifecyclePolicy),
        "log_group": one(aws.cloudwatch.LogGroup),
        "parameter": named(aws.ssm.Parameter),
        "database": named(Database),
        "cache": named(Cache),
        "link_secret": named(aws.secretsmanager.Secret),
        "execution_role": one(aws.iam.Role),
        "execution_role_policy": one(aws.iam.RolePolicy),
        # Internal services (`_internal.py`) and volumes (`_volumes.py`, `paaskit.volume`).
        "namespace": one(aws.servicediscovery.PrivateDnsNamespace),
        "internal_security_group": one(aws.ec2.SecurityGroup),
        "internal_security_group_ingress": each(aws.vpc.SecurityGroupIngressRule),
        "discovery": named(aws.servicediscovery.Service),
        "volume": one(Volume),
        "image": named(docker.Image),
        "task_role": named(aws.iam.Role),
        "task_role_policy": each(aws.iam.RolePolicyAttachment),
        "exec_policy": named(aws.iam.RolePolicy),
        "volume_policy": named(aws.iam.RolePolicy),
        "task_definition": named(aws.ecs.TaskDefinition),
        "release_role": one(aws.iam.Role),
        "release_log_group": one(aws.cloudwatch.LogGroup),
        "release_role_policy": one(aws.iam.RolePolicy),
        "release_function": one(aws.lambda_.Function),
        "release_failures": one(aws.sqs.Queue),
        "release_invoke_config": one(aws.lambda_.FunctionEventInvokeConfig),
        "link": named(aws.lambda_.Invocation),
        "release": named(aws.lambda_.Invocation),
        # The web services' edge (`_edge.py`).
        "claims": one(aws.lambda_.Invocation),
        "static_bucket": one(aws.s3.Bucket),
        "static_bucket_ownership": one(aws.s3.BucketOwnershipControls),
        "static_bucket_public_access": one(aws.s3.BucketPublicAccessBlock),
        "static_bucket_encryption": one(aws.s3.BucketServerSideEncryptionConfiguration),
        "static_bucket_versioning": one(aws.s3.BucketVersioning),
        "static_bucket_lifecycle": one(aws.s3.BucketLifecycleConfiguration),
        "target_group": named(aws.lb.TargetGroup),
        "certificate": named(aws.acm.Certificate),
        "validation_record": each(aws.route53.Record),
        "certificate_validation": named(aws.acm.CertificateValidation),
        "certificate_status": named(aws.acm.Certificate, tagged=False),
        "distribution": named(aws.cloudfront.Distribution),
        "log_source": named(aws.cloudwatch.LogDeliverySource),
        "log_delivery": named(aws.cloudwatch.LogDelivery),
        "dns_record": each(aws.route53.Record),
        "listener_rule": named(aws.lb.ListenerRule),
        # Untagged as they always were: S3 takes at most 10 tags on an object.
        "static_asset": named(aws.s3.BucketObjectv2, tagged=False),
        "static_bucket_policy": one(aws.s3.BucketPolicy),
        "service": named(aws.ecs.Service),
        "verify": named(aws.lambda_.Invocation),
        "record": one(aws.lambda_.Invocation),
        "link_rule": named(aws.cloudwatch.EventRule),
        "link_target": named(aws.cloudwatch.EventTarget),
        "link_permission": named(aws.lambda_.Permission),
        "scaling_target": named(aws.appautoscaling.Target),
        "scaling_policy": named(aws.appautoscaling.Policy),
        "timer_role": one(aws.iam.Role),
        "timer_role_policy": one(aws.iam.RolePolicy),
        "timer_group": one(aws.scheduler.ScheduleGroup),
        "timer": named(aws.scheduler.Schedule),
    }
    """Every child by key (the keys of `nodes` and `transform`): per service by the
    service's name (`web`), settings by variable, databases, caches, link secrets and
    their invocations and rules by resource, timers by name, static files by
    `<service>/<object key>`, scaling policies by `<service>/<metric>`."""

    def __init__(
        self, name: str, args: AppArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if not _APP_NAME.match(name):
            raise ConfigError(
                f"name: {name!r}: an app's name is part of its hosts and AWS names: 1-31 lowercase "
                "letters, digits and '-', starting with a letter"
            )
        rack_warnings = _check_manifest(args)
        check_web_services(name, args.manifest)
        # Every resource's settings are checked before anything is made, all at once.
        settings = _resource_settings(args)
        # Every build's Dockerfile and Procfile, read before anything is registered.
        self._builds: dict[str, BuildSource] = plan_builds(args.manifest, args.python_version)
        self._procfile_releases = procfile_releases(args.manifest, self._builds)
        super().__init__(name, args, opts)
        for path, message in args.manifest.warnings:
            pulumi.log.warn(f"{args.manifest.source}: {path}: {message}", resource=self)
        self._warn_builds()
        for message in rack_warnings:
            pulumi.log.warn(message, resource=self)
        self.args = args
        self.manifest = args.manifest
        self.rack = args.rack
        rack = args.rack
        # The tag contract (paaskit.tags): every resource of the app names its rack and app;
        # per-service resources add their service.
        self._tags.update({RACK_TAG: rack.name, APP_TAG: name})
        self._region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        self._account = aws.get_caller_identity_output(
            opts=pulumi.InvokeOutputOptions(parent=self)
        ).account_id
        self.pin: Pin | None = None
        """The rollback pin (`release`), read from its record at deploy time; None when the
        manifest's version deploys."""
        if args.release is not None:
            pulumi.log.warn(pin_warning(name, args.release), resource=self)
            self.pin = read_pin(self, app=name, rack=rack.name, number=args.release)
        self._deployed: dict[str, pulumi.Output[str]] = {}

        self.repository = (
            self._repository() if any(s.build for s in self.manifest.services.values()) else None
        )
        self.log_group = self.child(
            "log_group",
            aws.cloudwatch.LogGroup,
            "logs",
            name=pulumi.Output.concat("/paaskit/", pulumi.Output.from_input(rack.name), "/", name),
            retention_in_days=args.log_retention_days
            or args.manifest.app_settings.aws_logs.retention(rack.log_retention_days),
        )
        self.parameters = self._parameters()
        self.databases: dict[str, Database] = {}
        self.caches: dict[str, Cache] = {}
        self.connections = self._resources(settings)
        self.links = self._link_secrets()
        self.execution_role = self._execution_role()
        self.internal = AppInternal(self)
        """The internal services: their names inside the rack, who may connect, links' URLs."""
        self.volume = self._volume()
        """The app's EFS file system, when a service has a volume of its own."""

        self.images: dict[str, Built] = {}
        self._image_owners = image_owners(
            {s.name: self._build_identity(s) for s in self.manifest.services.values() if s.build}
        )
        self.task_roles: dict[str, aws.iam.Role] = {}
        self.task_definitions: dict[str, aws.ecs.TaskDefinition] = {}
        for service in self.manifest.services.values():
            self.images[service.name] = self._image(service)
            self.task_roles[service.name] = self._task_role(service)
            self._volume_policy(service)
            self.task_definitions[service.name] = self._task_definition(service)

        self.runner = self._runner()
        self.link_writes = self._link_writes()
        # Pinned, nothing new goes live: no release command runs (`_pin.py`).
        self.releases = self._releases() if self.pin is None else {}
        self.edge = AppEdge(self)
        """The web services' edge: claims, distributions, domains, routes, static files."""
        self.target_groups: dict[str, aws.lb.TargetGroup] = {}
        self.services: dict[str, aws.ecs.Service] = {}
        self.verifications: dict[str, aws.lambda_.Invocation] = {}
        for service in self.manifest.services.values():
            route = self.edge.web(service) if service.web else None
            routing = (
                Routing(target_group=route.target_group, ready=route.wait_for)
                if route is not None
                else None
            )
            if routing is not None:
                self.target_groups[service.name] = routing.target_group
            if route is not None:
                self.internal.served(service.name, route.url)
            self.services[service.name] = self._service(service, routing)
            self.verifications[service.name] = self._verify(service)
            if service.scale.autoscaling:
                self._autoscaling(service, routing.target_group if routing else None)
        self.record = self._record()
        """Writes the deploy's release record once every service's check passed (none while pinned)."""
        self.edge.finish()
        self._link_rotations()
        self.timers = self._timers()

        self.urls: dict[str, pulumi.Output[str]] = self.edge.urls
        """Each web service's URL: its domain once served, else its `*.cloudfront.net` name."""
        self.dns: dict[str, pulumi.Output[list[dict[str, str]]]] = self.edge.dns
        """Per web service, the DNS records its domains still need (at the domains' provider)."""
        self.register_outputs({"urls": self.urls, "dns": self.dns})

    def _warn_builds(self) -> None:
        """The buildpack's warnings, once each (services built alike share them)."""
        seen: set[str] = set()
        for service, build in self._builds.items():
            for message in build.warnings:
                if message not in seen:
                    seen.add(message)
                    pulumi.log.warn(f"services.{service}.build: {message}", resource=self)

    def app_static_paths(self, service: Service) -> list[str]:
        """Path patterns the service's own image serves static files at, for its edge to
        cache as the app says: a buildpack-built Django app's `STATIC_URL` (`/static/*`),
        whose files were collected into the image (whitenoise serves them)."""
        source = self._builds.get(service.name)
        path = source.app_static_path if source is not None else None
        return [] if path is None else [f"{path}*"]

    def _trust(self, service: str) -> pulumi.Output[str]:
        """The trust policy of a role that the AWS service `service` assumes for this account only."""
        return self._account.apply(
            lambda account: assume_role_policy(service, source_account=account, sort_keys=True)
        )

    # --- the app's own resources ---------------------------------------------------

    def _repository(self) -> aws.ecr.Repository:
        repository = self.child(
            "repository",
            aws.ecr.Repository,
            "images",
            # A tag names the content (`<service>.<digest>`, see _images.py) and tasks run an
            # image by its digest, so pushing a tag again (another checkout, another machine)
            # must succeed, and can never change what a task definition runs.
            image_tag_mutability="MUTABLE",
            tags={"paaskit:waive:PK-ECR-003": _MUTABLE_TAGS_REASON},
            image_scanning_configuration={"scan_on_push": True},
            encryption_configurations=[{"encryption_type": "AES256"}],
            force_delete=self.args.throwaway,
        )
        built = [s.name for s in self.manifest.services.values() if s.build]
        self.child(
            "lifecycle_policy",
            aws.ecr.LifecyclePolicy,
            "images-lifecycle",
            repository=repository.name,
            policy=image_lifecycle_policy(built, self.args.image_history),
        )
        return repository

    def _parameters(self) -> dict[str, aws.ssm.Parameter]:
        """An SSM SecureString per setting given in `environment`: secrets, and overridden defaults."""
        made = {}
        for key in sorted(self.args.environment):
            made[key] = self.child(
                "parameter",
                aws.ssm.Parameter,
                f"env-{key.lower().replace('_', '-')}",
                at=key,
                name=pulumi.Output.concat(
                    "/paaskit/",
                    pulumi.Output.from_input(self.rack.name),
                    "/",
                    self.component_name,
                    "/",
                    key,
                ),
                type="SecureString",
                value=pulumi.Output.secret(self.args.environment[key]),
                description=f"paaskit app {self.component_name}: {key}",
            )
        return made

    def _resources(
        self, settings: Mapping[str, DatabaseSettings | CacheSettings | None]
    ) -> dict[str, Connection]:
        """A connection per resource: the app's own database or cache, or the rack's shared
        database (`settings` None)."""
        connections: dict[str, Connection] = {}
        for res_name in sorted(self.manifest.resources):
            wanted = settings[res_name]
            if wanted is None:
                connections[res_name] = self._shared_database(res_name)
            elif isinstance(wanted, CacheSettings):
                cache = self.child(
                    "cache",
                    Cache,
                    f"cache-{res_name}",
                    at=res_name,
                    args=CacheArgs.from_settings(
                        wanted,
                        vpc_id=self.rack.vpc_id,
                        subnet_ids=self.rack.private_subnet_ids,  # type: ignore[arg-type]
                        allowed_security_group_ids=[self.rack.node_security_group_id],
                    ),
                )
                self.caches[res_name] = cache
                connections[res_name] = cache.connection()
            else:
                db = self.child(
                    "database",
                    Database,
                    f"db-{res_name}",
                    at=res_name,
                    args=self._database_args(wanted),
                )
                self.databases[res_name] = db
                connections[res_name] = db.connection()
        return connections

    def _shared_database(self, res_name: str) -> DatabaseConnection:
        shared = self.rack.database
        if shared is None:
            raise ConfigError(
                f"resources.{res_name}.options.shared: the rack has no shared database "
                "(set database: true on the rack), or drop shared"
            )
        return DatabaseConnection(
            host=pulumi.Output.from_input(shared.host).apply(_require_shared(res_name)),
            port=pulumi.Output.from_input(shared.port),
            database=shared.name,  # type: ignore[arg-type]
            username=shared.username,  # type: ignore[arg-type]
            secret_arn=pulumi.Output.from_input(shared.secret_arn),
            secret_kms_key_arn=shared.secret_kms_key_arn,
        )

    def _database_args(self, settings: DatabaseSettings) -> DatabaseArgs:
        return DatabaseArgs.from_settings(
            settings,
            vpc_id=self.rack.vpc_id,
            subnet_ids=self.rack.private_subnet_ids,  # type: ignore[arg-type]
            allowed_security_group_ids=[self.rack.node_security_group_id],
        )

    def _link_secrets(self) -> dict[str, _Link]:
        """Per linked resource, a secret for its URL and password, written by the deploy runner.

        Pulumi never sets its value, so the password is in no input, state or task
        definition; tasks get `<NAME>_URL` and `<NAME>_PASS` from it as ECS secrets (any
        image, any ENTRYPOINT). It is encrypted with the source secret's key, if that is a
        customer key: it holds the same password.
        """
        users: dict[str, list[str]] = {}
        for service in self.manifest.services.values():
            for link in service.resources:
                users.setdefault(link.resource, []).append(service.name)
        links = {}
        for res_name in sorted(users):
            connection = self.connections[res_name]
            if isinstance(connection, CacheConnection) and not connection.authenticated:
                continue  # Memcached has no password: its URL is plain environment
            kms_key = (
                connection.secret_kms_key_arn
                if isinstance(connection, DatabaseConnection)
                else None
            )
            source = (
                "the database's secret"
                if isinstance(connection, DatabaseConnection)
                else "the AUTH token it sets on the cache"
            )
            secret = self.child(
                "link_secret",
                aws.secretsmanager.Secret,
                f"{res_name}-url",
                at=res_name,
                description=(
                    f"paaskit app {self.component_name}: how its services connect to {res_name} "
                    f"(url, password...), written by its deploy runner from {source}"
                ),
                kms_key_id=kms_key,
                # Derived data, rewritten from its source on every deploy: nothing to recover.
                recovery_window_in_days=0,
            )
            links[res_name] = _Link(connection, secret, users[res_name])
        return links

    def _kms_keys(self) -> pulumi.Output[list[Any]]:
        """The customer KMS keys of the linked resources' secrets (None where AWS's own key)."""
        return pulumi.Output.all(*(link.kms_key for link in self.links.values()))

    def _execution_role(self) -> aws.iam.Role:
        """Pull this app's images, write its logs, read its own settings and link secrets: nothing else."""
        role = self.child(
            "execution_role",
            aws.iam.Role,
            "execution-role",
            assume_role_policy=self._trust("ecs-tasks.amazonaws.com"),
            description=f"paaskit app {self.component_name}: ECS pulls images, writes logs, reads settings",
        )
        repository_arn = self.repository.arn if self.repository is not None else None
        parameter_arns = [p.arn for p in self.parameters.values()]
        secret_arns = [link.secret.arn for link in self.links.values()]
        self.child(
            "execution_role_policy",
            aws.iam.RolePolicy,
            "execution-policy",
            role=role.id,
            policy=pulumi.Output.all(
                repository_arn,
                self.log_group.arn,
                pulumi.Output.all(*parameter_arns),
                pulumi.Output.all(*secret_arns),
                self._kms_keys(),
            ).apply(lambda v: execution_policy(v[0], v[1], v[2], v[3], v[4])),
        )
        return role

    # --- per service ---------------------------------------------------------------

    def _build_identity(self, service: Service) -> tuple[Any, ...]:
        """What a service's build reads, as written: equal for builds that make one image."""
        assert service.build is not None
        context = ((self.manifest.root or Path.cwd()) / service.build.path).resolve()
        build = (str(context), service.build.manifest, service.build.args)
        if (context / service.build.manifest).is_file():
            return build
        # A generated Dockerfile bakes the service's process (its CMD) and port in.
        return (
            *build,
            generated_process(service, context),
            service.port.port if service.port else None,
        )

    def _image(self, service: Service) -> Built:
        if service.image is not None:
            # What a prebuilt image runs is unknown offline, and needs not be known:
            # paaskit sets only the command, never the entry point.
            return Built(image=service.image, command=ImageCommand())
        assert service.build is not None
        assert self.repository is not None
        source = self._builds[service.name]
        context, text = source.context, source.text
        if source.generated:
            # Outside the app, at a path named by its content: the same on every machine.
            dockerfile_path = write_generated(text)
            dockerfile_input = str(dockerfile_path)
        else:
            dockerfile_path = source.dockerfile
            dockerfile_input = relative_to_program(source.dockerfile)
        owner = self._image_owners[service.name]
        if owner != service.name:
            # An identical build: run the image the first such service made (one build, one push).
            return Built(image=self.images[owner].image, command=ImageCommand.of_dockerfile(text))
        build_args = {a.name: a.value for a in service.build.args if a.value is not None}
        tag = pulumi.Output.from_input(self.rack.docker_platform).apply(
            lambda platform: image_tag(service.name, context, dockerfile_path, build_args, platform)
        )
        registry = aws.ecr.get_authorization_token_output(
            registry_id=self.repository.registry_id, opts=pulumi.InvokeOutputOptions(parent=self)
        )
        image = self.child(
            "image",
            docker.Image,
            f"{service.name}-image",
            at=service.name,
            image_name=pulumi.Output.concat(self.repository.repository_url, ":", tag),
            build={
                # Relative to the program's directory, where pulumi-docker resolves them: an
                # absolute path would differ between checkouts and rebuild unchanged code.
                "context": relative_to_program(context),
                "dockerfile": dockerfile_input,
                "platform": self.rack.docker_platform,
                "args": build_args or None,
            },
            registry={
                "server": self.repository.repository_url,
                "username": registry.user_name,
                "password": pulumi.Output.secret(registry.password),
            },
        )
        return Built(image=image.repo_digest, command=ImageCommand.of_dockerfile(text))

    def _task_role(self, service: Service) -> aws.iam.Role:
        role = self.child(
            "task_role",
            aws.iam.Role,
            f"{service.name}-task-role",
            at=service.name,
            tags={SERVICE_TAG: service.name},
            assume_role_policy=self._trust("ecs-tasks.amazonaws.com"),
            description=f"paaskit app {self.component_name}, service {service.name}: what its code may do",
        )
        for i, policy in enumerate(service.policies):
            self.child(
                "task_role_policy",
                aws.iam.RolePolicyAttachment,
                f"{service.name}-task-policy-{i}",
                role=role.name,
                policy_arn=policy,
            )
        # ECS Exec (`paaskit exec`): the SSM agent ECS runs in each task opens the session's
        # channels as the task role. Nothing else: who may open a session is the caller's
        # ecs:ExecuteCommand.
        self.child(
            "exec_policy",
            aws.iam.RolePolicy,
            f"{service.name}-exec-policy",
            at=service.name,
            role=role.id,
            policy=exec_policy(),
        )
        return role

    def _volume(self) -> Volume | None:
        """The app's EFS file system and an access point per volume, if any service has one."""
        directories = volume_directories(self.manifest)
        if not directories:
            return None
        settings = derive(
            VolumeSettings,
            self.args.volumes,
            throwaway=self.args.throwaway or self.args.volumes.throwaway,
            tags={**self.args.tags, **self.args.volumes.tags},
        )
        subnets = self.rack.private_subnet_ids
        return self.child(
            "volume",
            Volume,
            "volumes",
            args=VolumeArgs.from_settings(
                settings,
                vpc_id=self.rack.vpc_id,
                subnet_ids=list(subnets) if isinstance(subnets, (list, tuple)) else subnets,  # type: ignore[arg-type]
                allowed_security_group_ids=[self.rack.node_security_group_id],
                directories=directories,
                # A service's own volume belongs to the service (the tag contract).
                volume_tags={
                    key: {SERVICE_TAG: uses[0][0]}
                    for key, uses in efs_volume_keys(self.manifest).items()
                    if uses[0][1].kind == "service"
                },
            ),
        )

    def _volume_policy(self, service: Service) -> None:
        """Let the service's task role mount its volumes, through their access points only."""
        if self.volume is None:
            return
        uses = {
            key: [v for name, v in entries if name == service.name]
            for key, entries in efs_volume_keys(self.manifest).items()
        }
        writable = sorted(k for k, vs in uses.items() if vs and any(not v.read_only for v in vs))
        readable = sorted(k for k, vs in uses.items() if vs and all(v.read_only for v in vs))
        if not writable and not readable:
            return
        volume = self.volume
        points = volume.access_points

        def document(v: list[Any]) -> str:
            arn, write_arns, read_arns = v[0], list(v[1]), list(v[2])
            statements = []
            if write_arns:
                statements.append(mount_statement(arn, write_arns, write=True))
            if read_arns:
                statements.append(mount_statement(arn, read_arns, write=False))
            return policy_document(statements, sort_keys=True)

        self.child(
            "volume_policy",
            aws.iam.RolePolicy,
            f"{service.name}-volumes",
            at=service.name,
            role=self.task_roles[service.name].id,
            policy=pulumi.Output.all(
                volume.file_system_arn,
                pulumi.Output.all(*(points[k].arn for k in writable)),
                pulumi.Output.all(*(points[k].arn for k in readable)),
            ).apply(document),
        )

    def _environment(
        self, service: Service
    ) -> tuple[pulumi.Output[Any], pulumi.Output[Any], pulumi.Output[str]]:
        """(environment, secrets, settings label) of a service's container.

        The label is a digest of the versions of the SSM parameters the service reads:
        SSM bumps a parameter's version on every change of its value.
        """
        declared = self.manifest.service_environment(service.name)
        # PORT is the service's port (a setting may equal it, and is checked to), so a
        # setting never reaches a process with a port as a second PORT.
        read = [k for k in declared.passed(self.parameters) if k != "PORT" or service.port is None]
        environment: dict[str, Input] = {
            k: v for k, v in declared.defaults.items() if k not in self.parameters
        }
        # PORT, and for the buildpack's Python apps WEB_CONCURRENCY from the task's size, as
        # Heroku sets it: a manifest's or a setting's WEB_CONCURRENCY stands.
        source = self._builds.get(service.name)
        try:
            runtime = buildpack.process_environment(
                port=service.port.port if service.port else None,
                memory_mib=service.scale.memory if source and source.generated else None,
                cpu_units=service.scale.cpu,
                declared=declared.variables,
                key=declared_at(self.manifest, service.name, "PORT"),
            )
        except buildpack.BuildpackError as exc:
            raise ConfigError(str(exc)) from None
        if "WEB_CONCURRENCY" in read:
            runtime.pop("WEB_CONCURRENCY", None)
        environment.update(runtime)
        # paaskit's own: check_environment refuses them anywhere else.
        environment.update(
            {
                "APP": self.component_name,
                "SERVICE": service.name,
                "RACK": self.rack.name,  # type: ignore[dict-item]
            }
        )
        env_parts: list[Any] = [
            self._port_setting_check(service),
            pulumi.Output.all(
                *[pulumi.Output.all(k, v) for k, v in sorted(environment.items())]
            ).apply(lambda pairs: [{"name": str(k), "value": str(v)} for k, v in pairs]),
        ]
        secret_parts: list[Any] = [
            pulumi.Output.all(
                *[pulumi.Output.all(key, self.parameters[key].arn) for key in read]
            ).apply(lambda pairs: [{"name": n, "valueFrom": v} for n, v in pairs])
        ]
        for link in service.resources:
            prefix = link.env_prefix
            connection = self.connections[link.resource]
            if isinstance(connection, CacheConnection):
                env_parts.append(connection.environment(prefix, link.url_env))
            else:
                env_parts.append(connection.environment(prefix))
            if link.resource in self.links:
                libpq = (
                    isinstance(connection, DatabaseConnection) and connection.engine == "postgres"
                )
                secret_parts.append(
                    self.links[link.resource].secret.arn.apply(
                        lambda arn, p=prefix, u=link.url_env, pg=libpq: _link_entries(  # type: ignore[misc]
                            arn, p, u, libpq=pg
                        )
                    )
                )
        plain = pulumi.Output.all(*env_parts).apply(_merge_entries)
        secrets = pulumi.Output.all(*secret_parts).apply(_merge_entries)
        links = self.internal.link_environment(service)
        if links:
            # `links`: another service's URL, unless the manifest, a setting or a resource
            # already gives that name.
            plain = pulumi.Output.all(plain, secrets, pulumi.Output.all(*links)).apply(
                lambda v: _merge_entries([v[0], _not_named(v[2], [*v[0], *v[1]])])
            )
        label = pulumi.Output.all(
            *[pulumi.Output.all(key, self.parameters[key].version) for key in sorted(read)]
        ).apply(_settings_digest)
        return plain, secrets, label

    def _port_setting_check(self, service: Service) -> pulumi.Output[list[Any]]:
        """No entries: a check that the app's `PORT` setting, when one reaches a service with
        a port, equals the port (a plain value was checked before anything; a secret is
        read here, unsecret, never shown)."""
        value = self.args.environment.get("PORT")
        passed = "PORT" in self.manifest.service_environment(service.name).passed(self.parameters)
        if service.port is None or value is None or isinstance(value, str) or not passed:
            return pulumi.Output.from_input([])
        port = service.port.port

        def check(given: Any) -> list[Any]:
            if str(given).strip() != str(port):
                raise ConfigError(
                    f"environment: PORT, the app's setting, differs from services.{service.name}"
                    f".port ({port}): the load balancer sends traffic to {port}, and paaskit sets "
                    f"PORT={port} for the process; remove the setting or make the two equal"
                )
            return []

        return pulumi.Output.unsecret(pulumi.Output.from_input(value)).apply(check)

    def _task_definition(self, service: Service) -> aws.ecs.TaskDefinition:
        built = self.images[service.name]
        environment, secrets, settings = self._environment(service)
        # The command only: the image's ENTRYPOINT always runs (see _command.py).
        source = self._builds.get(service.name)
        command = service_command(service, source.procfile_command if source else None)
        internal = self.internal.is_internal(service)
        port_mappings: list[dict[str, Any]] = []
        if internal:
            # awsvpc: the task's own address, on the ports it declares (`_internal.py`).
            port_mappings += [
                {"containerPort": p.port, "protocol": p.protocol} for p in service.internal_ports
            ]
        elif service.port is not None:
            # Bridge networking, dynamic host port: many tasks of a service share a node.
            port_mappings.append(
                {"containerPort": service.port.port, "hostPort": 0, "protocol": "tcp"}
            )
        for agent_port in service.host_ports:
            port_mappings.append(
                {
                    "containerPort": agent_port.port,
                    "hostPort": agent_port.port,
                    "protocol": agent_port.protocol,
                }
            )
        volume = self.volume
        access_points: pulumi.Output[dict[str, str]] = pulumi.Output.from_input({})
        file_system: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        if volume is not None and any(v.kind != "host" for v in service.volumes):
            keys = sorted({v.key(service.name) for v in service.volumes if v.kind != "host"})
            access_points = pulumi.Output.all(
                **{k: volume.access_points[k].id for k in keys}
            ).apply(dict)
            file_system = volume.file_system_id
        mounts = pulumi.Output.all(file_system, access_points).apply(
            lambda v: container_mounts(service, v[0], v[1])
        )

        def container(values: list[Any]) -> str:
            image, env, secret_values, log_group, region, settings_digest, mount_points = values
            definition: dict[str, Any] = {
                "name": service.name,
                "image": image,
                "essential": True,
                "cpu": service.scale.cpu,
                "memory": service.scale.memory,
                "environment": env,
                "secrets": secret_values,
                "portMappings": port_mappings,
                "privileged": service.privileged,
                "readonlyRootFilesystem": False,
                "stopTimeout": service.termination.grace,
                "linuxParameters": {"initProcessEnabled": service.init},
                "ulimits": [{"name": "nofile", "softLimit": 65536, "hardLimit": 65536}],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": log_group,
                        "awslogs-region": region,
                        "awslogs-stream-prefix": service.name,
                        # A slow CloudWatch must never block the app's stdout.
                        "mode": "non-blocking",
                        "max-buffer-size": "25m",
                    },
                },
            }
            # The manifest's labels (Convox Gen1's, or a monitoring agent's), and paaskit's
            # digest of the settings the container reads, which a user label cannot replace.
            labels = dict(self.manifest.service_labels(service.name))
            if settings_digest:
                labels[SETTINGS_LABEL] = settings_digest
            if labels:
                definition["dockerLabels"] = labels
            if command is not None:
                definition["command"] = list(command)
            if mount_points:
                definition["mountPoints"] = mount_points
            return json.dumps([definition], sort_keys=True)

        tags = {SERVICE_TAG: service.name}
        if service.privileged:
            # An agent the manifest runs privileged: the policy check reports what that grants.
            tags[f"{WAIVE_TAG_PREFIX}PK-ECS-004"] = (
                f"services.{service.name}.privileged in the manifest: an agent that reads its node"
            )
        return self.child(
            "task_definition",
            aws.ecs.TaskDefinition,
            f"{service.name}-task",
            at=service.name,
            tags=tags,
            family=pulumi.Output.from_input(self.rack.name).apply(
                lambda rack: aws_name("ecs_family", rack, self.component_name, service.name)
            ),
            network_mode="awsvpc" if internal else "bridge",
            requires_compatibilities=["EC2"],
            execution_role_arn=self.execution_role.arn,
            task_role_arn=self.task_roles[service.name].arn,
            volumes=mounts.apply(lambda m: m[0] or None),
            container_definitions=checked(
                service,
                pulumi.Output.all(
                    built.image,
                    environment,
                    secrets,
                    self.log_group.name,
                    self._region,
                    settings,
                    mounts.apply(lambda m: m[1]),
                ).apply(container),
                self.rack.nodes,
                lambda message: pulumi.log.warn(message, resource=self),
            ),
            # A replaced revision stays registered (ACTIVE), so a rollback can put it back
            # as it was; `pulumi destroy` leaves them too (free; docs/app.md says how to
            # remove them).
            skip_destroy=True,
            # A task mounts its volumes with the task role's grant: it must be in place.
            opts=pulumi.ResourceOptions(
                depends_on=[self.nodes["volume_policy"][service.name]]
                if service.name in self.nodes["volume_policy"]
                else None
            ),
        )

    def _service(self, service: Service, routing: Routing | None) -> aws.ecs.Service:
        daemon = service.agent.enabled
        kwargs: dict[str, Any] = {
            "cluster": self.rack.cluster_arn,
            # The new task definition, or the pinned release's revision.
            "task_definition": self._running_task_definition(service.name),
            "deployment_circuit_breaker": {"enable": True, "rollback": True},
            "deployment_minimum_healthy_percent": service.deployment.minimum,
            "deployment_maximum_percent": service.deployment.maximum,
            "enable_ecs_managed_tags": True,
            "propagate_tags": "SERVICE",
            # `paaskit exec`: tasks start with ECS's SSM agent (the task role may open its
            # channels; the rack's nodes reach ssmmessages through NAT or its endpoint).
            "enable_execute_command": True,
            # pulumi up waits for the new version to be healthy; the deploy check
            # (`verify`) then makes sure it was not rolled back meanwhile.
            "wait_for_steady_state": True,
        }
        kwargs.update(self.internal.service_arguments(service))
        ignore: list[str] = []
        if daemon:
            # A daemon runs one task per node; ECS allows no capacity provider for it.
            kwargs.update(scheduling_strategy="DAEMON", launch_type="EC2")
        else:
            kwargs.update(
                scheduling_strategy="REPLICA",
                desired_count=1 if service.singleton else service.scale.min,
                capacity_provider_strategies=[
                    {"capacity_provider": self.rack.capacity_provider, "weight": 1, "base": 0}
                ],
                ordered_placement_strategies=[
                    {"type": "spread", "field": "attribute:ecs.availability-zone"},
                    {"type": "spread", "field": "instanceId"},
                ],
            )
            if service.scale.autoscaling:
                ignore.append("desiredCount")  # the scaling policies own it
        waits: list[pulumi.Resource] = [
            *self.releases.values(),
            # (a Memcached link has no secret to write: its URL is in the task definition)
            *(
                self.link_writes[link.resource]
                for link in service.resources
                if link.resource in self.link_writes
            ),
        ]
        if routing is not None and service.port is not None:
            kwargs["load_balancers"] = [
                {
                    "target_group_arn": routing.target_group.arn,
                    "container_name": service.name,
                    "container_port": service.port.port,
                }
            ]
            kwargs["health_check_grace_period_seconds"] = service.health.grace
            waits += routing.ready
        return self.child(
            "service",
            aws.ecs.Service,
            service.name,
            at=service.name,
            tags={SERVICE_TAG: service.name},
            opts=pulumi.ResourceOptions(depends_on=waits, ignore_changes=ignore or None),
            **kwargs,
        )

    def _verify(self, service: Service) -> aws.lambda_.Invocation:
        """Check, after the service's update, that its new task definition is what runs.

        `wait_for_steady_state` also returns once the circuit breaker rolled a failed
        deploy back (terraform-provider-aws#20858): the runner fails `pulumi up` then,
        with the rollout's state, the service's events and why its tasks stopped.
        """
        ecs_service = self.services[service.name]
        event = pulumi.Output.all(
            self.rack.cluster_arn, ecs_service.name, self._running_task_definition(service.name)
        ).apply(
            lambda v: json.dumps(
                {
                    "action": "verify",
                    "cluster": v[0],
                    "service": v[1],
                    "taskDefinition": v[2],
                    "timeoutSeconds": _VERIFY_TIMEOUT_SECONDS,
                },
                sort_keys=True,
            )
        )
        return self.child(
            "verify",
            aws.lambda_.Invocation,
            f"{service.name}-verify",
            at=service.name,
            function_name=self.runner.name,
            # A new task definition is a new deploy to check.
            input=event,
            opts=pulumi.ResourceOptions(depends_on=[ecs_service]),
        )

    def _running_task_definition(self, name: str) -> pulumi.Output[str]:
        """The ARN of the task definition service `name` runs after this deploy: its new one,
        or, while pinned, the pinned release's revision (a service the release does not
        name, added since, runs its new one, and the App says so once)."""
        if name in self._deployed:
            return self._deployed[name]
        new = self.task_definitions[name].arn
        if self.pin is None:
            self._deployed[name] = new
            return new
        number = self.pin.number

        def pinned(values: list[Any]) -> Any:
            release, cluster = values
            revision = release.services.get(name)
            if revision is None:
                pulumi.log.warn(
                    f"service {name} is not in release v{number}: it runs the manifest's version",
                    resource=self,
                )
                return new
            return task_definition_arn(cluster, revision.task_definition)

        running = pulumi.Output.all(self.pin.release, self.rack.cluster_arn).apply(pinned)
        self._deployed[name] = running
        return running

    def _record(self) -> aws.lambda_.Invocation | None:
        """Record the deploy's release once every service's check passed (`recorder.py`).

        Re-invoked when what a record holds changes: a task definition, an image, a
        release's result. Pinned, nothing new goes live and nothing is recorded.
        """
        if self.pin is not None:
            return None
        entries = []
        for name in self.manifest.services:
            release = self.releases.get(name)
            # The release command as the invocation ran it, and what it returned.
            ran = (
                pulumi.Output.all(release.input, release.result).apply(
                    lambda v: {"command": json.loads(v[0])["command"], "result": v[1]}
                )
                if release is not None
                else None
            )
            entries.append(
                pulumi.Output.all(
                    name, self.task_definitions[name].arn, self.images[name].image, ran
                )
            )
        app = self.component_name

        def event(values: list[Any]) -> str:
            services = {}
            for name, task_definition, image, ran in values[1:]:
                entry: dict[str, Any] = {"taskDefinition": task_definition, "image": image}
                if ran is not None:
                    entry["release"] = ran
                services[name] = entry
            return json.dumps(
                {"action": "record", "rack": values[0], "app": app, "services": services},
                sort_keys=True,
            )

        return self.child(
            "record",
            aws.lambda_.Invocation,
            "record",
            function_name=self.runner.name,
            input=pulumi.Output.all(self.rack.name, *entries).apply(event),
            opts=pulumi.ResourceOptions(depends_on=list(self.verifications.values())),
        )

    def _autoscaling(self, service: Service, target_group: aws.lb.TargetGroup | None) -> None:
        scale = service.scale
        ecs_service = self.services[service.name]
        target = self.child(
            "scaling_target",
            aws.appautoscaling.Target,
            f"{service.name}-scaling",
            at=service.name,
            tags={SERVICE_TAG: service.name},
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=pulumi.Output.all(self.rack.cluster_name, ecs_service.name).apply(
                lambda v: f"service/{v[0]}/{v[1]}"
            ),
            min_capacity=scale.min,
            max_capacity=scale.max,
        )
        cooldown = scale.cooldown
        metrics: list[tuple[str, int, dict[str, Any]]] = []
        if scale.targets.cpu:
            metrics.append(
                (
                    "cpu",
                    scale.targets.cpu,
                    {"predefined_metric_type": "ECSServiceAverageCPUUtilization"},
                )
            )
        if scale.targets.memory:
            metrics.append(
                (
                    "memory",
                    scale.targets.memory,
                    {"predefined_metric_type": "ECSServiceAverageMemoryUtilization"},
                )
            )
        if scale.targets.requests and target_group is not None:
            label = pulumi.Output.all(
                self.rack.edge.load_balancer_arn_suffix, target_group.arn_suffix
            ).apply(lambda v: f"{v[0]}/{v[1]}")
            metrics.append(
                (
                    "requests",
                    scale.targets.requests,
                    {"predefined_metric_type": "ALBRequestCountPerTarget", "resource_label": label},
                )
            )
        for metric, value, spec in metrics:
            config: dict[str, Any] = {
                "target_value": value,
                "predefined_metric_specification": spec,
            }
            if cooldown is not None:
                config.update(scale_in_cooldown=cooldown.down, scale_out_cooldown=cooldown.up)
            self.child(
                "scaling_policy",
                aws.appautoscaling.Policy,
                f"{service.name}-scale-on-{metric}",
                at=f"{service.name}/{metric}",
                policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace,
                scalable_dimension=target.scalable_dimension,
                resource_id=target.resource_id,
                target_tracking_scaling_policy_configuration=config,
            )

    # --- the deploy runner: links, releases, checks, timers ----------------------------

    def _runner(self) -> aws.lambda_.Function:
        """The app's deploy runner (`paaskit/release`): writes link secrets, runs releases and
        checks deploys when `pulumi up` invokes it, rewrites link secrets on rotation."""
        role = self.child(
            "release_role",
            aws.iam.Role,
            "release-role",
            assume_role_policy=self._trust("lambda.amazonaws.com"),
            description=f"paaskit app {self.component_name}: its deploy runner (releases, links, checks)",
        )
        log_group = self.child(
            "release_log_group",
            aws.cloudwatch.LogGroup,
            "release-logs",
            name=pulumi.Output.concat(
                "/aws/lambda/",
                pulumi.Output.from_input(self.rack.name),
                "-",
                self.component_name,
                "-release",
            ),
            retention_in_days=self.args.log_retention_days or self.rack.log_retention_days,
        )
        # Rotations reach the runner asynchronously (EventBridge): one that fails after
        # Lambda's retries is kept here, for the operator, instead of being dropped.
        failures = (
            self.child(
                "release_failures",
                aws.sqs.Queue,
                "release-failures",
                sqs_managed_sse_enabled=True,
                message_retention_seconds=_FAILURE_RETENTION_SECONDS,
            )
            if self._rotated_links()
            else None
        )
        families = [td.arn_without_revision for td in self.task_definitions.values()]
        passed = [self.execution_role.arn, *(r.arn for r in self.task_roles.values())]
        sources = [link.source_secret for link in self._rotated_links().values()]
        link_secrets = [link.secret.arn for link in self.links.values()]
        groups = [
            link.connection.replication_group_arn
            for link in self.links.values()
            if isinstance(link.connection, CacheConnection)
        ]
        app = self.component_name

        def document(v: list[Any]) -> str:
            return runner_policy(
                cluster=v[0],
                log_group=v[1],
                families=v[2],
                passed_roles=v[3],
                app=app,
                rack=v[4],
                source_secrets=v[5],
                link_secrets=v[6],
                kms_keys=v[7],
                failure_queue=v[8],
                caches=v[9],
            )

        policy = self.child(
            "release_role_policy",
            aws.iam.RolePolicy,
            "release-policy",
            role=role.id,
            policy=pulumi.Output.all(
                self.rack.cluster_arn,
                log_group.arn,
                pulumi.Output.all(*families),
                pulumi.Output.all(*passed),
                self.rack.name,
                pulumi.Output.all(*sources),
                pulumi.Output.all(*link_secrets),
                self._kms_keys(),
                failures.arn if failures is not None else None,
                pulumi.Output.all(*groups),
            ).apply(document),
        )
        function = self.child(
            "release_function",
            aws.lambda_.Function,
            "release",
            name=pulumi.Output.from_input(self.rack.name).apply(
                lambda rack: aws_name("lambda", rack, self.component_name, "release")
            ),
            runtime=_RELEASE_RUNTIME,
            architectures=["arm64"],
            handler="paaskit.release.handler.handler",
            code=lambda_code(_RELEASE_PACKAGE),
            role=role.arn,
            timeout=_LAMBDA_TIMEOUT,
            memory_size=128,
            # Called synchronously by `pulumi up`, which sees failures directly: no queue.
            description="paaskit: an app's deploy runner: releases, link secrets, deploy checks, records",
            logging_config={"log_format": "JSON", "log_group": log_group.name},
            # Every invocation needs its permissions in place (RunTask, PassRole, secrets).
            opts=pulumi.ResourceOptions(depends_on=[log_group, policy]),
        )
        if failures is not None:
            self.child(
                "release_invoke_config",
                aws.lambda_.FunctionEventInvokeConfig,
                "release-async",
                function_name=function.name,
                maximum_retry_attempts=2,
                maximum_event_age_in_seconds=3600,
                destination_config={"on_failure": {"destination": failures.arn}},
            )
        return function

    def _rotated_links(self) -> dict[str, _Link]:
        """The links whose password comes from a source secret that may rotate (databases)."""
        return {name: link for name, link in self.links.items() if link.source_secret is not None}

    def _link_event(self, res_name: str, link: _Link) -> pulumi.Output[dict[str, Any]]:
        """What the runner needs to write a link secret: never the password, only where it is."""
        connection = link.connection
        if isinstance(connection, CacheConnection):
            # The runner generates the AUTH token into the link secret and applies it to the
            # replication group (ROTATE, then SET): see paaskit/release/links.py.
            return pulumi.Output.all(
                link.secret.arn,
                connection.replication_group_id,
                connection.host,
                connection.port,
            ).apply(
                lambda v: {
                    "action": "link",
                    "resource": res_name,
                    "engine": connection.engine,
                    "linkSecret": v[0],
                    "replicationGroup": v[1],
                    "host": v[2],
                    "port": int(v[3]),
                    "timeoutSeconds": _CACHE_AUTH_TIMEOUT_SECONDS,
                }
            )
        return pulumi.Output.all(
            connection.secret_arn,
            link.secret.arn,
            connection.host,
            connection.port,
            connection.database,
        ).apply(
            lambda v: {
                "action": "link",
                "resource": res_name,
                "engine": connection.engine,
                "sourceSecret": v[0],
                "linkSecret": v[1],
                "host": v[2],
                "port": int(v[3]),
                "database": v[4],
            }
        )

    def _link_writes(self) -> dict[str, aws.lambda_.Invocation]:
        """Write each link secret from its source before anything reads it (releases, services).

        Invoked again when the source secret, host, port or database change.
        """
        made = {}
        for res_name, link in self.links.items():
            made[res_name] = self.child(
                "link",
                aws.lambda_.Invocation,
                f"{res_name}-link",
                at=res_name,
                function_name=self.runner.name,
                input=self._link_event(res_name, link).apply(
                    lambda e: json.dumps(e, sort_keys=True)
                ),
            )
        return made

    def _link_rotations(self) -> None:
        """When a source secret's AWSCURRENT label moves (a rotation, RDS's or anyone's), the
        runner rewrites the link secret and restarts the services that read it: ECS reads
        secrets only when a task starts.

        Secrets Manager's own `Secret Label Updated` event: no CloudTrail trail needed. A
        cache's AUTH token has no source to rotate: it is the link secret's own.
        """
        for res_name, link in self._rotated_links().items():
            source = link.source_secret
            assert source is not None
            rule = self.child(
                "link_rule",
                aws.cloudwatch.EventRule,
                f"{res_name}-rotated",
                at=res_name,
                description=(
                    f"paaskit app {self.component_name}: {res_name}'s password changed; "
                    "rewrite its link secret and restart its services"
                ),
                event_pattern=source.apply(rotation_pattern),
            )
            services = [self.services[name].name for name in link.services]
            event = pulumi.Output.all(
                self._link_event(res_name, link), self.rack.cluster_arn, *services
            ).apply(
                lambda v: json.dumps(
                    {**v[0], "cluster": v[1], "restart": sorted(v[2:])}, sort_keys=True
                )
            )
            permission = self.child(
                "link_permission",
                aws.lambda_.Permission,
                f"{res_name}-rotated-invoke",
                at=res_name,
                action="lambda:InvokeFunction",
                function=self.runner.name,
                principal="events.amazonaws.com",
                source_arn=rule.arn,
            )
            self.child(
                "link_target",
                aws.cloudwatch.EventTarget,
                f"{res_name}-rotated-target",
                at=res_name,
                rule=rule.name,
                arn=self.runner.arn,
                input=event,
                retry_policy={"maximum_retry_attempts": 8, "maximum_event_age_in_seconds": 3600},
                opts=pulumi.ResourceOptions(depends_on=[permission]),
            )

    def _releases(self) -> dict[str, aws.lambda_.Invocation]:
        """Run each service's release command with its new task definition, before services move."""
        made = {}
        # A release task reads the linked resources' URLs: they are written first.
        links = list(self.link_writes.values())
        for service in self.manifest.services.values():
            command = release_command(service, self._procfile_releases.get(service.name))
            if command is None:
                continue
            task_definition = self.task_definitions[service.name]
            event = pulumi.Output.all(
                self.rack.cluster_arn,
                task_definition.arn,
                self.rack.capacity_provider,
                # An internal service's tasks run in awsvpc mode: RunTask needs their network.
                self.internal.run_task_network(service),
            ).apply(
                lambda v, s=service, c=command: json.dumps(  # type: ignore[misc]
                    {
                        "action": "release",
                        "cluster": v[0],
                        "taskDefinition": v[1],
                        "container": s.name,
                        "command": list(c),
                        "capacityProvider": v[2],
                        "timeoutSeconds": self.args.release_timeout_seconds,
                        **({"networkConfiguration": v[3]} if v[3] else {}),
                    },
                    sort_keys=True,
                )
            )
            made[service.name] = self.child(
                "release",
                aws.lambda_.Invocation,
                f"{service.name}-release",
                at=service.name,
                function_name=self.runner.name,
                input=event,
                # A new task definition (new image, settings or command) runs the release again.
                triggers={"taskDefinition": task_definition.arn},
                opts=pulumi.ResourceOptions(depends_on=links),
            )
        return made

    def _timers(self) -> dict[str, aws.scheduler.Schedule]:
        if not self.manifest.timers:
            return {}
        role = self.child(
            "timer_role",
            aws.iam.Role,
            "timer-role",
            assume_role_policy=self._trust("scheduler.amazonaws.com"),
            description=f"paaskit app {self.component_name}: EventBridge Scheduler starts timer tasks",
        )
        families = [
            self.task_definitions[t.service].arn_without_revision
            for t in self.manifest.timers.values()
        ]
        passed = [
            self.execution_role.arn,
            *(self.task_roles[t.service].arn for t in self.manifest.timers.values()),
        ]
        self.child(
            "timer_role_policy",
            aws.iam.RolePolicy,
            "timer-policy",
            role=role.id,
            policy=pulumi.Output.all(
                self.rack.cluster_arn, pulumi.Output.all(*families), pulumi.Output.all(*passed)
            ).apply(lambda v: run_task_policy(v[0], v[1], v[2])),
        )
        # Schedules take no tags: their group carries the app's (the tag contract).
        group = self.child(
            "timer_group",
            aws.scheduler.ScheduleGroup,
            "timers",
        )
        # No new code on a schedule before its migrations ran.
        releases = list(self.releases.values())
        made = {}
        for timer in self.manifest.timers.values():
            overrides = json.dumps(
                {
                    "containerOverrides": [
                        {"name": timer.service, "command": list(timer_command(timer))}
                    ]
                },
                sort_keys=True,
            )
            made[timer.name] = self.child(
                "timer",
                aws.scheduler.Schedule,
                f"timer-{timer.name}",
                at=timer.name,
                group_name=group.name,
                schedule_expression=timer.aws_schedule_expression(),
                schedule_expression_timezone="UTC",
                flexible_time_window={"mode": "OFF"},
                description=f"paaskit app {self.component_name}: timer {timer.name} ({timer.schedule})",
                target={
                    "arn": self.rack.cluster_arn,
                    "role_arn": role.arn,
                    "input": overrides,
                    "retry_policy": {
                        "maximum_retry_attempts": 2,
                        "maximum_event_age_in_seconds": 3600,
                    },
                    "ecs_parameters": {
                        "task_definition_arn": self._running_task_definition(timer.service),
                        "task_count": 1,
                        "capacity_provider_strategies": [
                            {"capacity_provider": self.rack.capacity_provider, "weight": 1}
                        ],
                        "enable_ecs_managed_tags": True,
                        "propagate_tags": "TASK_DEFINITION",
                        # An internal service's tasks run in awsvpc mode (`_internal.py`).
                        **self.internal.schedule_network(self.manifest.services[timer.service]),
                    },
                },
                opts=pulumi.ResourceOptions(depends_on=releases),
            )
        return made


def image_lifecycle_policy(services: Sequence[str], kept: int) -> str:
    """ECR's lifecycle policy: per built service, keep its `kept` newest images (the rollback window).

    One count rule per service tag prefix (`web.`), so a service deployed often never
    expires the images of one deployed rarely. No rule for untagged images: a tag pushed
    again leaves its former image untagged, and a task definition may still run it by
    digest; ECR's rules cannot see task definitions.
    """
    rules = [
        {
            "rulePriority": priority,
            "description": f"service {name}: keep the {kept} newest images (the rollback window)",
            "selection": {
                "tagStatus": "tagged",
                "tagPrefixList": [f"{name}{TAG_SEPARATOR}"],
                "countType": "imageCountMoreThan",
                "countNumber": kept,
            },
            "action": {"type": "expire"},
        }
        for priority, name in enumerate(sorted(services), 1)
    ]
    return json.dumps({"rules": rules}, sort_keys=True)


def rotation_pattern(source_secret_arn: str) -> str:
    """The EventBridge pattern of a source secret's new current version (`Secret Label Updated`)."""
    return json.dumps(
        {
            "source": ["aws.secretsmanager"],
            "detail-type": ["Secret Label Updated"],
            "resources": [source_secret_arn],
            "detail": {"labelUpdated": ["AWSCURRENT"]},
        },
        sort_keys=True,
    )


def _check_manifest(args: AppArgs) -> list[str]:
    """What only the app can check: its settings against the manifest's variables, its
    services against its rack's nodes (when they are known now; else `_checks.checked`, as
    they arrive) and the part of its task definitions known now. Returns warnings."""
    manifest = args.manifest
    unknown = manifest.undeclared(args.environment)
    if unknown:
        raise ConfigError(
            f"environment: {', '.join(unknown)} not declared in {manifest.source}; only declared "
            "variables reach the services (add them to `environment` there)"
        )
    for service in manifest.services.values():
        manifest.resolve_environment(service.name, args.environment)
    check_environment(manifest, args.environment)
    warnings: list[str] = []
    nodes = args.rack.nodes
    for service in manifest.services.values():
        if isinstance(nodes, Mapping):
            warnings += check_fits(service, nodes)
        known = known_definition(manifest, service, args.environment)
        check_definition_size(service, known, known=True)
    return warnings


# A setting of the Database or Cache, as the manifest's option that gave it (for messages).
_DATABASE_OPTIONS = {
    "engine_version": "version",
    "instance_class": "class",
    "allocated_storage": "storage",
    "max_allocated_storage": "storage",
    "multi_az": "durable",
    "backup_retention_days": "backupRetentionPeriod",
    "backup_window": "preferredBackupWindow",
    "maintenance_window": "preferredMaintenanceWindow",
    "allow_major_version_upgrade": "allowMajorVersionUpgrade",
    "extended_support": "extendedSupport",
}
_CACHE_OPTIONS = {
    "engine": "engine",
    "engine_version": "version",
    "node_type": "class",
    "nodes": "nodes",
    "multi_az": "durable",
    "transit_encryption": "transitEncryption",
}


def _resource_settings(args: AppArgs) -> dict[str, DatabaseSettings | CacheSettings | None]:
    """Each resource's Database or Cache settings (None: the rack's shared database), or one
    ConfigError naming every problem at `resources.<name>.options.<key>`."""
    out: dict[str, DatabaseSettings | CacheSettings | None] = {}
    problems: list[str] = []
    for res_name, resource in sorted(args.manifest.resources.items()):
        try:
            out[res_name] = _settings_of(res_name, resource, args)
        except _OptionProblems as err:
            problems += err.problems
    if problems:
        raise ConfigError("; ".join(problems))
    return out


class _OptionProblems(ConfigError):
    """What is wrong with one resource's options, as `resources.<name>.options.<key>: why`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _settings_of(
    res_name: str, resource: Resource, args: AppArgs
) -> DatabaseSettings | CacheSettings | None:
    options = resource.options
    key = f"resources.{res_name}.options"
    refused: dict[str, tuple[bool, str]] = {}
    if isinstance(options, (PostgresOptions, MysqlOptions)):
        port = 5432 if isinstance(options, PostgresOptions) else 3306
        refused = {
            "encrypted": (not options.encrypted, "paaskit always encrypts databases"),
            "port": (options.port != port, f"paaskit's {resource.kind} databases listen on {port}"),
            "iops": (
                options.iops is not None,
                "gp3's baseline is used; provisioned IOPS are not supported yet",
            ),
            "autoMinorVersionUpgrade": (
                not options.auto_minor_version_upgrade,
                "minor versions carry security fixes; paaskit always applies them in the "
                "maintenance window",
            ),
        }
    elif isinstance(options, RedisOptions):
        refused = {
            "encrypted": (not options.encrypted, "paaskit always encrypts caches at rest"),
            "transitEncryption": (
                not options.transit_encryption,
                "AUTH works only over TLS, and without AUTH any process that reaches the nodes "
                "reads the data",
            ),
            "autoMinorVersionUpgrade": (
                not options.auto_minor_version_upgrade,
                "minor versions carry security fixes; paaskit always applies them in the "
                "maintenance window",
            ),
        }
    wrong = [
        f"{key}.{option}: not supported: {why}" for option, (bad, why) in refused.items() if bad
    ]
    if wrong:
        raise _OptionProblems(wrong)
    if isinstance(options, PostgresOptions) and options.shared:
        if args.rack.database is None:
            raise _OptionProblems(
                [
                    f"{key}.shared: the rack has no shared database (set database: true on the "
                    "rack), or drop shared"
                ]
            )
        return None
    tags = dict(args.tags)
    if isinstance(options, (PostgresOptions, MysqlOptions)):
        values: dict[str, Any] = {
            "engine": resource.kind,
            "instance_class": options.instance_class,
            "allocated_storage": options.storage,
            "max_allocated_storage": max(100, options.storage * 2),
            "multi_az": options.durable,
            "backup_retention_days": options.backup_retention_period,
            "backup_window": options.preferred_backup_window,
            "maintenance_window": options.preferred_maintenance_window,
            "allow_major_version_upgrade": options.allow_major_version_upgrade,
            "extended_support": options.extended_support,
            "throwaway": args.throwaway or not options.deletion_protection,
            "tags": tags,
        }
        if options.version is not None:
            values["engine_version"] = options.version
        return _validated(DatabaseSettings, values, key, _DATABASE_OPTIONS)
    if isinstance(options, RedisOptions):
        values = {
            "engine": options.engine or redis_engine_for(options.version),
            "node_type": options.instance_class,
            "nodes": options.nodes,
            "multi_az": options.durable,
            "throwaway": args.throwaway or not options.deletion_protection,
            "tags": tags,
        }
    else:
        assert isinstance(options, MemcachedOptions)
        values = {
            "engine": "memcached",
            "node_type": options.instance_class,
            "nodes": options.nodes,
            "transit_encryption": options.transit_encryption,
            "throwaway": args.throwaway or not options.deletion_protection,
            "tags": tags,
        }
    if options.version is not None:
        values["engine_version"] = options.version
    return _validated(CacheSettings, values, key, _CACHE_OPTIONS)


def _validated(
    model: type[DatabaseSettings] | type[CacheSettings],
    values: dict[str, Any],
    key: str,
    options: Mapping[str, str],
) -> DatabaseSettings | CacheSettings:
    """`model(**values)`, or its problems named by the manifest options that gave the values."""
    try:
        return model(**values)
    except ValidationError as err:
        problems = []
        for error in err.errors():
            message = str(error["msg"]).removeprefix("Value error, ")
            field = str(error["loc"][0]) if error["loc"] else ""
            if not field and (lead := re.match(r"(\w+): (.*)", message, re.S)):
                field, message = lead[1], lead[2]
            option = options.get(field)
            where = f"{key}.{option}" if option else (f"{key} ({field})" if field else key)
            # Other settings the message names, as the manifest's options.
            message = re.sub(
                r"\b(" + "|".join(options) + r")\b",
                lambda named: f"{key}.{options[named[1]]}",
                message,
            )
            problems.append(f"{where}: {message}")
        raise _OptionProblems(problems) from None


def _require_shared(res_name: str) -> Any:
    def check(host: Any) -> str:
        if not host:
            raise ConfigError(
                f"resources.{res_name}.options.shared: the rack has no shared database"
            )
        return str(host)

    return check


def _merge_entries(groups: list[list[dict[str, Any]]]) -> list[dict[str, str]]:
    """ECS name/value (or name/valueFrom) entries of several sources, first wins, sorted by name."""
    merged: dict[str, dict[str, str]] = {}
    for entries in groups:
        for entry in entries:
            merged.setdefault(str(entry["name"]), {k: str(v) for k, v in entry.items()})
    return [merged[name] for name in sorted(merged)]


def _link_entries(
    arn: str, prefix: str, url_env: str | None, *, libpq: bool = True
) -> list[dict[str, str]]:
    """ECS `secrets` of a link: the URL, and (unless the link renames its URL) the password,
    and libpq's `PGPASSWORD` for PostgreSQL, by JSON key of the link secret (`<arn>:<key>::`,
    ECS agent 1.37+)."""
    entries = [{"name": url_env or f"{prefix}_URL", "valueFrom": f"{arn}:url::"}]
    if url_env is None:
        names = [f"{prefix}_PASS"] + (["PGPASSWORD"] if libpq else [])
        entries += [{"name": name, "valueFrom": f"{arn}:password::"} for name in names]
    return entries


def _not_named(entries: list[dict[str, str]], taken: list[dict[str, str]]) -> list[dict[str, str]]:
    """`entries` whose names no entry of `taken` has."""
    names = {str(e["name"]) for e in taken}
    return [e for e in entries if e["name"] not in names]


def _settings_digest(pairs: list[Any]) -> str:
    """A short digest of (parameter, version) pairs: the same until a value changes."""
    if not pairs:
        return ""
    text = "\n".join(f"{name}={version}" for name, version in sorted(pairs))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
