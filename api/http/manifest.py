"""A persisted query manifest as a safelist ("trusted documents").

The format is the one ``@apollo/generate-persisted-query-manifest`` writes (the web
app's build puts it in ``web/dist/persisted-query-manifest.json``)::

    {"format": "apollo-persisted-query-manifest", "version": 1,
     "operations": [{"id": "<sha256 of body>", "name": "Home", "type": "query",
                     "body": "query Home { ... }"}, ...]}

Each id must be the SHA-256 of its body (the generator's default), so that a client
sending the text, the hash, or both is checked the same way.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

MANIFEST_FORMAT = "apollo-persisted-query-manifest"


class ManifestError(ValueError):
    """The file is not a persisted query manifest the API can use."""


def load_manifest(path: Path) -> dict[str, str]:
    """The manifest's operations, as {id: body}."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(f"cannot read the manifest {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{path} is not JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != MANIFEST_FORMAT:
        raise ManifestError(f'{path} is not a manifest: expected "format": "{MANIFEST_FORMAT}"')
    if document.get("version") != 1:
        raise ManifestError(f"{path}: manifest version {document.get('version')!r}, expected 1")
    operations = document.get("operations")
    if not isinstance(operations, list):
        raise ManifestError(f'{path}: "operations" must be a list')
    return dict(_operation(path, index, op) for index, op in enumerate(operations))


def _operation(path: Path, index: int, operation: Any) -> tuple[str, str]:
    where = f"{path}: operations[{index}]"
    if not isinstance(operation, dict):
        raise ManifestError(f"{where} is not an object")
    digest, body = operation.get("id"), operation.get("body")
    if not isinstance(digest, str) or not isinstance(body, str):
        raise ManifestError(f'{where} needs a string "id" and "body"')
    if hashlib.sha256(body.encode("utf-8")).hexdigest() != digest.lower():
        raise ManifestError(
            f"{where} ({operation.get('name')}): the id is not the SHA-256 of the body; "
            "generate the manifest with the default createOperationId"
        )
    return digest.lower(), body
