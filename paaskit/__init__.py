"""paaskit: run your own Heroku-like platform on your own AWS account.

Reusable Pulumi components that compose into a self-contained rack, and the
settings models that configure them. The offline plan is in `paaskit.plan`,
its test fixture in `paaskit.testing`, the app manifest in `paaskit.manifest`,
the exceptions in `paaskit.errors`; `docs/` describes each component.
"""

# First: loads pulumi_aws without the deprecation warnings of modules paaskit never uses.
from . import _providers  # noqa: F401  (isort: skip)
from .app import App, AppArgs
from .cache import Cache, CacheArgs, CacheSettings
from .cdn import Cdn, CdnArgs, CdnSettings, Edge, EdgeArgs, EdgeSettings
from .cluster import SpotCluster, SpotClusterArgs, SpotClusterSettings
from .database import Database, DatabaseArgs, DatabaseSettings
from .loadbalancer import LoadBalancer, LoadBalancerArgs, LoadBalancerSettings
from .network import Network, NetworkArgs
from .rack import Rack, RackArgs, RackInfo, RackRef
from .volume import Volume, VolumeArgs, VolumeSettings

__all__ = [
    "App",
    "AppArgs",
    "Cache",
    "CacheArgs",
    "CacheSettings",
    "Cdn",
    "CdnArgs",
    "CdnSettings",
    "Database",
    "DatabaseArgs",
    "DatabaseSettings",
    "Edge",
    "EdgeArgs",
    "EdgeSettings",
    "LoadBalancer",
    "LoadBalancerArgs",
    "LoadBalancerSettings",
    "Network",
    "NetworkArgs",
    "Rack",
    "RackArgs",
    "RackInfo",
    "RackRef",
    "SpotCluster",
    "SpotClusterArgs",
    "SpotClusterSettings",
    "Volume",
    "VolumeArgs",
    "VolumeSettings",
]
