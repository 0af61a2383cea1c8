"""The lane's one-screen summary: what ran, the contract suite's result, the harness's verdict.

Read from the files the steps wrote: the contract suite's JUnit XML, the
harness's ``report.json`` and Locust's ``locust_failures.csv`` (the error
messages per operation).
"""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from typing import Any

TOP_ERRORS = 3  # error messages shown per operation


def contract_results(junit: Path) -> dict[str, Any]:
    """passed/failed/skipped and the failing tests' node ids, from pytest's JUnit XML."""
    if not junit.is_file():
        return {"ran": False, "passed": 0, "failed": 0, "skipped": 0, "failures": [], "skipped_tests": []}
    root = ET.parse(junit).getroot()
    passed = 0
    failures: list[str] = []
    skipped: list[str] = []
    for case in root.iter("testcase"):
        node_id = f"{(case.get('classname') or '').replace('.', '/')}.py::{case.get('name')}"
        if case.find("failure") is not None or case.find("error") is not None:
            failures.append(node_id)
        elif case.find("skipped") is not None:
            skipped.append(node_id)
        else:
            passed += 1
    return {
        "ran": True,
        "passed": passed,
        "failed": len(failures),
        "skipped": len(skipped),
        "failures": failures,
        "skipped_tests": skipped,
    }


def top_errors(failures_csv: Path, per_operation: int = TOP_ERRORS) -> dict[str, list[dict[str, Any]]]:
    """The most frequent error messages of each operation (Locust's request name)."""
    if not failures_csv.is_file():
        return {}
    by_name: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with failures_csv.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            by_name[row.get("Name", "")].append(
                {"error": row.get("Error", ""), "count": int(row.get("Occurrences") or 0)}
            )
    return {
        name: sorted(rows, key=lambda r: -int(r["count"]))[:per_operation]
        for name, rows in sorted(by_name.items(), key=lambda kv: -sum(int(r["count"]) for r in kv[1]))
    }


def harness_results(out: Path, exit_code: int | None) -> dict[str, Any]:
    """Verdict, calls, failed calls, ledger totals and the top errors of the harness run in ``out``."""
    report_path = out / "report.json"
    if exit_code is None:
        return {"ran": False}
    result: dict[str, Any] = {"ran": True, "exit_code": exit_code, "out": str(out)}
    if not report_path.is_file():
        result["verdict"] = "NO RESULT (exit 2: bad input, 4: the harness did not run)"
        return result
    report = json.loads(report_path.read_text(encoding="utf-8"))
    tiers = report.get("tiers", {})
    totals = report.get("ledger", {}).get("totals", {})
    result.update(
        verdict=report.get("verdict", {}).get("label", "?"),
        reasons=report.get("verdict", {}).get("reasons", []),
        calls=sum(int(t.get("requests", 0)) for t in tiers.values()),
        failed_calls=sum(int(t.get("failures", 0)) for t in tiers.values()),
        tiers={k: {"requests": v.get("requests"), "failures": v.get("failures")} for k, v in tiers.items()},
        ledger={k: totals.get(k) for k in ("lost", "duplicated", "unexpected", "recovered")},
        ledger_checked=report.get("ledger", {}).get("checked"),
        ledger_error=report.get("ledger", {}).get("error"),
        top_errors=top_errors(out / "locust_failures.csv"),
        report=str(out / "report.html"),
    )
    return result


def one_line(error: str) -> str:
    """Locust's ``CatchResponseError('failed: ...')`` as the message on one line."""
    text = re.sub(r"^\w+Error\(['\"](.*)['\"]\)$", r"\1", error.strip(), flags=re.DOTALL)
    return " ".join(text.replace("\\n", " ").split())


def render(summary: dict[str, Any]) -> str:
    """summary.txt: one screen."""
    odoo = summary["odoo"]
    contract = summary["contract"]
    harness = summary["harness"]
    lines = [
        f"real-odoo lane {summary['started']}: {summary['result']}",
        f"Odoo:      {odoo.get('server_version', '?')} {odoo.get('label', '')}",
        f"Modules:   {', '.join(summary['modules'])} (template {summary['template']['name']}: "
        f"{summary['template']['state']})",
    ]
    if contract.get("ran"):
        lines.append(
            f"Contract:  {contract['passed']} passed, {contract['failed']} failed, "
            f"{contract['skipped']} skipped"
        )
        lines += [f"  failed: {name}" for name in contract["failures"]]
    else:
        lines.append("Contract:  not run")
    if harness.get("ran"):
        lines.append(
            f"Harness:   {harness.get('verdict')}; {harness.get('calls', 0)} calls, "
            f"{harness.get('failed_calls', 0)} failed; ledger lost {harness.get('ledger', {}).get('lost')}, "
            f"duplicated {harness.get('ledger', {}).get('duplicated')}"
        )
        lines += [f"  NO-GO: {reason}" for reason in harness.get("reasons", [])]
        for name, errors in list(harness.get("top_errors", {}).items())[:8]:
            for err in errors[:2]:
                lines.append(f"  {name}: {err['count']}x {one_line(str(err['error']))[:300]}")
    else:
        lines.append(f"Harness:   {harness.get('why', 'not run')}")
    times = ", ".join(f"{k} {v:.0f} s" for k, v in summary["seconds"].items())
    lines.append(f"Times:     {times}")
    lines.append(f"Captures:  {summary['captures']['files']} files in {summary['captures']['dir']}")
    lines += [f"{k + ':':<10} {v}" for k, v in summary["paths"].items()]
    return "\n".join(lines) + "\n"
