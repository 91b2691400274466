"""paaskit's Pulumi policy pack directory: `pulumi preview --policy-pack <this directory>`.

A package only so that installing paaskit ships `__main__.py` with the pack's
`PulumiPolicy.yaml` and `requirements.txt`; the policies themselves are built
by `paaskit.policy.pulumi_pack.policies`.
"""

__all__: list[str] = []
