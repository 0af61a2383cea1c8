"""monitoring_exporters' textfile collectors, run as the timers run them, on recorded inputs.

The scripts are started with the host's python3 (what the role's units do)
and find their commands (wg, pgbackrest, psql) through options; here those
are stand-ins that check their arguments and print recordings:

- ``wg-show-wg0-dump.txt``: ``wg show wg0 dump`` on hub-ams of the example
  register (inventories/branch_register/eu-west.yml): the interface line,
  then AMS-001 (dual, with traffic), AMS-WH1 (fiber, with a pre-shared key),
  RTM-002 (LTE, never connected) and a peer that is no register branch.
  ``wireguard-hub-ams.json`` is the configuration the role renders for that
  hub (test_monitoring_exporters_role.py checks it against the template).
- ``pgbackrest-info*.json``: ``pgbackrest --output=json info`` in the shape of
  pgBackRest 2.45 (Debian bookworm): two full backups, diffs and a manual
  incremental; a new stanza with no backup; a missing stanza.
- ``systemctl-show-backup-units.txt``: ``systemctl show
  --property=Id,LoadState,ActiveState,Result`` of the three backup units in
  systemd 252's format (Debian bookworm): the full one failed, the others
  inactive.

Every output must pass ``promtool check metrics`` (Prometheus's own parser
and linter; prometheus_client is not in the venv).
"""

from __future__ import annotations

import calendar
import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import ROOT

from tests.exposition import Samples, names, promtool_ok, samples, value

FILES = ROOT / "roles" / "monitoring_exporters" / "files"
DATA = Path(__file__).parent / "data" / "monitoring_exporters"
PYTHON3 = shutil.which("python3") or sys.executable


def fake_command(
    tmp: Path, name: str, expect_argv: list[str], *, stdout: str = "", stderr: str = "", rc: int = 0
) -> Path:
    """An executable that fails unless called with ``expect_argv``; prints ``stdout`` and exits ``rc``."""
    script = tmp / name
    script.write_text(
        textwrap.dedent(
            f"""\
            #!{sys.executable}
            import sys
            if sys.argv[1:] != {expect_argv!r}:
                sys.stderr.write("unexpected arguments: %r\\n" % (sys.argv[1:],))
                sys.exit(64)
            sys.stdout.write({stdout!r})
            sys.stderr.write({stderr!r})
            sys.exit({rc})
            """
        )
    )
    script.chmod(0o755)
    return script


def run_collector(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON3, str(FILES / f"retailops_{name}.py"), *args], capture_output=True, text=True, check=False
    )


def succeeded(done: subprocess.CompletedProcess[str], out: Path) -> Samples:
    """The samples of a run that went well: exit 0, nothing said, a file promtool accepts."""
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    promtool_ok(out.read_text())
    return samples(out.read_text())


def failed_softly(done: subprocess.CompletedProcess[str], out: Path, why: str) -> Samples:
    """The samples of a run whose input failed: still exit 0 and a file promtool accepts (the failure is
    a metric), the reason on standard error, no traceback."""
    assert done.returncode == 0
    assert "Traceback" not in done.stderr
    assert why in done.stderr
    promtool_ok(out.read_text())
    return samples(out.read_text())


# WireGuard

WG_ARGV = ["show", "wg0", "dump"]
RECORDED_DUMP = (DATA / "wg-show-wg0-dump.txt").read_text()


def wireguard(tmp_path: Path, wg: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path / "retailops_wireguard.prom"
    config = str(DATA / "wireguard-hub-ams.json")
    done = run_collector("wireguard", "--config", config, "--output", str(out), "--wg", str(wg))
    return done, out


def test_wireguard_reports_each_branch_peer(tmp_path: Path) -> None:
    wg = fake_command(tmp_path, "wg", WG_ARGV, stdout=RECORDED_DUMP)
    done, out = wireguard(tmp_path, wg)
    found = succeeded(done, out)
    hub = {"hub": "hub-ams", "interface": "wg0"}
    ams = {**hub, "branch": "AMS-001", "tier": "critical", "link": "dual", "kind": "store"}
    wh = {**hub, "branch": "AMS-WH1", "tier": "critical", "link": "fiber", "kind": "warehouse"}
    rtm = {**hub, "branch": "RTM-002", "tier": "standard", "link": "lte", "kind": "store"}
    assert value(found, "retailops_wireguard_peer_latest_handshake_timestamp_seconds", **ams) == 1796499201
    assert value(found, "retailops_wireguard_peer_receive_bytes_total", **ams) == 48211904
    assert value(found, "retailops_wireguard_peer_transmit_bytes_total", **ams) == 193338216
    assert value(found, "retailops_wireguard_peer_latest_handshake_timestamp_seconds", **wh) == 1796499144
    assert value(found, "retailops_wireguard_peer_receive_bytes_total", **wh) == 7340032
    # Never connected: handshake 0, counters 0.
    assert value(found, "retailops_wireguard_peer_latest_handshake_timestamp_seconds", **rtm) == 0
    assert value(found, "retailops_wireguard_peer_transmit_bytes_total", **rtm) == 0
    assert value(found, "retailops_wireguard_collector_success") == 1
    # Three branches x three metrics, the success metric; the stray peer (10.99.0.9) is left out.
    assert len(found) == 10
    text = out.read_text()
    assert "10.99.0.9" not in text
    # The interface line's private key and the pre-shared key never reach the output.
    dump = RECORDED_DUMP.splitlines()
    assert dump[0].split("\t")[0] not in text
    assert dump[2].split("\t")[1] not in text + done.stderr


@pytest.mark.parametrize(
    ("stdout", "stderr", "rc", "why"),
    [
        ("", "Unable to access interface: No such device\n", 1, "exited 1"),
        ("", "", 0, "empty output"),
        ("priv\tpub\t51820\toff\nxTIB=\t(none)\t(none)\t10.99.0.240/32\t12\n", "", 0, "5 fields"),
        (
            "priv\tpub\t51820\toff\nk=\t(none)\t(none)\t10.99.0.240/32\tsoon\t1\t2\toff\n",
            "",
            0,
            "invalid literal",
        ),
    ],
    ids=["wg-fails", "empty", "short-line", "not-a-number"],
)
def test_wireguard_failure_is_a_metric(tmp_path: Path, stdout: str, stderr: str, rc: int, why: str) -> None:
    wg = fake_command(tmp_path, "wg", WG_ARGV, stdout=stdout, stderr=stderr, rc=rc)
    done, out = wireguard(tmp_path, wg)
    assert failed_softly(done, out, why) == {("retailops_wireguard_collector_success", frozenset()): 0}


def test_wireguard_without_wg(tmp_path: Path) -> None:
    done, out = wireguard(tmp_path, tmp_path / "no-such-wg")
    found = failed_softly(done, out, "no-such-wg")
    assert found == {("retailops_wireguard_collector_success", frozenset()): 0}


def test_wireguard_replaces_the_file_atomically(tmp_path: Path) -> None:
    """A second run replaces the file by rename (a new inode) and leaves no temporary file behind."""
    wg = fake_command(tmp_path, "wg", WG_ARGV, stdout=RECORDED_DUMP)
    out = wireguard(tmp_path, wg)[1]
    first = out.stat().st_ino
    out = wireguard(tmp_path, wg)[1]
    assert out.stat().st_ino != first
    assert out.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["retailops_wireguard.prom", "wg"]


def test_collector_that_cannot_write_says_so(tmp_path: Path) -> None:
    wg = fake_command(tmp_path, "wg", WG_ARGV, stdout=RECORDED_DUMP)
    done = run_collector(
        "wireguard",
        "--config",
        str(DATA / "wireguard-hub-ams.json"),
        "--output",
        str(tmp_path / "no" / "x.prom"),
        "--wg",
        str(wg),
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "cannot write" in done.stderr


# pgBackRest and pg_stat_archiver

PGBACKREST_ARGV = ["--output=json", "--stanza=postgres-ha", "info"]
PSQL_ARGV_START = ["-X", "-A", "-t", "-h", "/var/run/postgresql", "-p", "5432", "-d", "postgres", "-c"]
PRIMARY_ROW = "f|3|1796497923.918244|1796412711.20391\n"
SYSTEMCTL_ARGV = [
    "show",
    "--property=Id,LoadState,ActiveState,Result",
    "pgbackrest-backup@full.service",
    "pgbackrest-backup@diff.service",
    "pgbackrest-backup@incr.service",
    "pgbackrest-backup-repo2@full.service",
    "pgbackrest-backup-repo2@diff.service",
    "pgbackrest-backup-repo2@incr.service",
]
# repo1's units; repo2's are not installed (no DR repository): systemd shows
# them not-found, inactive.
REPO2_ABSENT = "".join(
    f"\nResult=success\nId=pgbackrest-backup-repo2@{kind}.service\nLoadState=not-found\nActiveState=inactive\n"
    for kind in ("full", "diff", "incr")
)
UNITS_SHOWN = (DATA / "systemctl-show-backup-units.txt").read_text() + REPO2_ABSENT
UNITS_CLEAR = UNITS_SHOWN.replace("Result=exit-code", "Result=success").replace(
    "ActiveState=failed", "ActiveState=inactive"
)


def pgbackrest(
    tmp_path: Path,
    *,
    info: str = (DATA / "pgbackrest-info.json").read_text(),
    info_rc: int = 0,
    row: str = PRIMARY_ROW,
    psql_rc: int = 0,
    units: str = UNITS_CLEAR,
    systemctl_rc: int = 0,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    failed = info_rc != 0
    from_json = fake_command(
        tmp_path,
        "pgbackrest",
        PGBACKREST_ARGV,
        stdout="" if failed else info,
        stderr=info if failed else "",
        rc=info_rc,
    )
    query = subprocess.run(
        [PYTHON3, "-c", "import retailops_pgbackrest as m; print(m.ARCHIVER_QUERY)"],
        cwd=FILES,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    down = psql_rc != 0
    psql = fake_command(
        tmp_path,
        "psql",
        [*PSQL_ARGV_START, query],
        stdout="" if down else row,
        stderr=row if down else "",
        rc=psql_rc,
    )
    systemctl = fake_command(
        tmp_path,
        "systemctl",
        SYSTEMCTL_ARGV,
        stdout="" if systemctl_rc else units,
        stderr="Failed to connect to bus: Host is down\n" if systemctl_rc else "",
        rc=systemctl_rc,
    )
    out = tmp_path / "retailops_pgbackrest.prom"
    done = run_collector(
        "pgbackrest",
        "--stanza=postgres-ha",
        "--output",
        str(out),
        "--pgbackrest",
        str(from_json),
        "--psql",
        str(psql),
        "--systemctl",
        str(systemctl),
        "--run-as=",
    )
    return done, out


def test_pgbackrest_newest_backup_of_each_type_and_archiving_on_the_primary(tmp_path: Path) -> None:
    found = succeeded(*pgbackrest(tmp_path))
    last = "retailops_pgbackrest_backup_last_completion_timestamp_seconds"
    size = "retailops_pgbackrest_backup_last_size_bytes"
    # The newest of each type: 20261129-010131F, 20261129-010131F_20261205-010117D, ..._20261201-141507I.
    assert value(found, last, stanza="postgres-ha", repo="1", type="full") == 1795914169
    assert value(found, size, stanza="postgres-ha", repo="1", type="full") == 170393600
    assert value(found, last, stanza="postgres-ha", repo="1", type="diff") == 1796432503
    assert value(found, size, stanza="postgres-ha", repo="1", type="diff") == 6553600
    assert value(found, last, stanza="postgres-ha", repo="1", type="incr") == 1796134519
    assert value(found, size, stanza="postgres-ha", repo="1", type="incr") == 524288
    assert value(found, "retailops_pgbackrest_info_success", stanza="postgres-ha") == 1
    assert value(found, "retailops_postgresql_archive_is_primary") == 1
    archived = value(found, "retailops_postgresql_archive_last_archived_timestamp_seconds")
    assert archived == pytest.approx(1796497923.918244)
    assert value(found, "retailops_postgresql_archive_failed_total") == 3
    last_failed = value(found, "retailops_postgresql_archive_last_failed_timestamp_seconds")
    assert last_failed == pytest.approx(1796412711.20391)
    assert value(found, "retailops_postgresql_archive_collector_success") == 1
    for kind in ("full", "diff", "incr"):
        unit = "retailops_pgbackrest_backup_unit_failed"
        assert value(found, unit, stanza="postgres-ha", repo="1", type=kind) == 0
    assert value(found, "retailops_pgbackrest_backup_unit_collector_success", stanza="postgres-ha") == 1
    assert len(found) == 16


def test_pgbackrest_on_a_replica_reports_no_archiving(tmp_path: Path) -> None:
    found = succeeded(*pgbackrest(tmp_path, row="t|0|0|0\n"))
    assert value(found, "retailops_postgresql_archive_is_primary") == 0
    assert not {n for n in names(found) if n.startswith("retailops_postgresql_archive_")} - {
        "retailops_postgresql_archive_is_primary",
        "retailops_postgresql_archive_collector_success",
    }
    assert value(found, "retailops_pgbackrest_info_success", stanza="postgres-ha") == 1


def test_pgbackrest_new_stanza_without_backups(tmp_path: Path) -> None:
    new = (DATA / "pgbackrest-info-no-backups.json").read_text()
    found = succeeded(*pgbackrest(tmp_path, info=new, row="f|0|0|0\n"))
    assert value(found, "retailops_pgbackrest_info_success", stanza="postgres-ha") == 1
    assert not {n for n in names(found) if n.startswith("retailops_pgbackrest_backup_last_")}
    assert value(found, "retailops_postgresql_archive_last_archived_timestamp_seconds") == 0


@pytest.mark.parametrize(
    ("info", "info_rc", "why"),
    [
        ((DATA / "pgbackrest-info-missing-stanza.json").read_text(), 0, "status 1 (missing stanza path)"),
        (
            "ERROR: [039]: HTTP request failed with 403 (Server failed to authenticate the request)\n",
            39,
            "exited",
        ),
        ("[]\n", 0, "stanza postgres-ha is not in the info output"),
        ('[{"name": "postgres-ha", "status": {"code": 0}, "backup": [{"type": "full"}]}]', 0, "KeyError"),
        ("not json", 0, "not JSON"),
    ],
    ids=["missing-stanza", "repository-error", "no-stanza", "truncated", "not-json"],
)
def test_pgbackrest_info_failure_is_a_metric(tmp_path: Path, info: str, info_rc: int, why: str) -> None:
    found = failed_softly(*pgbackrest(tmp_path, info=info, info_rc=info_rc), why)
    assert value(found, "retailops_pgbackrest_info_success", stanza="postgres-ha") == 0
    assert not {n for n in names(found) if n.startswith("retailops_pgbackrest_backup_last_")}
    # pg_stat_archiver and the backup units are read all the same.
    assert value(found, "retailops_postgresql_archive_collector_success") == 1
    assert value(found, "retailops_pgbackrest_backup_unit_collector_success", stanza="postgres-ha") == 1


def test_postgresql_down_is_a_metric(tmp_path: Path) -> None:
    refused = 'psql: error: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed\n'
    found = failed_softly(*pgbackrest(tmp_path, row=refused, psql_rc=2), "pg_stat_archiver")
    assert value(found, "retailops_postgresql_archive_collector_success") == 0
    assert "retailops_postgresql_archive_is_primary" not in names(found)
    assert value(found, "retailops_pgbackrest_info_success", stanza="postgres-ha") == 1


def test_a_failed_backup_unit_is_a_metric(tmp_path: Path) -> None:
    found = succeeded(*pgbackrest(tmp_path, units=UNITS_SHOWN))
    failed = "retailops_pgbackrest_backup_unit_failed"
    assert value(found, failed, stanza="postgres-ha", repo="1", type="full") == 1
    assert value(found, failed, stanza="postgres-ha", repo="1", type="diff") == 0
    assert value(found, failed, stanza="postgres-ha", repo="1", type="incr") == 0
    # No DR repository: no repo2 series.
    assert not [key for key in found if key[0] == failed and ("repo", "2") in key[1]]
    assert value(found, "retailops_pgbackrest_backup_unit_collector_success", stanza="postgres-ha") == 1
    # The backups themselves are still read.
    assert value(found, "retailops_pgbackrest_info_success", stanza="postgres-ha") == 1


def test_a_failed_dr_repository_backup_unit_is_a_metric_of_its_own(tmp_path: Path) -> None:
    """With a DR repository, repo2's unit has its series; its failure leaves repo1's at 0."""
    repo2 = "".join(
        f"\nResult={'exit-code' if kind == 'full' else 'success'}"
        f"\nId=pgbackrest-backup-repo2@{kind}.service\n"
        f"LoadState=loaded\nActiveState={'failed' if kind == 'full' else 'inactive'}\n"
        for kind in ("full", "diff", "incr")
    )
    found = succeeded(*pgbackrest(tmp_path, units=UNITS_CLEAR.replace(REPO2_ABSENT, repo2)))
    failed = "retailops_pgbackrest_backup_unit_failed"
    assert value(found, failed, stanza="postgres-ha", repo="1", type="full") == 0
    assert value(found, failed, stanza="postgres-ha", repo="2", type="full") == 1
    assert value(found, failed, stanza="postgres-ha", repo="2", type="diff") == 0
    assert value(found, failed, stanza="postgres-ha", repo="2", type="incr") == 0


def test_pgbackrest_newest_backup_of_each_repository(tmp_path: Path) -> None:
    """Backups of repo2 (database.repo-key 2) are series of their own."""
    stanzas = json.loads((DATA / "pgbackrest-info.json").read_text())
    newest_full = max(
        (b for b in stanzas[0]["backup"] if b["type"] == "full"), key=lambda b: b["timestamp"]["stop"]
    )
    copy = json.loads(json.dumps(newest_full))
    copy["database"]["repo-key"] = 2
    copy["timestamp"]["stop"] += 600
    stanzas[0]["backup"].append(copy)
    stanzas[0]["repo"].append({"cipher": "aes-256-cbc", "key": 2, "status": {"code": 0, "message": "ok"}})
    found = succeeded(*pgbackrest(tmp_path, info=json.dumps(stanzas)))
    last = "retailops_pgbackrest_backup_last_completion_timestamp_seconds"
    assert value(found, last, stanza="postgres-ha", repo="1", type="full") == 1795914169
    assert value(found, last, stanza="postgres-ha", repo="2", type="full") == 1795914169 + 600
    repo2_diff = {("repo", "2"), ("type", "diff")}
    assert not [key for key in found if key[0] == last and repo2_diff <= key[1]]


@pytest.mark.parametrize(
    ("units", "systemctl_rc", "why"),
    [
        ("", 1, "exited 1: Failed to connect to bus"),
        (UNITS_SHOWN.split("\n\n")[0] + "\n", 0, "no state for pgbackrest-backup@diff.service"),
        ("garbage\n", 0, "no state for pgbackrest-backup@full.service"),
    ],
    ids=["no-systemd", "a-unit-missing", "not-systemctl-output"],
)
def test_unreadable_backup_units_are_a_metric(
    tmp_path: Path, units: str, systemctl_rc: int, why: str
) -> None:
    found = failed_softly(*pgbackrest(tmp_path, units=units, systemctl_rc=systemctl_rc), why)
    assert value(found, "retailops_pgbackrest_backup_unit_collector_success", stanza="postgres-ha") == 0
    assert "retailops_pgbackrest_backup_unit_failed" not in names(found)
    assert value(found, "retailops_pgbackrest_info_success", stanza="postgres-ha") == 1
    assert value(found, "retailops_postgresql_archive_collector_success") == 1


# Certificates


def make_certificate(tmp: Path, name: str, subject: str, days: int) -> Path:
    pem = tmp / f"{name}.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            str(tmp / f"{name}.key"),
            "-out",
            str(pem),
            "-days",
            str(days),
            "-subj",
            subject,
        ],
        check=True,
        capture_output=True,
    )
    return pem


def not_after(pem: Path) -> int:
    """notAfter as openssl prints it, in Unix time."""
    text = subprocess.run(
        ["openssl", "x509", "-noout", "-enddate", "-dateopt", "iso_8601", "-in", str(pem)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    match = re.search(r"notAfter=(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)Z", text)
    assert match, text
    return calendar.timegm((*(int(g) for g in match.groups()), 0, 0, 0))


def certificates(tmp_path: Path, paths: list[str]) -> tuple[subprocess.CompletedProcess[str], Path]:
    config = tmp_path / "certificates.json"
    config.write_text(json.dumps({"paths": paths}))
    out = tmp_path / "retailops_certificates.prom"
    return run_collector("certificates", "--config", str(config), "--output", str(out)), out


def test_certificates_expiry_per_certificate(tmp_path: Path) -> None:
    erp = make_certificate(tmp_path, "erp", '/C=NL/O=Retail, Ops "EU"/CN=erp.pilot.test', 90)
    ca = make_certificate(tmp_path, "ca", "/CN=Pilot CA", 3650)
    # After 2049 X.509 uses GeneralizedTime instead of UTCTime.
    far = make_certificate(tmp_path, "far", "/CN=far.pilot.test", 365 * 30)
    chain = tmp_path / "chain.pem"
    chain.write_text(erp.read_text() + ca.read_text())
    found = succeeded(*certificates(tmp_path, [str(chain), str(far)]))
    metric = "retailops_certificate_not_after_timestamp_seconds"
    subject = 'CN=erp.pilot.test,O=Retail\\, Ops \\"EU\\",C=NL'
    assert value(found, metric, path=str(chain), subject=subject) == not_after(erp)
    assert value(found, metric, path=str(chain), subject="CN=Pilot CA") == not_after(ca)
    assert value(found, metric, path=str(far), subject="CN=far.pilot.test") == not_after(far)
    assert not_after(far) > 2524608000  # 2050-01-01: the GeneralizedTime case
    assert value(found, "retailops_certificate_collector_success") == 1
    assert len(found) == 4


def test_certificates_same_subject_twice_reports_the_earlier(tmp_path: Path) -> None:
    old = make_certificate(tmp_path, "old", "/CN=Root", 30)
    new = make_certificate(tmp_path, "new", "/CN=Root", 3000)
    both = tmp_path / "both.pem"
    both.write_text(new.read_text() + old.read_text())
    found = succeeded(*certificates(tmp_path, [str(both)]))
    metric = "retailops_certificate_not_after_timestamp_seconds"
    assert value(found, metric, path=str(both), subject="CN=Root") == not_after(old)


def test_certificates_missing_or_broken_file_is_a_metric(tmp_path: Path) -> None:
    good = make_certificate(tmp_path, "good", "/CN=good.pilot.test", 90)
    not_pem = tmp_path / "key-only.pem"
    not_pem.write_text((tmp_path / "good.key").read_text())
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN CERTIFICATE-----\nMIIBkTCB+wIJAK\n-----END CERTIFICATE-----\n")
    done, out = certificates(tmp_path, [str(tmp_path / "missing.pem"), str(not_pem), str(broken), str(good)])
    found = failed_softly(done, out, "missing.pem: FileNotFoundError")
    assert "key-only.pem: CertificateError: no PEM certificate" in done.stderr
    assert "broken.pem: CertificateError" in done.stderr
    assert value(found, "retailops_certificate_collector_success") == 0
    # The readable file is still reported.
    metric = "retailops_certificate_not_after_timestamp_seconds"
    assert value(found, metric, path=str(good), subject="CN=good.pilot.test") == not_after(good)
