"""One self-contained HTML page: inline CSS and SVG, no scripts from anywhere else."""

from __future__ import annotations

import html
import json
from typing import Any

from loadtests.ledger import TOTALS

TIER_COLORS = {
    "pos_sync": "#1f77b4",
    "inventory": "#2ca02c",
    "finance": "#9467bd",
    "reporting": "#ff7f0e",
    "integration": "#8c564b",
    "auth": "#7f7f7f",
}
CSS = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{margin-bottom:4px} .go{color:#fff;background:#2a7d2e;padding:4px 12px;border-radius:4px}
.nogo{color:#fff;background:#b3261e;padding:4px 12px;border-radius:4px}
table{border-collapse:collapse;margin:8px 0 20px}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f3f3f3} td:first-child,th:first-child{text-align:left}
.fail{background:#fde7e7} .pass{background:#e8f5e9} .muted{color:#666;font-size:90%}
svg{background:#fafafa;border:1px solid #ddd;margin:4px 0 16px}
.sut{font-size:115%;background:#eef4fb;border-left:6px solid #1f77b4;padding:8px 12px;margin:12px 0}
.sut code{font-size:95%}
"""


def esc(v: object) -> str:
    return html.escape(str(v))


def _table(headers: list[str], rows: list[list[object]], row_class: list[str] | None = None) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{row_class[i]}"' if row_class else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _fmt(v: Any, digits: int = 0) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def tier_chart(  # noqa: PLR0917
    tier: str,
    rows: list[dict[str, float]],
    bucket_s: float,
    duration: float,
    drills: list[dict[str, Any]],
    windows: list[dict[str, Any]],
) -> str:
    """Latency band (p50..p95, max dotted) over time, failures as bars, drills and error windows marked."""
    w, h, left, bottom, top = 900, 220, 60, 30, 10
    plot_w, plot_h = w - left - 10, h - bottom - top
    ymax = max([r["p95"] for r in rows] + [r["max"] for r in rows] + [1.0]) * 1.1
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
        x0, x1 = x(win["start_s"]), x(win["end_s"])
        parts.append(
            f'<rect class="error-window" x="{x0:.1f}" y="{top}" width="{max(x1 - x0, 2):.1f}" '
            f'height="{plot_h}" fill="#f4b4b4" opacity="0.6"><title>error window '
            f"{win['seconds']:.1f}s</title></rect>"
        )
    pts = [(x(r["t"] + bucket_s / 2), r) for r in rows if r["count"] - r["failures"] > 0]
    if pts:
        upper = " ".join(f"{px:.1f},{y(r['p95']):.1f}" for px, r in pts)
        lower = " ".join(f"{px:.1f},{y(r['p50']):.1f}" for px, r in reversed(pts))
        parts.append(f'<polygon class="band" points="{upper} {lower}" fill="{color}" opacity="0.35"/>')
        parts.append(
            '<polyline class="p50" fill="none" stroke="{}" stroke-width="2" points="{}"/>'.format(
                color, " ".join(f"{px:.1f},{y(r['p50']):.1f}" for px, r in pts)
            )
        )
        parts.append(
            '<polyline class="max" fill="none" stroke="{}" stroke-dasharray="2,3" points="{}"/>'.format(
                color, " ".join(f"{px:.1f},{y(r['max']):.1f}" for px, r in pts)
            )
        )
    fmax = max([r["failures"] for r in rows] + [1])
    for r in rows:
        if r["failures"]:
            bh = 40 * r["failures"] / fmax
            parts.append(
                f'<rect class="failures" x="{x(r["t"]):.1f}" y="{top + plot_h - bh:.1f}" '
                f'width="{max(plot_w * bucket_s / span - 1, 1):.1f}" height="{bh:.1f}" fill="#b3261e">'
                f"<title>{int(r['failures'])} failed at {r['t']:.0f}s</title></rect>"
            )
    for d in drills:
        if d.get("started_s") is None:
            continue
        dx = x(d["started_s"])
        parts.append(
            f'<line class="drill" x1="{dx:.1f}" x2="{dx:.1f}" y1="{top}" y2="{top + plot_h}" '
            f'stroke="#000" stroke-dasharray="5,3"/><text x="{dx + 3:.1f}" y="{top + 12}" '
            f'font-size="11">{esc(d["name"])}</text>'
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
    return "".join(parts)


def bar_chart(title: str, values: dict[str, dict[str, Any]]) -> str:
    """p50 / p95 / p99 per group (link class) as grouped bars."""
    w, row_h, left = 900, 26, 140
    names = list(values)
    h = 20 + row_h * len(names) * 3 + 10
    vmax = max([v["p99_ms"] for v in values.values()] + [1.0])
    parts = [
        f'<svg class="chart bars" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        f'xmlns="http://www.w3.org/2000/svg" role="img"><title>{esc(title)}</title>'
    ]
    yy = 15
    for name in names:
        for q, shade in (("p50_ms", "#9ecae1"), ("p95_ms", "#4292c6"), ("p99_ms", "#08519c")):
            bw = (w - left - 80) * values[name][q] / vmax
            parts.append(
                f'<text x="{left - 6}" y="{yy + 14}" font-size="11" text-anchor="end">'
                f'{esc(name)} {q[:3]}</text><rect x="{left}" y="{yy + 2}" width="{bw:.1f}" height="18" '
                f'fill="{shade}"/><text x="{left + bw + 4:.1f}" y="{yy + 15}" font-size="11">'
                f"{values[name][q]:.0f} ms</text>"
            )
            yy += row_h
    parts.append("</svg>")
    return "".join(parts)


def render_html(report: dict[str, Any]) -> str:
    v = report["verdict"]
    run = report["run"]
    sc = report["scenario"]
    badge = f'<span class="{"go" if v["go"] else "nogo"}" id="verdict">{esc(v["label"])}</span>'
    out = [
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Load test {esc(sc["name"])}'
        f" - {esc(v['label'])}</title><style>{CSS}</style></head><body>",
        f"<h1>{badge} {esc(sc['name'])}</h1>",
        _odoo_under_test(report.get("odoo_under_test") or {}),
        f'<p class="muted">Run {esc(run["run_id"])}, {esc(run["started"])}, {run["duration_s"]:.0f} s, '
        f"{esc(run['users'])} users; target {esc(run['host'])} ({esc(run['odoo'])}); "
        f"mode {esc(run['mode'])}</p>",
    ]
    if not v["go"]:
        out.append(
            '<h2>Reasons</h2><ul id="reasons">'
            + "".join(f"<li>{esc(r)}</li>" for r in v["reasons"])
            + "</ul>"
        )
    out.append("<h2>SLO gates</h2>")
    gates = report["gates"]["results"]
    out.append(
        _table(
            ["scope", "metric", "limit", "actual", "result"],
            [
                [
                    g["scope"],
                    g["metric"],
                    _fmt(g["limit"], 2),
                    _fmt(g["actual"], 2),
                    "pass" if g["passed"] else "BREACH",
                ]
                for g in gates
            ],
            ["pass" if g["passed"] else "fail" for g in gates],
        )
    )
    out.append(
        '<h2>Latency per tier over time</h2><p class="muted">Band: p50 to p95 of successful calls; '
        "dotted: max; red bars: failed or unknown calls; red areas: error windows; dashed: drills.</p>"
    )
    ts = report["timeseries"]
    for tier, rows in ts["tiers"].items():
        out.append(f"<h3>{esc(tier)}</h3>")
        out.append(
            tier_chart(
                tier,
                rows,
                ts["bucket_s"],
                run["duration_s"],
                report["drills"],
                report["error_windows"].get(tier, []),
            )
        )
    out.append("<h2>Drills</h2>")
    out.append(
        _table(
            [
                "drill",
                "action",
                "at",
                "action ok",
                "error window",
                "time to recovery",
                "failed by tier",
                "unknown by tier",
            ],
            [
                [
                    d["name"],
                    f"{d['executor']} {d['action']} {d['target']}",
                    _fmt(d["started_s"], 1),
                    "yes" if d["action_ok"] else f"no: {d['action_error']}",
                    _fmt(d["error_window_s"], 1) + " s",
                    (_fmt(d["time_to_recovery_s"], 1) + " s") if d["recovered"] else "not recovered",
                    ", ".join(f"{k}: {n}" for k, n in d["failed_by_tier"].items()) or "0",
                    ", ".join(f"{k}: {n}" for k, n in d["unknown_by_tier"].items()) or "0",
                ]
                for d in report["drills"]
            ],
        )
    )
    out.append("<h2>Error windows</h2>")
    ew = [
        [t, _fmt(w["start_s"], 1), _fmt(w["end_s"], 1), _fmt(w["seconds"], 1), w["failures"]]
        for t, ws in report["error_windows"].items()
        for w in ws
    ]
    out.append(_table(["tier", "from s", "to s", "seconds", "failures"], ew) if ew else "<p>None.</p>")
    out.append("<h2>Latency per link class</h2>")
    links = report["breakdown"]["link"]
    if links:
        out.append(bar_chart("latency per link class", links))
    out.append(_breakdown(links, "link class"))
    out.append(
        '<h2>Routes</h2><p class="muted">How each branch reached the ERP: its link class, the Toxiproxy '
        "proxy of that class and upstream, and the upstream (the branch's erp_url from the register, "
        "else the target).</p>"
    )
    routes = report["run"].get("links", [])
    out.append(
        _table(
            ["proxy", "link class", "users connect to", "upstream", "branches"],
            [
                [r["name"] or "(direct)", r["link_class"], r["url"], r["upstream"], ", ".join(r["branches"])]
                for r in routes
            ],
        ).replace("<table>", '<table id="routes">', 1)
    )
    out.append("<h2>Write ledger</h2>")
    led = report["ledger"]
    if not led.get("checked"):
        out.append(f'<p class="fail">Not reconciled: {esc(led.get("error"))}</p>')
    t = led.get("totals", {})
    out.append(
        f'<p id="ledger-summary">lost {t.get("lost", "-")}, duplicated {t.get("duplicated", "-")}, '
        f"unexpected {t.get('unexpected', '-')}, recovered {t.get('recovered', '-')}</p>"
    )
    cols = list(TOTALS)
    out.append(
        _table(
            ["kind", *cols],
            [[k["kind"], *[k[c] for c in cols]] for k in led.get("kinds", [])],
            ["pass" if k["valid"] else "fail" for k in led.get("kinds", [])],
        )
    )
    for title, key in (
        ("By tier", "tier"),
        ("By region", "region"),
        ("By branch", "branch"),
        ("By call", "name"),
    ):
        out.append(f"<h2>{title}</h2>" + _breakdown(report["breakdown"][key], key))
    out.append(
        '<p class="muted">Locust\'s own report: <a href="locust.html">locust.html</a>; CSV: '
        "locust_stats.csv. Machine-readable: report.json, junit.xml.</p></body></html>"
    )
    return "\n".join(out)


def _odoo_under_test(odoo: dict[str, Any]) -> str:
    """The Odoo the run was against: the operator's label and what version_info answered."""
    if not odoo:
        return '<p id="odoo-under-test" class="sut">Odoo under test: not recorded</p>'
    label = odoo.get("label") or "unlabelled (no --odoo-label)"
    return (
        f'<p id="odoo-under-test" class="sut"><strong>Odoo under test:</strong> '
        f'<span id="odoo-label">{esc(label)}</span><br>server_version <code>{esc(odoo["server_version"])}'
        f"</code>, server_version_info <code>{esc(json.dumps(odoo['server_version_info']))}</code>, "
        f"from {esc(odoo['url'])}{esc(odoo['endpoint'])}</p>"
    )


def _breakdown(groups: dict[str, dict[str, Any]], label: str) -> str:
    rows = [
        [
            name,
            g["requests"],
            g["failed"],
            g["unknown"],
            f"{100 * g['error_rate']:.2f} %",
            _fmt(g["p50_ms"]),
            _fmt(g["p95_ms"]),
            _fmt(g["p99_ms"]),
        ]
        for name, g in groups.items()
    ]
    return _table([label, "requests", "failed", "unknown", "error rate", "p50 ms", "p95 ms", "p99 ms"], rows)
