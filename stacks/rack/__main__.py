"""The reference rack: a paaskit Rack configured entirely from Pulumi config.

Run from the repository root (whose Pulumi.yaml points here):

    paaskit plan .                  # offline: every resource, no AWS account needed
    pulumi up                       # for real, with the Pulumi CLI and AWS credentials

Every key, its default and what it does is documented in ../../Pulumi.yaml.
The stack exports everything an app needs, so apps can be deployed from
their own stacks with `paaskit.RackRef`.
"""

import pulumi
import rack_config

from paaskit import Rack

rack = Rack("rack", rack_config.load())
for key, value in rack.outputs.items():
    pulumi.export(key, value)
