"""JSON schemas of tap-twilio's streams, one ``<stream>.json`` per stream.

The files are generated from Twilio's OpenAPI specs by ``scripts/generate_schemas.py``; do not edit
them by hand (``python scripts/generate_schemas.py <twilio-oai dir> --check`` finds drift).
Usable as an SDK schema source: ``StreamSchema(SchemaDirectory(tap_twilio.schemas))``.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

__all__ = ["load_schema", "stream_names"]


def stream_names() -> list[str]:
    """Names of the streams that have a schema file, sorted."""
    return sorted(
        entry.name[: -len(".json")]
        for entry in resources.files(__name__).iterdir()
        if entry.name.endswith(".json")
    )


def load_schema(stream_name: str) -> dict[str, Any]:
    """The JSON schema of `stream_name` (a fresh dict on every call)."""
    resource = resources.files(__name__).joinpath(f"{stream_name}.json")
    if not resource.is_file():
        raise KeyError(f"no schema for stream {stream_name!r}")
    schema: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    return schema
