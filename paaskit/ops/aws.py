"""The AWS session of an operation: AWS's standard settings, one client per service.

Credentials, profile, region and endpoint come from where every AWS tool reads
them (`AWS_PROFILE`, `AWS_ACCESS_KEY_ID`..., `~/.aws/config`,
`AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>`), plus `AWS_REGION`, which
the AWS CLI and SDKs honour and boto3 alone does not. Nothing is paaskit's own.
"""

from __future__ import annotations

import os
from functools import cached_property
from typing import Any

import boto3
from botocore.config import Config

from .errors import OpsError

__all__ = ["Aws", "new_session"]

# Standard retries back off on throttling, which listing a busy account can meet.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, user_agent_extra="paaskit-ops")


def new_session() -> boto3.session.Session:
    """A boto3 session with AWS's standard settings, `AWS_REGION` included."""
    return boto3.session.Session(region_name=os.environ.get("AWS_REGION") or None)


class Aws:
    """boto3 clients of one session, made on first use."""

    def __init__(self, session: boto3.session.Session | None = None) -> None:
        self.session = session or new_session()
        self._clients: dict[str, Any] = {}

    @cached_property
    def region(self) -> str:
        region = self.session.region_name
        if not region:
            raise OpsError("no AWS region: set AWS_REGION (or a region in your AWS profile)")
        return str(region)

    @property
    def profile(self) -> str | None:
        """The named profile in use, if any (`AWS_PROFILE`)."""
        profile = self.session.profile_name
        return None if profile == "default" and "AWS_PROFILE" not in os.environ else profile

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(
                service, region_name=self.region, config=_CONFIG
            )
        return self._clients[service]
