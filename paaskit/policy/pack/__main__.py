"""paaskit's policy pack: `pulumi preview --policy-pack paaskit/policy/pack`.

Pulumi runs this file with the pack's own virtualenv. The rules are paaskit's
(`paaskit.policy`); the directory lives inside the paaskit package, so the
package is imported from the tree around it when the virtualenv does not have
it installed. `PolicyPack(...)` serves the policies to the engine and never
returns, which is why the policy list is built by `paaskit.policy.pulumi_pack.policies`
(what the tests call) and only served here.
"""

import importlib.util
import sys
from pathlib import Path

if importlib.util.find_spec("paaskit") is None:
    # Not installed in the pack's virtualenv: this file is
    # <root>/paaskit/policy/pack/__main__.py, and <root> holds the paaskit package.
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from pulumi_policy import EnforcementLevel, PolicyPack

from paaskit.policy.pulumi_pack import PACK_NAME, policies

__all__: list[str] = []

if __name__ == "__main__":
    PolicyPack(
        name=PACK_NAME,
        policies=policies(),
        enforcement_level=EnforcementLevel.ADVISORY,
        description="paaskit's security, reliability and AWS-limit rules",
        provider="aws",
    )
