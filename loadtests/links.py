"""Link profiles per link class, expressed as Toxiproxy toxics.

A branch reaches the ERP over a VPN on one of the register's link classes
(``LINK_CLASSES``: fiber, broadband, LTE); a chosen share of LTE branches
also flaps (the link goes down for ``flap_down`` seconds every
``flap_period``). Latency is a round trip: half of it is added
to each direction so that TCP handshakes and request/response pairs both pay
it, as on a real link. Bandwidth is in KB/s per direction (Toxiproxy's unit).
"""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from loadtests.collection import LINK_CLASSES

FLAPPING = "lte_flapping"  # an LTE link that goes down now and then: a profile of its own


class LinkProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rtt_ms: int = Field(ge=0, le=60000)
    jitter_ms: int = Field(default=0, ge=0, le=60000)
    down_kbps: int | None = Field(default=None, gt=0)  # server -> branch, KB/s
    up_kbps: int | None = Field(default=None, gt=0)  # branch -> server, KB/s
    reset_toxicity: float = Field(default=0.0, ge=0.0, le=1.0)  # share of connections reset


DEFAULT_PROFILES: dict[str, LinkProfile] = {
    "fiber": LinkProfile(rtt_ms=8, jitter_ms=2),
    # 20/5 Mbit/s ADSL/VDSL-like
    "broadband": LinkProfile(rtt_ms=30, jitter_ms=8, down_kbps=2500, up_kbps=625),
    # 10/2 Mbit/s 4G with its usual jitter
    "lte": LinkProfile(rtt_ms=70, jitter_ms=30, down_kbps=1250, up_kbps=250),
    "lte_flapping": LinkProfile(rtt_ms=90, jitter_ms=45, down_kbps=750, up_kbps=160),
}


def toxics_for(profile: LinkProfile) -> list[dict[str, Any]]:
    """The Toxiproxy toxics (POST /proxies/{p}/toxics bodies) that make a link."""
    toxics: list[dict[str, Any]] = []
    half_rtt = profile.rtt_ms // 2
    half_jitter = profile.jitter_ms // 2
    if profile.rtt_ms or profile.jitter_ms:
        for stream in ("upstream", "downstream"):
            toxics.append(
                {
                    "name": f"latency_{stream}",
                    "type": "latency",
                    "stream": stream,
                    "toxicity": 1.0,
                    "attributes": {"latency": half_rtt, "jitter": half_jitter},
                }
            )
    for stream, rate in (("downstream", profile.down_kbps), ("upstream", profile.up_kbps)):
        if rate:
            toxics.append(
                {
                    "name": f"bandwidth_{stream}",
                    "type": "bandwidth",
                    "stream": stream,
                    "toxicity": 1.0,
                    "attributes": {"rate": rate},
                }
            )
    if profile.reset_toxicity > 0:
        toxics.append(
            {
                "name": "reset_peer",
                "type": "reset_peer",
                "stream": "downstream",
                "toxicity": profile.reset_toxicity,
                "attributes": {"timeout": 0},
            }
        )
    return toxics


def profiles_with(overrides: dict[str, LinkProfile]) -> dict[str, LinkProfile]:
    return {**DEFAULT_PROFILES, **overrides}


def _rank(key: str, salt: str) -> float:
    digest = hashlib.sha256(f"{salt}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_link_classes(
    codes: list[str],
    shares: dict[str, float],
    flapping_share: float,
    fixed: dict[str, str] | None = None,
    salt: str = "links",
) -> dict[str, str]:
    """Give each branch a link class.

    Branches whose register entry names a link class (``fixed``) keep it;
    the others are dealt out by ``shares`` in a stable, hash-ordered way so
    the same register and scenario always give the same assignment. Then
    ``flapping_share`` of the LTE branches (at least one when the share is
    positive) become ``lte_flapping``.
    """
    fixed = dict(fixed or {})
    free = sorted((c for c in codes if c not in fixed), key=lambda c: _rank(c, salt))
    result = dict(fixed)
    classes = [c for c in LINK_CLASSES if shares.get(c, 0) > 0]
    # largest-remainder apportionment of the free branches
    quotas = {c: shares[c] * len(free) for c in classes}
    counts = {c: int(q) for c, q in quotas.items()}
    leftover = len(free) - sum(counts.values())
    for c in sorted(classes, key=lambda c: quotas[c] - counts[c], reverse=True)[:leftover]:
        counts[c] += 1
    i = 0
    for c in classes:
        for code in free[i : i + counts[c]]:
            result[code] = c
        i += counts[c]
    lte = sorted((c for c in codes if result.get(c) == "lte"), key=lambda c: _rank(c, salt + ":flap"))
    if flapping_share > 0 and lte:
        n = max(1, round(flapping_share * len(lte)))
        for code in lte[:n]:
            result[code] = FLAPPING
    return {c: result[c] for c in codes}
