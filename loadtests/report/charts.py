"""Inline SVG charts of the report: latency bands per tier over time, percentiles per group, and each
tier's SLI as the platform measured it next to the harness's own view.

Built as strings because SVG geometry is arithmetic, not markup; every text
that comes from the run (tier, drill and group names) is escaped here, and
the result is handed to the template as ``Markup``.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from loadtests.report.model import Bucket, DrillInfo, ErrorWindow, Group, SliSeries

TIER_COLORS = {
    "pos_sync": "#1f77b4",
    "inventory": "#2ca02c",
    "finance": "#9467bd",
    "reporting": "#ff7f0e",
    "integration": "#8c564b",
    "auth": "#7f7f7f",
}


def esc(v: object) -> str:
    return str(escape(str(v)))


def tier_chart(  # noqa: PLR0917
    tier: str,
    rows: list[Bucket],
    bucket_s: float,
    duration: float,
    drills: list[DrillInfo],
    windows: list[ErrorWindow],
) -> Markup:
    """Latency band (p50..p95, max dotted) over time, failures as bars, drills and error windows marked."""
    w, h, left, bottom, top = 900, 220, 60, 30, 10
    plot_w, plot_h = w - left - 10, h - bottom - top
    ymax = max([r.p95 or 0.0 for r in rows] + [r.max for r in rows] + [1.0]) * 1.1
    span = max(duration, bucket_s)

    def x(t: float) -> float:
        return left + plot_w * max(0.0, min(t, span)) / span

    def y(v: float) -> float:
        return top + plot_h * (1 - min(v, ymax) / ymax)

    color = TIER_COLORS.get(tier, "#444")
    parts = [
        f'<svg class="chart" data-tier="{esc(tier)}" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        f'xmlns="http://www.w3.org/2000/svg" role="img"><title>{esc(tier)} latency over time</title>'
    ]
    for win in windows:
        x0, x1 = x(win.start_s), x(win.end_s)
        parts.append(
            f'<rect class="error-window" x="{x0:.1f}" y="{top}" width="{max(x1 - x0, 2):.1f}" '
            f'height="{plot_h}" fill="#f4b4b4" opacity="0.6"><title>error window '
            f"{win.seconds:.1f}s</title></rect>"
        )
    pts = [(x(r.t + bucket_s / 2), r) for r in rows if r.count - r.failures > 0]
    if pts:
        upper = " ".join(f"{px:.1f},{y(r.p95 or 0.0):.1f}" for px, r in pts)
        lower = " ".join(f"{px:.1f},{y(r.p50 or 0.0):.1f}" for px, r in reversed(pts))
        parts.append(f'<polygon class="band" points="{upper} {lower}" fill="{color}" opacity="0.35"/>')
        parts.append(
            '<polyline class="p50" fill="none" stroke="{}" stroke-width="2" points="{}"/>'.format(
                color, " ".join(f"{px:.1f},{y(r.p50 or 0.0):.1f}" for px, r in pts)
            )
        )
        parts.append(
            '<polyline class="max" fill="none" stroke="{}" stroke-dasharray="2,3" points="{}"/>'.format(
                color, " ".join(f"{px:.1f},{y(r.max):.1f}" for px, r in pts)
            )
        )
    fmax = max([r.failures for r in rows] + [1])
    for r in rows:
        if r.failures:
            bh = 40 * r.failures / fmax
            parts.append(
                f'<rect class="failures" x="{x(r.t):.1f}" y="{top + plot_h - bh:.1f}" '
                f'width="{max(plot_w * bucket_s / span - 1, 1):.1f}" height="{bh:.1f}" fill="#b3261e">'
                f"<title>{r.failures} failed at {r.t:.0f}s</title></rect>"
            )
    for d in drills:
        if d.started_s is None:
            continue
        dx = x(d.started_s)
        parts.append(
            f'<line class="drill" x1="{dx:.1f}" x2="{dx:.1f}" y1="{top}" y2="{top + plot_h}" '
            f'stroke="#000" stroke-dasharray="5,3"/><text x="{dx + 3:.1f}" y="{top + 12}" '
            f'font-size="11">{esc(d.name)}</text>'
        )
    for i in range(5):
        v = ymax * i / 4
        parts.append(
            f'<text x="{left - 5}" y="{y(v) + 4:.1f}" font-size="10" text-anchor="end">{v:.0f}</text>'
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#e5e5e5"/>'
        )
    for i in range(6):
        t = span * i / 5
        parts.append(f'<text x="{x(t):.1f}" y="{h - 10}" font-size="10" text-anchor="middle">{t:.0f}s</text>')
    parts.append(
        f'<text x="12" y="{top + plot_h / 2:.0f}" font-size="10" transform="rotate(-90 12,'
        f'{top + plot_h / 2:.0f})">ms</text></svg>'
    )
    return Markup("".join(parts))


def bar_chart(title: str, values: dict[str, Group]) -> Markup:
    """p50 / p95 / p99 per group (link class) as grouped bars."""
    w, row_h, left = 900, 26, 140
    names = list(values)
    h = 20 + row_h * len(names) * 3 + 10
    vmax = max([v.p99_ms or 0.0 for v in values.values()] + [1.0])
    parts = [
        f'<svg class="chart bars" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        f'xmlns="http://www.w3.org/2000/svg" role="img"><title>{esc(title)}</title>'
    ]
    yy = 15
    for name in names:
        for q, shade in (("p50_ms", "#9ecae1"), ("p95_ms", "#4292c6"), ("p99_ms", "#08519c")):
            value = float(getattr(values[name], q) or 0.0)
            bw = (w - left - 80) * value / vmax
            parts.append(
                f'<text x="{left - 6}" y="{yy + 14}" font-size="11" text-anchor="end">'
                f'{esc(name)} {q[:3]}</text><rect x="{left}" y="{yy + 2}" width="{bw:.1f}" height="18" '
                f'fill="{shade}"/><text x="{left + bw + 4:.1f}" y="{yy + 15}" font-size="11">'
                f"{value:.0f} ms</text>"
            )
            yy += row_h
    parts.append("</svg>")
    return Markup("".join(parts))


PLATFORM_DASHES = ("6,3", "2,2", "8,2,2,2")


def sli_chart(  # noqa: PLR0917
    tier: str,
    metric: str,
    unit: str,
    harness: list[tuple[float, float]],
    platform: list[SliSeries],
    duration: float,
    drills: list[DrillInfo],
) -> Markup:
    """One SLI of one tier over the run: the harness's line (solid, the tier's colour) and the
    platform's series (dashed, black), on the run's time axis, drills marked."""
    w, h, left, bottom, top = 900, 180, 60, 30, 22
    plot_w, plot_h = w - left - 10, h - bottom - top
    values = [v for _t, v in harness] + [v for s in platform for _t, v in s.points]
    ymax = max([*values, 0.0]) * 1.1 or 1.0
    span = max(duration, 1.0)

    def x(t: float) -> float:
        return left + plot_w * max(0.0, min(t, span)) / span

    def y(v: float) -> float:
        return top + plot_h * (1 - max(0.0, min(v, ymax)) / ymax)

    def tick(v: float) -> str:
        return f"{v:.0f}" if ymax >= 20 else f"{v:.2g}"

    color = TIER_COLORS.get(tier, "#444")
    parts = [
        f'<svg class="chart sli" data-tier="{esc(tier)}" data-metric="{esc(metric)}" width="{w}" '
        f'height="{h}" viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg" role="img">'
        f"<title>{esc(tier)} {esc(metric)}: platform and harness</title>"
    ]
    for i in range(5):
        v = ymax * i / 4
        parts.append(
            f'<text x="{left - 5}" y="{y(v) + 4:.1f}" font-size="10" text-anchor="end">{tick(v)}</text>'
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#e5e5e5"/>'
        )
    for i in range(6):
        t = span * i / 5
        parts.append(f'<text x="{x(t):.1f}" y="{h - 10}" font-size="10" text-anchor="middle">{t:.0f}s</text>')
    for d in drills:
        if d.started_s is not None:
            dx = x(d.started_s)
            parts.append(
                f'<line class="drill" x1="{dx:.1f}" x2="{dx:.1f}" y1="{top}" y2="{top + plot_h}" '
                f'stroke="#000" stroke-dasharray="5,3" opacity="0.5"/>'
            )
    if harness:
        pts = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in harness)
        parts.append(
            f'<polyline class="harness" fill="none" stroke="{color}" stroke-width="2" points="{pts}"/>'
        )
    for i, series in enumerate(platform):
        if series.points:
            pts = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in series.points)
            dash = PLATFORM_DASHES[i % len(PLATFORM_DASHES)]
            parts.append(
                f'<polyline class="platform" fill="none" stroke="#111" stroke-width="1.5" '
                f'stroke-dasharray="{dash}" points="{pts}">'
                f"<title>platform {esc(series.label)}</title></polyline>"
            )
    labels = ", ".join(s.label for s in platform if s.label)
    if platform:
        legend = f"harness (solid), platform{' ' + esc(labels) if labels else ''} (dashed)"
    else:
        legend = "harness (solid); the platform has no series for this tier"
    parts.append(
        f'<text x="{left}" y="14" font-size="11">{esc(metric)} ({esc(unit)}): {legend}</text>'
        f'<text x="12" y="{top + plot_h / 2:.0f}" font-size="10" transform="rotate(-90 12,'
        f'{top + plot_h / 2:.0f})">{esc(unit)}</text></svg>'
    )
    return Markup("".join(parts))
