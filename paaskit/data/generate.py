"""Generate ``paaskit/data/instance_types.json`` from the EC2 data that moto ships.

Run ``python -m paaskit.data.generate`` after upgrading moto; ``--check`` exits 1
when the shipped file differs from what the installed moto would produce (for CI).

moto keeps AWS's own DescribeInstanceTypes answers for ~1400 types in
``moto/ec2/resources/instance_types.json.gz``. paaskit needs a small slice of it
to pick equivalent instance types offline (see ``paaskit.instance_types``), so
the catalogue is never edited by hand: this script is its only author.

What is kept, and why:

- Only types an ECS container instance can run on: a Linux architecture
  (``x86_64`` or ``arm64``; Mac hosts and 32-bit-only types are dropped),
  HVM virtualisation and an EBS root volume (the ECS-optimised AMIs are EBS-backed HVM).
- GPU, bare-metal, on-demand-only and previous-generation types stay in the file
  with a flag each, so that a type a user names is still known (its architecture,
  a precise error) even though it is never picked as a spot alternative.
- Per type: the columns in ``COLUMNS``. Values are copied as AWS reports them;
  in particular ``current`` is AWS's ``CurrentGeneration`` flag, whatever one
  may think of it for a given family.

The output is deterministic: rows sorted by name, one row per line, the moto
version it came from, no timestamp, so a regeneration with the same moto is
byte-identical and a hand edit shows up as a diff.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.metadata
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "COLUMNS",
    "OUTPUT",
    "build",
    "generate",
    "load_moto_data",
    "main",
    "moto_data_path",
    "moto_version",
    "render",
    "row",
]

#: Column names of each row, in order. ``paaskit.instance_types`` checks them on load.
COLUMNS: tuple[str, ...] = (
    "name",  # API name, e.g. "m6i.large"
    "family",  # the part before the dot, e.g. "m6i"
    "vcpus",  # default vCPUs
    "memory_mib",
    "architecture",  # "x86_64" or "arm64"
    "burstable",  # BurstablePerformanceSupported (T2/T3/T3a/T4g CPU credits)
    "current",  # CurrentGeneration as AWS reports it
    "spot",  # "spot" in SupportedUsageClasses
    "accelerators",  # any GPU, FPGA, inference, Neuron or media accelerator
    "bare_metal",
    "network",  # NetworkPerformance, e.g. "Up to 12.5 Gigabit"
    "storage_gb",  # total local instance-store size, 0 when EBS only
)

#: Where the catalogue lives, relative to this file.
OUTPUT = Path(__file__).with_name("instance_types.json")

_ACCELERATOR_KEYS = (
    "GpuInfo",
    "FpgaInfo",
    "InferenceAcceleratorInfo",
    "NeuronInfo",
    "MediaAcceleratorInfo",
)


def moto_data_path() -> Path:
    """The gzipped DescribeInstanceTypes data inside the installed moto."""
    import moto  # a dev dependency: the catalogue is generated, never built at run time

    return Path(moto.__file__).parent / "ec2" / "resources" / "instance_types.json.gz"


def moto_version() -> str:
    return importlib.metadata.version("moto")


def load_moto_data(path: Path | None = None) -> dict[str, dict[str, Any]]:
    """moto's raw records, keyed by instance type name."""
    with gzip.open(path or moto_data_path(), "rt", encoding="utf-8") as f:
        data: dict[str, dict[str, Any]] = json.load(f)
    return data


def _architecture(record: Mapping[str, Any]) -> str | None:
    architectures = record.get("ProcessorInfo", {}).get("SupportedArchitectures", [])
    if "x86_64" in architectures:
        return "x86_64"
    if "arm64" in architectures:
        return "arm64"
    return None  # i386-only, x86_64_mac, arm64_mac: not an ECS Linux host


def row(record: Mapping[str, Any]) -> list[Any] | None:
    """One catalogue row for a moto record, or None when the type is not a usable Linux host."""
    architecture = _architecture(record)
    if architecture is None:
        return None
    if "hvm" not in record.get("SupportedVirtualizationTypes", []):
        return None
    if "ebs" not in record.get("SupportedRootDeviceTypes", []):
        return None
    name = str(record["InstanceType"])
    return [
        name,
        name.split(".", 1)[0],
        int(record["VCpuInfo"]["DefaultVCpus"]),
        int(record["MemoryInfo"]["SizeInMiB"]),
        architecture,
        bool(record.get("BurstablePerformanceSupported", False)),
        bool(record.get("CurrentGeneration", False)),
        "spot" in record.get("SupportedUsageClasses", []),
        any(key in record for key in _ACCELERATOR_KEYS),
        bool(record.get("BareMetal", False)),
        str(record.get("NetworkInfo", {}).get("NetworkPerformance", "")),
        int(record.get("InstanceStorageInfo", {}).get("TotalSizeInGB", 0)),
    ]


def build(raw: Mapping[str, Mapping[str, Any]], version: str) -> dict[str, Any]:
    """The catalogue as a JSON-ready mapping (pure: same input, same output)."""
    rows = [r for r in (row(record) for record in raw.values()) if r is not None]
    rows.sort(key=lambda r: str(r[0]))
    return {
        "source": "AWS DescribeInstanceTypes data as shipped by moto "
        "(moto/ec2/resources/instance_types.json.gz)",
        "moto_version": version,
        "generator": "python -m paaskit.data.generate",
        "columns": list(COLUMNS),
        "types": rows,
    }


def render(catalogue: Mapping[str, Any]) -> str:
    """Stable text: compact JSON, one instance type per line, so diffs stay readable."""

    def dump(value: object) -> str:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=True)

    head = [f"{dump(key)}:{dump(value)}" for key, value in catalogue.items() if key != "types"]
    rows: Sequence[Any] = catalogue["types"]
    body = ",\n".join(dump(r) for r in rows)
    return "{" + ",\n".join(head) + ',\n"types":[\n' + body + "\n]}\n"


def generate(path: Path | None = None, version: str | None = None) -> str:
    """The catalogue text for the installed moto (or the given data file and version)."""
    return render(build(load_moto_data(path), version or moto_version()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 if the shipped catalogue differs from a regeneration",
    )
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where to write")
    args = parser.parse_args(argv)
    catalogue = build(load_moto_data(), moto_version())
    text = render(catalogue)
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date; run python -m paaskit.data.generate")
            return 1
        print(f"{args.output} is up to date (moto {moto_version()})")
        return 0
    args.output.write_text(text, encoding="utf-8")
    count = len(catalogue["types"])
    print(f"wrote {args.output}: {count} instance types from moto {moto_version()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
