"""JUnit XML: one test case per gate, per drill action and per ledger kind."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from loadtests.report.model import Report


def render_junit(report: Report) -> str:
    cases: list[ET.Element] = []

    def case(classname: str, name: str, failure: str | None, seconds: float = 0.0) -> None:
        el = ET.Element("testcase", classname=classname, name=name, time=f"{seconds:.3f}")
        if failure is not None:
            ET.SubElement(el, "failure", message=failure[:500], type="breach").text = failure
        cases.append(el)

    for g in report.gates.results:
        case(f"slo.{g.scope}", g.metric, None if g.passed else g.reason)
    for d in report.drills:
        failure = None if d.action_ok else f"drill action failed: {d.action_error}"
        case("drills", d.name, failure, float(d.action_s or 0.0))
    for k in report.ledger.kinds:
        bad = {x: getattr(k, x) for x in ("lost", "duplicated", "unexpected", "unsettled") if getattr(k, x)}
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
    if odoo:
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="odoo_under_test", value=odoo.text)
        ET.SubElement(props, "property", name="server_version", value=odoo.server_version)
    suite.extend(cases)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
