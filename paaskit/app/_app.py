"""The App component: a manifest's services, resources, releases and timers on a rack."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker
from pydantic import ValidationError

from paaskit import buildpack
from paaskit._aws import assume_role_policy, check_origin_header_name, lambda_code
from paaskit._component import Child, Component, each, named, one
from paaskit.cdn import asset_object_args, find_assets, static_host_args
from paaskit.config import ConfigError, Input
from paaskit.database import Database, DatabaseArgs, DatabaseConnection, DatabaseSettings
from paaskit.loadbalancer import listener_rule_args
from paaskit.manifest import Resource, Service
from paaskit.naming import aws_name
from paaskit.tags import APP_TAG, RACK_TAG, SERVICE_TAG

from ._images import Built, context_digest, image_owners, write_generated
from ._policies import execution_policy, release_policy, run_task_policy
from ._settings import AppArgs

__all__ = [
    "App",
]

_APP_NAME = re.compile(r"^[a-z][a-z0-9-]{0,29}[a-z0-9]$|^[a-z]$")

_RELEASE_RUNTIME = "python3.13"  # the spot handler's too; supported until 2029
_RELEASE_PACKAGE = Path(__file__).resolve().parent.parent / "release"
_LAMBDA_TIMEOUT = 900


class App(Component):
    """The services, resources, releases and timers of one manifest, on a rack.

    Creates: an ECR repository with a lifecycle policy (when a service is
    built); a log group; SSM parameters for the app's settings; an execution
    role; per `postgres` resource a `Database`; per service an image, a task
    role, a task definition and an ECS service (web services also a target
    group, a listener rule, their static files and autoscaling); a release
    function with one invocation per service that has `release`; and a
    schedule per timer.
    """

    TYPE = "paaskit:app:App"
    CHILDREN: ClassVar[Mapping[str, Child]] = {
        "repository": one(aws.ecr.Repository),
        "lifecycle_policy": one(aws.ecr.LifecyclePolicy),
        "log_group": one(aws.cloudwatch.LogGroup),
        "parameter": named(aws.ssm.Parameter),
        "database": named(Database),
        "execution_role": one(aws.iam.Role),
        "execution_role_policy": one(aws.iam.RolePolicy),
        "image": named(docker.Image),
        "task_role": named(aws.iam.Role),
        "task_role_policy": each(aws.iam.RolePolicyAttachment),
        "task_definition": named(aws.ecs.TaskDefinition),
        "release_role": one(aws.iam.Role),
        "release_log_group": one(aws.cloudwatch.LogGroup),
        "release_role_policy": one(aws.iam.RolePolicy),
        "release_function": one(aws.lambda_.Function),
        "release": named(aws.lambda_.Invocation),
        "target_group": named(aws.lb.TargetGroup),
        "listener_rule": named(aws.lb.ListenerRule),
        # Untagged as they always were: S3 takes at most 10 tags on an object.
        "static_asset": named(aws.s3.BucketObjectv2, tagged=False),
        "static_host": each(aws.cloudfront.KeyvaluestoreKey),
        "service": named(aws.ecs.Service),
        "scaling_target": named(aws.appautoscaling.Target),
        "scaling_policy": named(aws.appautoscaling.Policy),
        "timer_role": one(aws.iam.Role),
        "timer_role_policy": one(aws.iam.RolePolicy),
        "timer_group": one(aws.scheduler.ScheduleGroup),
        "timer": named(aws.scheduler.Schedule),
    }
    """Every child by key (the keys of `nodes` and `transform`): per service by the
    service's name (`web`), settings by variable, databases by resource, timers by
    name, static files by `<service>/<object key>`, scaling policies by
    `<service>/<metric>`."""

    def __init__(
        self, name: str, args: AppArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if not _APP_NAME.match(name):
            raise ConfigError(
                f"name: {name!r}: an app's name is part of its hosts and AWS names: 1-31 lowercase "
                "letters, digits and '-', starting with a letter"
            )
        _check_manifest(args)
        super().__init__(name, args, opts)
        for path, message in args.manifest.warnings:
            pulumi.log.warn(f"{args.manifest.source}: {path}: {message}", resource=self)
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
        self.connections = self._resources()
        self.execution_role = self._execution_role()

        self.images: dict[str, Built] = {}
        self._image_owners = image_owners(
            {s.name: self._build_identity(s) for s in self.manifest.services.values() if s.build}
        )
        self.task_roles: dict[str, aws.iam.Role] = {}
        self.task_definitions: dict[str, aws.ecs.TaskDefinition] = {}
        for service in self.manifest.services.values():
            self.images[service.name] = self._image(service)
            self.task_roles[service.name] = self._task_role(service)
            self.task_definitions[service.name] = self._task_definition(service)

        self.releases = self._releases()
        self.target_groups: dict[str, aws.lb.TargetGroup] = {}
        self.hosts: dict[str, list[pulumi.Output[str]]] = {}
        self.services: dict[str, aws.ecs.Service] = {}
        for service in self.manifest.services.values():
            target_group = self._web(service) if service.web else None
            self.services[service.name] = self._service(service, target_group)
            if service.scale.autoscaling:
                self._autoscaling(service, target_group)
        self.timers = self._timers()

        self.urls: dict[str, pulumi.Output[str]] = {
            svc: hosts[0].apply(lambda h: f"https://{h}") for svc, hosts in self.hosts.items()
        }
        self.register_outputs({"urls": self.urls})

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
            # Tags name content (service + digest of the build context): never reused.
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            encryption_configurations=[{"encryption_type": "AES256"}],
            force_delete=self.args.throwaway,
        )
        self.child(
            "lifecycle_policy",
            aws.ecr.LifecyclePolicy,
            "images-lifecycle",
            repository=repository.name,
            policy=json.dumps(
                {
                    "rules": [
                        {
                            "rulePriority": 1,
                            "description": "untagged layers of interrupted pushes",
                            "selection": {
                                "tagStatus": "untagged",
                                "countType": "sinceImagePushed",
                                "countUnit": "days",
                                "countNumber": 1,
                            },
                            "action": {"type": "expire"},
                        },
                        {
                            "rulePriority": 2,
                            "description": "keep the 30 newest images (rollbacks), expire older ones",
                            "selection": {
                                "tagStatus": "any",
                                "countType": "imageCountMoreThan",
                                "countNumber": 30,
                            },
                            "action": {"type": "expire"},
                        },
                    ]
                },
                sort_keys=True,
            ),
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

    def _resources(self) -> dict[str, DatabaseConnection]:
        """A connection per `postgres` resource: the app's own database, or the rack's shared one."""
        connections = {}
        for res_name, resource in sorted(self.manifest.resources.items()):
            if resource.options.shared:
                shared = self.rack.database
                if shared is None:
                    raise ConfigError(
                        f"resources.{res_name}.options.shared: the rack has no shared database "
                        "(set database: true on the rack), or drop shared"
                    )
                connections[res_name] = DatabaseConnection(
                    host=pulumi.Output.from_input(shared.host).apply(_require_shared(res_name)),
                    port=pulumi.Output.from_input(shared.port),
                    database=shared.name,  # type: ignore[arg-type]
                    username=shared.username,  # type: ignore[arg-type]
                    secret_arn=pulumi.Output.from_input(shared.secret_arn),
                )
                continue
            db = self.child(
                "database",
                Database,
                f"db-{res_name}",
                at=res_name,
                args=self._database_args(res_name, resource),
            )
            self.databases[res_name] = db
            connections[res_name] = db.connection()
        return connections

    def _database_args(self, res_name: str, resource: Resource) -> DatabaseArgs:
        options = resource.options
        key = f"resources.{res_name}.options"
        refused = {
            "encrypted": (not options.encrypted, "paaskit always encrypts databases"),
            "port": (options.port != 5432, "paaskit's databases listen on 5432"),
            "iops": (
                options.iops is not None,
                "gp3's baseline is used; provisioned IOPS are not supported yet",
            ),
            "autoMinorVersionUpgrade": (
                not options.auto_minor_version_upgrade,
                "minor versions carry security fixes; paaskit always applies them in the maintenance window",
            ),
        }
        for option, (wrong, why) in refused.items():
            if wrong:
                raise ConfigError(f"{key}.{option}: not supported: {why}")
        settings: dict[str, Any] = {
            "engine_version": options.version,
            "instance_class": options.instance_class,
            "allocated_storage": options.storage,
            "max_allocated_storage": max(100, options.storage * 2),
            "multi_az": options.durable,
            "backup_retention_days": options.backup_retention_period,
            "backup_window": options.preferred_backup_window,
            "maintenance_window": options.preferred_maintenance_window,
            "throwaway": self.args.throwaway or not options.deletion_protection,
            "tags": dict(self.args.tags),
        }
        try:
            db_settings = DatabaseSettings(**settings)
        except ValidationError as err:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
                for e in err.errors()
            )
            raise ConfigError(f"resources.{res_name}.options: {problems}") from None
        return DatabaseArgs.from_settings(
            db_settings,
            vpc_id=self.rack.vpc_id,
            subnet_ids=self.rack.private_subnet_ids,  # type: ignore[arg-type]
            allowed_security_group_ids=[self.rack.node_security_group_id],
        )

    def _execution_role(self) -> aws.iam.Role:
        """Pull this app's images, write its logs, read its own settings and database secrets: nothing else."""
        role = self.child(
            "execution_role",
            aws.iam.Role,
            "execution-role",
            assume_role_policy=self._trust("ecs-tasks.amazonaws.com"),
            description=f"paaskit app {self.component_name}: ECS pulls images, writes logs, reads settings",
        )
        repository_arn = self.repository.arn if self.repository is not None else None
        parameter_arns = [p.arn for p in self.parameters.values()]
        secret_arns = [c.secret_arn for c in self.connections.values()]
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
            ).apply(lambda v: execution_policy(v[0], v[1], v[2], v[3])),
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
        # A generated Dockerfile bakes the service's command and port in.
        return (*build, service.command, service.port.port if service.port else None)

    def _image(self, service: Service) -> Built:
        if service.image is not None:
            return Built(image=service.image, command=service.command_argv())
        assert service.build is not None
        assert self.repository is not None
        root = self.manifest.root or Path.cwd()
        context = (root / service.build.path).resolve()
        dockerfile = context / service.build.manifest
        if not context.is_dir():
            raise ConfigError(f"services.{service.name}.build.path: {context} is not a folder")
        if dockerfile.is_file():
            text = dockerfile.read_text()
            dockerfile_path = dockerfile
        else:
            try:
                text = buildpack.generate_dockerfile(
                    context,
                    python_version=self.args.python_version,
                    command=service.command,
                    port=service.port.port if service.port else None,
                )
            except buildpack.BuildpackError as exc:
                raise ConfigError(
                    f"services.{service.name}.build: no {service.build.manifest} in {context}, and no "
                    f"Dockerfile can be generated: {exc}"
                ) from None
            dockerfile_path = write_generated(text)
        entrypoint, cmd = buildpack.image_command(text)
        if service.command_argv() is not None:
            # `command` replaces CMD and keeps the image's ENTRYPOINT, as in ECS.
            command: tuple[str, ...] | None = (*(entrypoint or ()), *(service.command_argv() or ()))
        elif entrypoint is None and cmd is None:
            command = None
        else:
            command = (*(entrypoint or ()), *(cmd or ()))
        owner = self._image_owners[service.name]
        if owner != service.name:
            # An identical build: run the image the first such service made (one build, one push).
            return Built(image=self.images[owner].image, command=command)
        build_args = {a.name: a.value for a in service.build.args if a.value is not None}
        tag = f"{service.name}-{context_digest(context, text, build_args)[:16]}"
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
                "context": str(context),
                "dockerfile": str(dockerfile_path),
                "platform": self.rack.docker_platform,
                "args": build_args or None,
            },
            registry={
                "server": self.repository.repository_url,
                "username": registry.user_name,
                "password": pulumi.Output.secret(registry.password),
            },
        )
        return Built(image=image.repo_digest, command=command)

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
        return role

    def _environment(
        self, service: Service
    ) -> tuple[pulumi.Output[Any], pulumi.Output[Any], str | None]:
        """(environment, secrets, the sh prelude that builds resource URLs) for a service's container."""
        declared = self.manifest.service_environment(service.name)
        environment: dict[str, Input] = {
            k: v for k, v in declared.defaults.items() if k not in self.parameters
        }
        environment.update(
            {
                "APP": self.component_name,
                "SERVICE": service.name,
                "RACK": self.rack.name,  # type: ignore[dict-item]
            }
        )
        if service.port is not None:
            environment["PORT"] = str(service.port.port)
        env_parts: list[Any] = [
            pulumi.Output.all(
                *[pulumi.Output.all(k, v) for k, v in sorted(environment.items())]
            ).apply(lambda pairs: [{"name": str(k), "value": str(v)} for k, v in pairs])
        ]
        secret_parts: list[Any] = [
            pulumi.Output.all(
                *[
                    pulumi.Output.all(key, self.parameters[key].arn)
                    for key in declared.passed(self.parameters)
                ]
            ).apply(lambda pairs: [{"name": n, "valueFrom": v} for n, v in pairs])
        ]
        preludes = []
        for link in service.resources:
            connection = self.connections[link.resource]
            prefix = link.env_prefix
            env_parts.append(connection.environment(prefix))
            secret_parts.append(connection.secrets(prefix))
            preludes.append(
                buildpack.url_env_snippet(prefix, url_var=link.url_env or f"{prefix}_URL")
            )
        plain = pulumi.Output.all(*env_parts).apply(_merge_entries)
        secrets = pulumi.Output.all(*secret_parts).apply(_merge_entries)
        return plain, secrets, "\n".join(preludes) or None

    def _task_definition(self, service: Service) -> aws.ecs.TaskDefinition:
        built = self.images[service.name]
        environment, secrets, prelude = self._environment(service)
        entry_point: tuple[str, ...] | None = None
        command = service.command_argv()
        if prelude is not None:
            if built.command is None:
                pulumi.log.warn(
                    f"services.{service.name}: its command is not known (a prebuilt image without "
                    "`command`), so resource URLs cannot be built at start; the app reads "
                    "<NAME>_HOST/_PORT/_NAME/_USER/_PASS (or libpq's PG* variables) instead",
                    resource=self,
                )
            else:
                entry_point, command = buildpack.wrap_command(built.command, prelude), None
        port_mappings = []
        if service.port is not None:
            # Bridge networking, dynamic host port: many tasks of a service share a node.
            port_mappings.append(
                {"containerPort": service.port.port, "hostPort": 0, "protocol": "tcp"}
            )
        for agent_port in service.agent.ports:
            port_mappings.append(
                {
                    "containerPort": agent_port.port,
                    "hostPort": agent_port.port,
                    "protocol": agent_port.protocol,
                }
            )

        def container(values: list[Any]) -> str:
            image, env, secret_values, log_group, region = values
            definition: dict[str, Any] = {
                "name": service.name,
                "image": image,
                "essential": True,
                "cpu": service.scale.cpu,
                "memory": service.scale.memory,
                "environment": env,
                "secrets": secret_values,
                "portMappings": port_mappings,
                "privileged": False,
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
            if entry_point is not None:
                definition["entryPoint"] = list(entry_point)
            if command is not None:
                definition["command"] = list(command)
            labels = self.manifest.service_labels(service.name)
            if labels:
                definition["dockerLabels"] = labels
            return json.dumps([definition], sort_keys=True)

        return self.child(
            "task_definition",
            aws.ecs.TaskDefinition,
            f"{service.name}-task",
            at=service.name,
            tags={SERVICE_TAG: service.name},
            family=pulumi.Output.from_input(self.rack.name).apply(
                lambda rack: aws_name("ecs_family", rack, self.component_name, service.name)
            ),
            network_mode="bridge",
            requires_compatibilities=["EC2"],
            execution_role_arn=self.execution_role.arn,
            task_role_arn=self.task_roles[service.name].arn,
            container_definitions=pulumi.Output.all(
                built.image, environment, secrets, self.log_group.name, self._region
            ).apply(container),
        )

    def _web(self, service: Service) -> aws.lb.TargetGroup:
        assert service.port is not None
        health = service.health
        protocol = "HTTPS" if service.port.scheme == "https" else "HTTP"
        target_group = self.child(
            "target_group",
            aws.lb.TargetGroup,
            f"{service.name}-tg",
            at=service.name,
            tags={SERVICE_TAG: service.name},
            port=service.port.port,
            protocol=protocol,
            target_type="instance",
            vpc_id=self.rack.vpc_id,
            deregistration_delay=service.drain,
            health_check={
                "enabled": True,
                "path": health.path,
                "port": "traffic-port",
                "protocol": protocol,
                "interval": health.interval,
                "timeout": min(health.timeout, health.interval - 1),
                "healthy_threshold": 2,
                "unhealthy_threshold": 3,
                "matcher": "200-399",
            },
            stickiness={"type": "lb_cookie", "enabled": service.sticky, "cookie_duration": 86400},
        )
        self.target_groups[service.name] = target_group
        hosts = self._hosts(service)
        self.hosts[service.name] = hosts
        header = self.rack.origin_header_name
        if isinstance(header, str):
            # One read from another stack's outputs is checked where it was set: in that rack.
            check_origin_header_name(header)
        self.child(
            "listener_rule",
            aws.lb.ListenerRule,
            f"{service.name}-route",
            at=service.name,
            tags={SERVICE_TAG: service.name},
            # The rule's own name, which its priority is hashed from.
            **listener_rule_args(
                f"{self.component_name}-{service.name}-route",
                self.rack.listener_arn,
                target_group.arn,
                hosts=hosts,
                origin_secret=self.rack.origin_secret,
                origin_header_name=header,  # type: ignore[arg-type]
            ),
        )
        if service.static is not None:
            self._static(service, hosts)
        return target_group

    def _hosts(self, service: Service) -> list[pulumi.Output[str]]:
        """The service's own domains, or `<app>-<service>.<rack domain>`, or the CDN's name."""
        label = f"{self.component_name}-{service.name}"
        key = f"services.{service.name}.domain"
        domains = list(service.domain)

        def checked(domain: str, cdn: str) -> list[str]:
            if not domain:
                if domains:
                    raise ConfigError(
                        f"{key}: the rack has no domain, so CloudFront serves only {cdn}"
                    )
                return [cdn]
            outside = [d for d in domains if not (d == domain or d.endswith("." + domain))]
            if outside:
                raise ConfigError(
                    f"{key}: {outside} are not under the rack's domain {domain!r}, which its "
                    "CDN and certificates cover"
                )
            return domains or [f"{label}.{domain}"]

        resolved = pulumi.Output.all(self.rack.domain, self.rack.cdn_domain_name).apply(
            lambda v: checked(v[0], v[1])
        )
        count = max(1, len(domains))
        return [resolved.apply(lambda hs, i=i: hs[i]) for i in range(count)]  # type: ignore[misc]

    def _static(self, service: Service, hosts: Sequence[pulumi.Output[str]]) -> None:
        assert service.static is not None
        root = self.manifest.root or Path.cwd()
        folder = root / service.static.path
        site = f"{self.component_name}/{service.name}"
        for asset in find_assets(folder, f"{site}{service.static.prefix}"):
            # Fingerprinted files stay when a deploy drops them: pages still open ask for them.
            keep = asset.immutable and not self.args.throwaway
            self.child(
                "static_asset",
                aws.s3.BucketObjectv2,
                f"{service.name}-static-{asset.slug}",
                at=f"{service.name}/{asset.key}",
                opts=pulumi.ResourceOptions(retain_on_delete=keep),
                **asset_object_args(self.rack.static_bucket, asset),
            )
        for i, host in enumerate(hosts):
            self.child(
                "static_host",
                aws.cloudfront.KeyvaluestoreKey,
                f"{service.name}-static-host-{i}",
                **static_host_args(self.rack.static_hosts_arn, host, site),
            )

    def _service(
        self, service: Service, target_group: aws.lb.TargetGroup | None
    ) -> aws.ecs.Service:
        daemon = service.agent.enabled
        kwargs: dict[str, Any] = {
            "cluster": self.rack.cluster_arn,
            "task_definition": self.task_definitions[service.name].arn,
            "deployment_circuit_breaker": {"enable": True, "rollback": True},
            "deployment_minimum_healthy_percent": service.deployment.minimum,
            "deployment_maximum_percent": service.deployment.maximum,
            "enable_ecs_managed_tags": True,
            "propagate_tags": "SERVICE",
            # pulumi up reports success only once the new version is healthy.
            "wait_for_steady_state": True,
        }
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
        if target_group is not None and service.port is not None:
            kwargs["load_balancers"] = [
                {
                    "target_group_arn": target_group.arn,
                    "container_name": service.name,
                    "container_port": service.port.port,
                }
            ]
            kwargs["health_check_grace_period_seconds"] = service.health.grace
        releases = list(self.releases.values())
        return self.child(
            "service",
            aws.ecs.Service,
            service.name,
            at=service.name,
            tags={SERVICE_TAG: service.name},
            opts=pulumi.ResourceOptions(depends_on=releases, ignore_changes=ignore or None),
            **kwargs,
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
                self.rack.load_balancer_arn_suffix, target_group.arn_suffix
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

    # --- releases and timers ---------------------------------------------------------

    def _releases(self) -> dict[str, aws.lambda_.Invocation]:
        """Run each service's release command with its new task definition, before services move."""
        with_release = [s for s in self.manifest.services.values() if s.release_argv()]
        if not with_release:
            return {}
        function = self._release_function()
        made = {}
        for service in with_release:
            task_definition = self.task_definitions[service.name]
            event = pulumi.Output.all(
                self.rack.cluster_arn, task_definition.arn, self.rack.capacity_provider
            ).apply(
                lambda v, s=service: json.dumps(  # type: ignore[misc]
                    {
                        "cluster": v[0],
                        "taskDefinition": v[1],
                        "container": s.name,
                        "command": list(s.release_argv() or ()),
                        "capacityProvider": v[2],
                        "timeoutSeconds": self.args.release_timeout_seconds,
                    },
                    sort_keys=True,
                )
            )
            made[service.name] = self.child(
                "release",
                aws.lambda_.Invocation,
                f"{service.name}-release",
                at=service.name,
                function_name=function.name,
                input=event,
                # A new task definition (new image, settings or command) runs the release again.
                triggers={"taskDefinition": task_definition.arn},
            )
        return made

    def _release_function(self) -> aws.lambda_.Function:
        role = self.child(
            "release_role",
            aws.iam.Role,
            "release-role",
            assume_role_policy=self._trust("lambda.amazonaws.com"),
            description=f"paaskit app {self.component_name}: run release tasks on the rack",
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
        families = [td.arn_without_revision for td in self.task_definitions.values()]
        passed = [self.execution_role.arn, *(r.arn for r in self.task_roles.values())]
        self.child(
            "release_role_policy",
            aws.iam.RolePolicy,
            "release-policy",
            role=role.id,
            policy=pulumi.Output.all(
                self.rack.cluster_arn,
                log_group.arn,
                pulumi.Output.all(*families),
                pulumi.Output.all(*passed),
            ).apply(lambda v: release_policy(v[0], v[1], v[2], v[3])),
        )
        return self.child(
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
            description="paaskit: run an app's release command as a one-off ECS task",
            logging_config={"log_format": "JSON", "log_group": log_group.name},
            opts=pulumi.ResourceOptions(depends_on=[log_group]),
        )

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
        made = {}
        for timer in self.manifest.timers.values():
            overrides = json.dumps(
                {
                    "containerOverrides": [
                        {"name": timer.service, "command": list(timer.command_argv())}
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
                        "task_definition_arn": self.task_definitions[timer.service].arn,
                        "task_count": 1,
                        "capacity_provider_strategies": [
                            {"capacity_provider": self.rack.capacity_provider, "weight": 1}
                        ],
                        "enable_ecs_managed_tags": True,
                        "propagate_tags": "TASK_DEFINITION",
                    },
                },
            )
        return made


def _check_manifest(args: AppArgs) -> None:
    """What only the app can check: its settings against the manifest's variables."""
    manifest = args.manifest
    # A setting may fill a ${NAME} only; with `*` every setting reaches a service.
    declared = set(manifest.interpolated)
    everything = False
    for service in manifest.services.values():
        environment = manifest.service_environment(service.name)
        declared |= set(environment.names)
        everything = everything or environment.everything
        if service.timeout is not None:
            # Until each web service has a CDN distribution of its own (issue 12).
            raise ConfigError(
                f"services.{service.name}.timeout: not applied yet: a request's timeout is the "
                "CDN's origin response timeout, which the rack's one distribution sets for every "
                "app (the rack's paaskit-rack:originReadTimeout, default 30 s, under its "
                "lbIdleTimeout, default 60 s): remove timeout and set those"
            )
    unknown = [] if everything else sorted(set(args.environment) - declared)
    if unknown:
        raise ConfigError(
            f"environment: {', '.join(unknown)} not declared in {manifest.source}; only declared "
            "variables reach the services (add them to `environment` there)"
        )
    for service in manifest.services.values():
        manifest.resolve_environment(service.name, args.environment)


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
