"""Name the Odoo under test before any traffic: its version_info and the operator's label.

``/web/webclient/version_info`` is a JSON-RPC route with ``auth='none'`` in
Odoo 18: it answers without a login or a database. The label (``--odoo-label``)
says what the server is, which the version alone cannot tell apart (e.g. the
protocol double and the official image both say 18.0). A run whose target
does not answer this call is not started.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
from urllib3.exceptions import InsecureRequestWarning

from loadtests.odoo_client import OdooClient, OdooRpcError

VERSION_PATH = "/web/webclient/version_info"


class VersionProbeError(RuntimeError):
    pass


@dataclass(frozen=True)
class OdooUnderTest:
    label: str  # --odoo-label, "" when not given
    url: str  # where version_info was asked (--host)
    server_version: str
    server_version_info: list[Any]
    version_info: dict[str, Any] = field(default_factory=dict)  # the whole reply
    checked_at: str = ""

    @property
    def short(self) -> str:
        return f"Odoo {self.server_version}"

    def describe(self) -> str:
        """``<label> (server_version X, server_version_info [...])``."""
        label = self.label or "unlabelled (no --odoo-label)"
        info = json.dumps(self.server_version_info)
        return f"{label} (server_version {self.server_version}, server_version_info {info})"

    def line(self) -> str:
        return f"Odoo under test: {self.describe()} at {self.url}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "url": self.url,
            "endpoint": VERSION_PATH,
            "server_version": self.server_version,
            "server_version_info": self.server_version_info,
            "version_info": self.version_info,
            "checked_at": self.checked_at,
            "text": self.describe(),
        }


def probe(host: str, label: str = "", timeout: float = 15.0, verify: bool | str = True) -> OdooUnderTest:
    """Ask ``host`` for its version_info; VersionProbeError says why it could not be named."""
    url = host.rstrip("/") + VERSION_PATH
    client = OdooClient(host, "", timeout=timeout, verify=verify)
    try:
        with warnings.catch_warnings():
            if verify is False:  # asked for (--insecure): no warning on every call
                warnings.simplefilter("ignore", InsecureRequestWarning)
            result = client.call(VERSION_PATH, {})
    except OdooRpcError as exc:
        raise VersionProbeError(f"POST {url}: JSON-RPC error {exc.code}: {exc.message}") from exc
    except requests.HTTPError as exc:
        text = exc.response.text.strip()[:200] if exc.response is not None else ""
        status = exc.response.status_code if exc.response is not None else "?"
        raise VersionProbeError(f"POST {url}: HTTP {status} {text}") from exc
    except requests.RequestException as exc:
        raise VersionProbeError(f"POST {url}: {type(exc).__name__}: {exc}") from exc
    if not isinstance(result, dict) or not result.get("server_version"):
        raise VersionProbeError(f"POST {url}: no server_version in the reply: {str(result)[:200]}")
    return OdooUnderTest(
        label=label,
        url=host,
        server_version=str(result["server_version"]),
        server_version_info=list(result.get("server_version_info") or []),
        version_info=result,
        checked_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
