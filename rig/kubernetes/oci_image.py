"""Write a directory as a single-layer OCI image archive, with no registry and no Docker.

    python3 oci_image.py ROOTFS NAME:TAG OUT.tar [--entrypoint ARG ...] [--cmd ARG ...]

containerd loads the archive with `ctr -n k8s.io images import OUT.tar` under
NAME:TAG (the io.containerd.image.name annotation). The archive is
reproducible: sorted entries, every time stamp zero, owners kept numeric.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import tarfile
import tempfile
from pathlib import Path
from typing import Any


def _zero_mtime(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mtime = 0
    info.uname = info.gname = ""
    return info


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o444, 0
    archive.addfile(info, io.BytesIO(data))


def _add_blob(archive: tarfile.TarFile, document: dict[str, Any]) -> tuple[str, int]:
    data = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256(data).hexdigest()
    _add_bytes(archive, f"blobs/sha256/{digest}", data)
    return f"sha256:{digest}", len(data)


def write_layer(rootfs: Path, layer: Path) -> None:
    """The rootfs as one uncompressed layer; tarfile keeps links, modes and owners."""
    with tarfile.open(layer, "w", format=tarfile.PAX_FORMAT) as tar:
        for root, dirs, files in os.walk(rootfs):
            dirs.sort()
            for name in sorted(dirs + files):
                path = Path(root) / name
                tar.add(path, str(path.relative_to(rootfs)), recursive=False, filter=_zero_mtime)


def write_image(
    rootfs: Path, ref: str, out: Path, entrypoint: list[str] | None, cmd: list[str] | None
) -> str:
    """Write OUT; return the manifest digest."""
    if not rootfs.is_dir():
        raise SystemExit(f"oci_image: ROOTFS {rootfs} is not a directory")
    if ":" not in ref.rsplit("/", 1)[-1]:
        raise SystemExit(f"oci_image: NAME:TAG {ref!r} has no tag")
    config: dict[str, Any] = {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}
    if entrypoint is not None:
        config["Entrypoint"] = entrypoint
    if cmd is not None:
        config["Cmd"] = cmd
    with tempfile.TemporaryDirectory(dir=out.parent) as scratch:
        layer = Path(scratch) / "layer.tar"
        write_layer(rootfs, layer)
        hasher = hashlib.sha256()
        with layer.open("rb") as stream:
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                hasher.update(chunk)
        layer_digest = f"sha256:{hasher.hexdigest()}"
        partial = out.with_name(out.name + ".partial")
        with tarfile.open(partial, "w") as archive:
            archive.add(layer, f"blobs/sha256/{hasher.hexdigest()}", filter=_zero_mtime)
            config_digest, config_size = _add_blob(
                archive,
                {
                    "architecture": "amd64",
                    "os": "linux",
                    "config": config,
                    "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
                },
            )
            manifest_digest, manifest_size = _add_blob(
                archive,
                {
                    "schemaVersion": 2,
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {
                        "mediaType": "application/vnd.oci.image.config.v1+json",
                        "digest": config_digest,
                        "size": config_size,
                    },
                    "layers": [
                        {
                            "mediaType": "application/vnd.oci.image.layer.v1.tar",
                            "digest": layer_digest,
                            "size": layer.stat().st_size,
                        }
                    ],
                },
            )
            index = {
                "schemaVersion": 2,
                "manifests": [
                    {
                        "mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "digest": manifest_digest,
                        "size": manifest_size,
                        "platform": {"architecture": "amd64", "os": "linux"},
                        "annotations": {
                            "io.containerd.image.name": ref,
                            "org.opencontainers.image.ref.name": ref.rsplit(":", 1)[1],
                        },
                    }
                ],
            }
            _add_bytes(archive, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
            _add_bytes(archive, "index.json", json.dumps(index, sort_keys=True).encode())
        partial.replace(out)
    return manifest_digest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("rootfs", type=Path)
    parser.add_argument("ref", help="NAME:TAG the image is imported under")
    parser.add_argument("out", type=Path)
    parser.add_argument("--entrypoint", nargs="+", default=None)
    parser.add_argument("--cmd", nargs="+", default=None)
    args = parser.parse_args()
    digest = write_image(args.rootfs, args.ref, args.out.resolve(), args.entrypoint, args.cmd)
    print(f"{args.out}: {args.ref} manifest {digest}")


if __name__ == "__main__":
    main()
