"""Refresh GraphiQL's vendored files (api/http/graphiql/static/) from the npm registry.

``make graphiql-assets``: for every entry of ``assets.json``, ``npm pack`` the pinned
package version, take the one file from the tarball and check it against the SRI
hash recorded there (the hash the upstream page pins) before writing it. A file whose
hash differs is refused: to move to another version, edit the entry's version and
run with ``--record`` to record the new file's hash.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GRAPHIQL = ROOT / "api" / "http" / "graphiql"
MANIFEST = GRAPHIQL / "assets.json"
STATIC = GRAPHIQL / "static"


def integrity(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def packed(package: str, version: str, workdir: Path) -> Path:
    """The package's tarball, from the npm registry (through npm's own client)."""
    result = subprocess.run(
        ["npm", "pack", f"{package}@{version}", "--silent", "--pack-destination", str(workdir)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"error: npm pack {package}@{version} failed: {result.stderr.strip()}")
    return workdir / result.stdout.strip().splitlines()[-1]


def extract(tarball: Path, path: str) -> bytes:
    with tarfile.open(tarball) as archive:
        member = archive.extractfile(f"package/{path}")
        if member is None:
            sys.exit(f"error: {tarball.name} has no file {path}")
        return member.read()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--record", action="store_true", help="record new hashes instead of refusing them"
    )
    args = parser.parse_args()
    entries: list[dict[str, Any]] = json.loads(MANIFEST.read_text())
    STATIC.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tarballs: dict[tuple[str, str], Path] = {}
        for entry in entries:
            key = (entry["package"], entry["version"])
            if key not in tarballs:
                tarballs[key] = packed(*key, Path(tmp))
            data = extract(tarballs[key], entry["path"])
            found = integrity(data)
            if found != entry["integrity"]:
                if not args.record:
                    sys.exit(
                        f"error: {entry['package']}@{entry['version']} {entry['path']} has "
                        f"hash {found}, not the recorded {entry['integrity']}; run with "
                        "--record only if you changed its version on purpose"
                    )
                entry["integrity"] = found
            (STATIC / entry["file"]).write_bytes(data)
            print(f"{entry['file']}: {len(data):,} bytes, {found}")
    if args.record:
        MANIFEST.write_text(json.dumps(entries, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
