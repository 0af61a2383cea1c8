"""JUnit XML: one test case per gate, per drill action, per ledger kind, per coverage row (drill and
expected alert: the observability coverage gate, with its figures in the case's system-out) and one
for the dashboards' panels having data when the run checked them."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from loadtests.report.model import COVERAGE_SCOPE, Report


def render_junit(report: Report) -> str:
    cases: list[ET.Element] = []

    def case(classname: str, name: str, failure: str | None, seconds: float = 0.0) -> None:
        el = ET.Element("testcase", classname=classname, name=name, time=f"{seconds:.3f}")
        if failure is not None:
            ET.SubElement(el, "failure", message=failure[:500], type="breach").text = failure
        cases.append(el)

    for g in report.gates.results:
        if g.scope != COVERAGE_SCOPE:  # the coverage rows below are that gate, with their figures
            case(f"slo.{g.scope}", g.metric, None if g.passed else g.reason)
    for c in report.coverage.rows:
        case(
            f"coverage.{c.drill}",
            c.expected or "alerts",
            None if c.passed else f"{c.status_text}: {c.detail}",
        )
        el = cases[-1]
        fired = "; ".join(
            f"{a.name} {{{a.labels}}} delay {a.delay_s:.1f} s, "
            + (f"ends at {a.ends_at_s:.1f} s" if a.ends_at_s is not None else "not resolved")
            for a in c.fired
        )
        ET.SubElement(el, "system-out").text = (
            f"status {c.status}; fault {c.fault_s} s ({c.fault_source}); alert window {c.window_s} s; "
            f"delay {c.delay_s} s; resolved {c.resolved_s if c.resolved else 'no'}; fired: {fired or 'none'}"
        )
    for d in report.drills:
        failure = None if d.action_ok else f"drill action failed: {d.action_error}"
        case("drills", d.name, failure, float(d.action_s or 0.0))
    boards = report.dashboards
    if boards is not None:
        failure = boards.error or (f"no data: {'; '.join(boards.empty)}" if boards.empty else None)
        case("observability", "dashboards have data", failure)
        ET.SubElement(
            cases[-1], "system-out"
        ).text = f"{boards.queries} panel queries against {boards.source}"
    for k in report.ledger.kinds:
        bad = {
            x: getattr(k, x)
            for x in ("lost", "duplicated", "unexpected", "unsettled", "unreadable")
            if getattr(k, x)
        }
        case("ledger", k.kind, f"{bad}" if bad else None)
    suite = ET.Element(
        "testsuite",
        name=f"loadtests.{report.scenario.name}",
        tests=str(len(cases)),
        failures=str(sum(1 for c in cases if c.find("failure") is not None)),
        errors="0",
        time=f"{report.run.duration_s:.1f}",
    )
    odoo = report.odoo_under_test
    props = ET.SubElement(suite, "properties")
    if odoo:
        ET.SubElement(props, "property", name="odoo_under_test", value=odoo.text)
        ET.SubElement(props, "property", name="server_version", value=odoo.server_version)
    measured = report.coverage.measured
    ET.SubElement(
        props, "property", name="observability_coverage", value="measured" if measured else "not measured"
    )
    suite.extend(cases)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
