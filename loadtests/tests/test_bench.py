"""The generator-efficiency benchmark runs both generators against the double and writes its figures."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_benchmark_writes_figures_for_both_generators(tmp_path):
    out = tmp_path / "bench_generator"
    argv = [sys.executable, "-m", "loadtests.bench", "--seconds", "8", "--users", "2"]
    argv += ["--max-requests", "300", "--out", str(out)]
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    doc = json.loads(out.with_suffix(".json").read_text())
    assert doc["target"]["url"].startswith("http://127.0.0.1:")
    assert doc["target"]["server"].startswith("odoo_double/")
    assert doc["settings"]["side_by_side"] is True
    assert set(doc["generators"]) == {"harness", "odoolocust"}
    for name, side in doc["generators"].items():
        assert side["exit_code"] in (0, 1), (name, side)
        assert 0 < side["requests"] <= 300 + 2, (name, side)  # bounded: the probe quits at the limit
        assert side["requests"] > side["failures"], (name, side)
        assert side["window"]["requests"] > 0, (name, side)
        for key in ("rps", "cores_used", "rps_per_core", "process_cpu_s", "process_rps_per_core"):
            assert isinstance(side[key], float | int), (name, key, side)
            assert side[key] > 0, (name, key, side)
    assert "OdooLocust 2.0.0" in doc["generators"]["odoolocust"]["tool"]
    assert isinstance(doc["ratio_rps_per_core"], float)
    text = out.with_suffix(".txt").read_text()
    assert "req/s/core" in text
    assert "harness " in text
    assert "odoolocust " in text
