"""Each tier's SLI as the platform measured it, next to what the branches felt (the report's SLI plots).

The platform's side is its recording rules (``roles/prometheus/files/rules/slo.yml``, from
Traefik's router metrics): the 5-minute error ratio and p95 latency per tier, read with
``query_range`` over the run at the step of the harness's own time series. The harness's side
is that time series (``analysis.time_series``): failed calls per bucket and the p95 of the
successful ones. Information only: no gate reads the platform's SLIs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from loadtests.prometheus import Prometheus, PrometheusError
from loadtests.report.model import Sli, SliSeries, SliTier

# what the platform records per tier (labels region and tier), and the factor to the plot's unit
QUERIES = {
    "error_pct": ("tier:retailops_errors:ratio_rate5m", 100.0),
    "p95_ms": ("tier:retailops_latency_seconds:p95_5m", 1000.0),
}


def harness_series(timeseries: Mapping[str, Any]) -> dict[str, SliTier]:
    """The harness's error rate (%) and p95 (ms) per tier and bucket, at the bucket's middle."""
    width = float(timeseries["bucket_s"])
    out: dict[str, SliTier] = {}
    for tier, rows in timeseries["tiers"].items():
        errors = [(r["t"] + width / 2, 100.0 * r["failures"] / r["count"]) for r in rows if r["count"]]
        p95 = [(r["t"] + width / 2, float(r["p95"])) for r in rows if r["count"] > r["failures"]]
        out[tier] = SliTier(harness_error_pct=errors, harness_p95_ms=p95)
    return out


def _label(metric: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(metric.items()) if k not in ("__name__", "tier"))


def platform_sli(prometheus: Prometheus, start: float, end: float, timeseries: Mapping[str, Any]) -> Sli:
    """The platform's series per tier over ``start``..``end`` beside the harness's; an unreadable
    Prometheus is reported in ``error`` (the report says so), never raised."""
    step = max(1.0, float(timeseries["bucket_s"]))
    tiers = harness_series(timeseries)
    sli = Sli(
        source=prometheus.base_url, queries={k: q for k, (q, _f) in QUERIES.items()}, step_s=step, tiers=tiers
    )
    try:
        for key, (query, factor) in QUERIES.items():
            for series in prometheus.query_range(query, start, end, step):
                metric = series.get("metric") or {}
                tier = str(metric.get("tier", ""))
                points = []
                for ts, value in series.get("values") or []:
                    v = float(value)
                    if math.isfinite(v):
                        points.append((round(float(ts) - start, 1), v * factor))
                entry = tiers.setdefault(tier, SliTier())
                getattr(entry, f"platform_{key}").append(SliSeries(label=_label(metric), points=points))
    except (PrometheusError, ValueError, TypeError) as exc:
        sli.error = str(exc)
    sli.tiers = dict(sorted(tiers.items()))
    return sli
