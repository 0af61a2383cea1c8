"""The ERP's addresses: where a branch connects, and the name it asks for.

Every branch reaches the same ERP, named by ``--host`` (e.g.
``https://erp.pilot.test``), but it may connect somewhere else: a Toxiproxy
listener on 127.0.0.1 or the branch's own relay addressed by IP
(``vars.erp_url`` in the register). Traefik routes by the HTTP ``Host``
header and serves the certificate of the TLS server name (SNI), so both must
stay the ERP's name whatever address the connection goes to.
"""

from __future__ import annotations

from urllib.parse import urlsplit


class EndpointError(ValueError):
    pass


def base_url(url: str) -> str:
    """``scheme://host[:port][/path]`` without a trailing slash (paths are appended to it)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"}:
        raise EndpointError(f"{url!r} is not an http:// or https:// URL")
    if not parts.hostname:
        raise EndpointError(f"{url!r} has no host")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise EndpointError(f"{url!r}: {exc}") from None
    netloc = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"


def host_port(url: str) -> str:
    """``host:port`` of a URL (the scheme's default port when none is given), as Toxiproxy wants it."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{parts.port or (443 if parts.scheme == 'https' else 80)}"


def host_header(url: str) -> str:
    """The HTTP ``Host`` header a client of ``url`` sends: its host, and its port when not the default."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    default = ":443" if parts.scheme == "https" else ":80"
    return netloc.removesuffix(default)


def server_name(url: str) -> str:
    """The TLS server name (SNI) for ``url``: its host name; empty for an IP address (SNI carries no IPs)."""
    host = urlsplit(url).hostname or ""
    if ":" in host or host.replace(".", "").isdigit():
        return ""
    return host
