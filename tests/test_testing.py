"""paaskit.testing in users' own test suites: the fixture, under the strictest warning settings."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

USER_TEST = """
    from paaskit import Network, NetworkArgs, Rack
    from paaskit.testing import plan


    def test_private_subnets_get_no_public_ips(paaskit_plan):
        records = paaskit_plan(lambda: Network("net", NetworkArgs(zones=3)))
        for subnet in records.of_type("aws:ec2/subnet:Subnet"):
            assert subnet.inputs["mapPublicIpOnLaunch"] is False


    def test_a_whole_rack():
        assert plan(lambda: Rack("rack")).one("paaskit:rack:Rack")
"""


def test_a_users_tests_pass_with_warnings_as_errors(tmp_path):
    # pulumi_aws's packages warn about their deprecated modules as they load (26 warnings
    # for those paaskit uses): with -W error, the plugin failed to load.
    (tmp_path / "test_mine.py").write_text(textwrap.dedent(USER_TEST))
    result = subprocess.run(
        [sys.executable, "-W", "error", "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "-W", "error", "test_mine.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
    assert "warning" not in result.stdout.lower()
