"""pulumi_aws, loaded once by paaskit without the warnings of modules paaskit never uses."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import paaskit
from paaskit._providers import SERVICES

PACKAGE = Path(paaskit.__file__).parent


def test_every_service_paaskit_uses_is_loaded_up_front():
    used = {
        match
        for path in PACKAGE.rglob("*.py")
        for match in re.findall(r"(?<![.\w])aws\.([a-z_0-9]+)\.", path.read_text())
    }
    assert used <= set(SERVICES)
    assert list(SERVICES) == sorted(SERVICES)


def test_pulumi_aws_warns_when_loaded_by_itself():
    # What the module guards against is real (tests/test_testing.py runs a user's tests
    # with -W error, which would fail without it).
    result = subprocess.run(
        [
            sys.executable,
            "-W",
            "error::DeprecationWarning",
            "-c",
            "import pulumi_aws; pulumi_aws.s3.Bucket",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "DeprecationWarning" in result.stderr
