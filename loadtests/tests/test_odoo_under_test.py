"""The Odoo under test is named before any traffic (version_info, --odoo-label), else exit 4."""

from pathlib import Path

import pytest

from loadtests.cli import main
from loadtests.links_setup import free_port
from loadtests.odoo_under_test import VersionProbeError, probe
from loadtests.tests.recorder import VERSION_INFO, Recorder
from tests.fixtures.pki import self_signed

HERE = Path(__file__).resolve().parent.parent
INPUTS = [
    "--scenario",
    str(HERE / "scenarios" / "normal_day.yaml"),
    "--register",
    str(HERE.parent / "inventories" / "branch_register" / "eu-west.yml"),
    "--gates",
    str(HERE / "gates" / "default.yaml"),
]


def test_version_info_without_login_names_the_odoo():
    with Recorder() as rec:
        odoo = probe(rec.url, "Odoo 18.0 official image odoo:18.0")
        unlabelled = probe(rec.url)
    assert [s.path for s in rec.seen] == ["/web/webclient/version_info"] * 2  # one call each, no login
    assert odoo.server_version == "18.0-recorder"
    assert odoo.server_version_info == [18, 0, 0, "final", 0, ""]
    assert odoo.version_info == VERSION_INFO
    assert odoo.line() == (
        "Odoo under test: Odoo 18.0 official image odoo:18.0 (server_version 18.0-recorder, "
        f'server_version_info [18, 0, 0, "final", 0, ""]) at {rec.url}'
    )
    assert odoo.as_dict()["endpoint"] == "/web/webclient/version_info"
    assert unlabelled.describe().startswith("unlabelled (no --odoo-label) (server_version 18.0-recorder")


def test_a_json_rpc_error_or_no_server_is_a_clear_error():
    error = {"code": 404, "message": "Not Found", "data": {"message": "no such route"}}
    with (
        Recorder(error=error) as rec,
        pytest.raises(VersionProbeError, match="JSON-RPC error 404: no such route"),
    ):
        probe(rec.url)
    closed = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(VersionProbeError, match=f"POST {closed}/web/webclient/version_info: ConnectionError"):
        probe(closed, timeout=5)


def test_tls_is_verified_with_the_ca_file_or_not_at_all_with_insecure(tmp_path):
    cert, key = self_signed(tmp_path, "localhost")
    with Recorder(tls=(cert, key)) as rec:
        url = f"https://localhost:{rec.port}"
        with pytest.raises(VersionProbeError, match="SSLError"):
            probe(url)  # a self-signed certificate, not in the system's CAs
        assert probe(url, verify=str(cert)).server_version == "18.0-recorder"
        assert probe(url, verify=False).server_version == "18.0-recorder"


def test_run_is_not_started_when_the_odoo_cannot_be_named(tmp_path, capsys):
    closed = f"http://127.0.0.1:{free_port()}"
    out = tmp_path / "out"
    assert main(["run", *INPUTS, "--host", closed, "--out", str(out)]) == 4
    err = capsys.readouterr().err
    assert f"error: cannot name the Odoo under test, the run is not started: POST {closed}/web/" in err
    assert not (out / "plan.json").exists()
    with Recorder(error={"code": 200, "message": "Odoo Server Error"}) as rec:
        assert main(["run", *INPUTS, "--host", rec.url, "--out", str(out)]) == 4
    assert "JSON-RPC error 200: Odoo Server Error" in capsys.readouterr().err


def test_a_host_that_is_not_a_url_is_an_input_error(tmp_path, capsys):
    assert main(["run", *INPUTS, "--host", "erp.pilot.test", "--out", str(tmp_path / "out")]) == 2
    assert "error: --host: erp.pilot.test: 'erp.pilot.test' is not an http:// or https:// URL" in (
        capsys.readouterr().err
    )
