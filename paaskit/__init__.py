"""paaskit: run your own Heroku-like platform on your own AWS account.

Reusable Pulumi components that compose into a self-contained rack, and the
settings models that configure them. The offline plan is in `paaskit.plan`,
its test fixture in `paaskit.testing`.
"""

from .network import Network, NetworkArgs
from .rack import Rack, RackArgs

__all__ = [
    "Network",
    "NetworkArgs",
    "Rack",
    "RackArgs",
]
