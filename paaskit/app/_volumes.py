"""An app's `volumes`: where each lives, and how a task definition mounts it.

A path alone (`/data`) is the service's own storage and `name:/data` the
app's, shared by every service that mounts `name` (Convox v3's rule; v2 shared
a path alone too); both live on the app's EFS file system (`paaskit.volume`),
each in a directory of its own behind an access point. `host:/path` with one
of the node's paths (`HOST_PATHS`) mounts the node's own, for agents.

A volume's directory is named once and for all by what the manifest writes
(the service and path, or the shared name), with a hash of it so that two
spellings never meet: `/services/web/app-content-<hash>`, `/shared/files-<hash>`.
Renaming a service or a path is a new, empty volume; the old files stay in
the file system.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from paaskit.manifest import Manifest, Service, Volume

__all__ = [
    "container_mounts",
    "efs_volume_keys",
    "volume_directories",
    "volume_directory",
    "volume_name",
]

_MAX_PATH = 100
_SLUG = re.compile(r"[^A-Za-z0-9_-]+")


def _slug(text: str, room: int) -> str:
    slug = _SLUG.sub("-", text).strip("-_") or "volume"
    return slug[: max(room, 1)].rstrip("-_") or "v"


def volume_directory(service: str, volume: Volume) -> str:
    """The directory of an EFS volume in the app's file system (at most 100 characters and
    four levels, EFS's access point limits)."""
    key = volume.key(service)
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    if volume.kind == "service":
        head = f"/services/{_slug(service, 40)}/"
        name = volume.path
    else:
        head = "/shared/"
        name = str(volume.source)
    room = _MAX_PATH - len(head) - len(digest) - 1
    return f"{head}{_slug(name, room)}-{digest}"


def efs_volume_keys(manifest: Manifest) -> dict[str, list[tuple[str, Volume]]]:
    """Every EFS volume of the app by its key, with the (service, volume entry) that mount it."""
    keys: dict[str, list[tuple[str, Volume]]] = {}
    for name, service in manifest.services.items():
        for volume in service.volumes:
            if volume.kind != "host":
                keys.setdefault(volume.key(name), []).append((name, volume))
    return keys


def volume_directories(manifest: Manifest) -> dict[str, str]:
    """Each EFS volume of the app (by key) and its directory in the file system."""
    return {
        key: volume_directory(*uses[0]) for key, uses in sorted(efs_volume_keys(manifest).items())
    }


def volume_name(service: Service, index: int) -> str:
    """A task definition's name for the service's `index`th volume (letters, digits, - and _)."""
    volume = service.volumes[index]
    kind = {"service": "data", "shared": "shared", "host": "host"}[volume.kind]
    return f"{kind}-{index}"


def container_mounts(
    service: Service,
    file_system_id: str | None,
    access_points: Mapping[str, str],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the task definition's `volumes`, the container's `mountPoints`) of a service.

    EFS volumes mount through their access point, with TLS and the task role (IAM
    authorization); host volumes mount the node's path.
    """
    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    for i, volume in enumerate(service.volumes):
        name = volume_name(service, i)
        if volume.kind == "host":
            volumes.append({"name": name, "host_path": volume.source})
        else:
            assert file_system_id is not None
            volumes.append(
                {
                    "name": name,
                    "efs_volume_configuration": {
                        "file_system_id": file_system_id,
                        "transit_encryption": "ENABLED",
                        "authorization_config": {
                            "access_point_id": access_points[volume.key(service.name)],
                            "iam": "ENABLED",
                        },
                    },
                }
            )
        mounts.append(
            {"sourceVolume": name, "containerPath": volume.path, "readOnly": volume.read_only}
        )
    return volumes, mounts
