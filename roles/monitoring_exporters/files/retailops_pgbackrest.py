"""pgBackRest backups and WAL archiving of a PostgreSQL member, for node_exporter's textfile collector.

From ``pgbackrest --output=json --stanza=<stanza> info`` (on every member; the
repositories are shared), per stanza, repository (repo: 1, and 2 for the
disaster-recovery repository of roles/pgbackrest) and backup type (full,
diff, incr):

- retailops_pgbackrest_backup_last_completion_timestamp_seconds{stanza,repo,type}
- retailops_pgbackrest_backup_last_size_bytes{stanza,repo,type}: what the newest
  backup of that type added to its repository (info.repository.delta)
- retailops_pgbackrest_info_success{stanza}: 1 when info ran and the stanza
  is usable (status ok, or no backup yet), else 0

From ``systemctl show`` of the backup units pgbackrest-backup@<type>.service
(repo1) and pgbackrest-backup-repo2@<type>.service (repo2, where the role
installed it) (roles/pgbackrest; they run on every member, back up on the
primary only):

- retailops_pgbackrest_backup_unit_failed{stanza,repo,type}: 1 when the unit's
  last run on this host failed (ActiveState failed), else 0. It stays so
  until the unit runs again here (a success, or a run skipped because this
  member is not the primary: ExecCondition) or ``systemctl reset-failed``
- retailops_pgbackrest_backup_unit_collector_success{stanza}: 1 when
  systemctl answered for every unit, else 0

From pg_stat_archiver, over the local socket (as the postgres user, peer):

- retailops_postgresql_archive_is_primary: 1 on the primary, 0 on a replica
- on the primary only: retailops_postgresql_archive_last_archived_timestamp_seconds,
  retailops_postgresql_archive_failed_total and
  retailops_postgresql_archive_last_failed_timestamp_seconds (0 = never)
- retailops_postgresql_archive_collector_success: 1 when PostgreSQL answered, else 0

    python3 retailops_pgbackrest.py --stanza postgres-ha --output dir/retailops_pgbackrest.prom
"""

from __future__ import annotations

import json
import sys
from typing import Any

from retailops_textfile import CommandError, Family, arguments, publish, run, warn

# Stanza status codes of pgBackRest's info: 0 ok, 2 no valid backups (a new
# stanza). Every other code (missing stanza, mismatched database, other
# error) is a failure.
USABLE_STATUS = {0, 2}
BACKUP_TYPES = ("full", "diff", "incr")
# Each repository's backup unit; repo2's exists only with a DR repository.
BACKUP_UNITS = {"1": "pgbackrest-backup@{}.service", "2": "pgbackrest-backup-repo2@{}.service"}
OPTIONAL_REPOS = {"2"}
UNIT_PROPERTIES = "Id,LoadState,ActiveState,Result"
ARCHIVER_QUERY = (
    "SELECT pg_is_in_recovery(), failed_count,"
    " coalesce(extract(epoch FROM last_archived_time), 0),"
    " coalesce(extract(epoch FROM last_failed_time), 0)"
    " FROM pg_stat_archiver"
)


class InfoError(Exception):
    """pgBackRest info output this collector does not understand."""


def backup_families(stanza: str, info_text: str) -> list[Family]:
    completion = Family(
        "retailops_pgbackrest_backup_last_completion_timestamp_seconds",
        "Unix time the newest backup of this type finished (pgBackRest info timestamp.stop).",
    )
    size = Family(
        "retailops_pgbackrest_backup_last_size_bytes",
        "Bytes the newest backup of this type added to the repository (info.repository.delta).",
    )
    try:
        stanzas = json.loads(info_text)
    except ValueError as error:
        raise InfoError(f"info output is not JSON: {error}") from error
    if not isinstance(stanzas, list):
        raise InfoError("info output is not a list of stanzas")
    found = [s for s in stanzas if isinstance(s, dict) and s.get("name") == stanza]
    if not found:
        raise InfoError(f"stanza {stanza} is not in the info output")
    entry: dict[str, Any] = found[0]
    status = entry.get("status", {})
    if status.get("code") not in USABLE_STATUS:
        raise InfoError(f"stanza {stanza}: status {status.get('code')} ({status.get('message', '')})")
    newest: dict[tuple[str, str], dict[str, Any]] = {}
    for backup in entry.get("backup", []):
        kind = backup["type"]
        if kind not in BACKUP_TYPES:
            raise InfoError(f"backup {backup.get('label')}: unknown type {kind}")
        repo = str(backup.get("database", {}).get("repo-key", 1))
        stop = int(backup["timestamp"]["stop"])
        if (repo, kind) not in newest or stop >= int(newest[(repo, kind)]["timestamp"]["stop"]):
            newest[(repo, kind)] = backup
    for repo, kind in sorted(newest, key=lambda k: (k[0], BACKUP_TYPES.index(k[1]))):
        backup = newest[(repo, kind)]
        completion.add(int(backup["timestamp"]["stop"]), stanza=stanza, repo=repo, type=kind)
        size.add(int(backup["info"]["repository"]["delta"]), stanza=stanza, repo=repo, type=kind)
    return [completion, size]


def unit_families(stanza: str, show_text: str) -> list[Family]:
    """From ``systemctl show --property=Id,LoadState,ActiveState,Result`` of the backup units: a block of
    KEY=value lines per unit, blocks separated by an empty line."""
    failed = Family(
        "retailops_pgbackrest_backup_unit_failed",
        "1 when the last run of the backup unit of the repository (pgbackrest-backup@<type>.service, repo2:"
        " pgbackrest-backup-repo2@<type>.service) on this host failed (systemd ActiveState failed, until the"
        " unit runs again or reset-failed), else 0.",
    )
    units: dict[str, dict[str, str]] = {}
    for block in show_text.strip().split("\n\n"):
        fields = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        if "Id" in fields:
            units[fields["Id"]] = fields
    for repo, template in BACKUP_UNITS.items():
        for kind in BACKUP_TYPES:
            unit = units.get(template.format(kind))
            if unit is None or "ActiveState" not in unit:
                raise InfoError(f"systemctl show: no state for {template.format(kind)}")
            if repo in OPTIONAL_REPOS and unit.get("LoadState") == "not-found":
                continue
            failed.add(1 if unit["ActiveState"] == "failed" else 0, stanza=stanza, repo=repo, type=kind)
    return [failed]


def archiver_families(row_text: str) -> list[Family]:
    """From one psql -At row: in recovery (t/f), failed_count, last archived and last failed epochs."""
    fields = row_text.strip().split("|")
    if len(fields) != 4 or fields[0] not in ("t", "f"):
        raise InfoError(f"unexpected pg_stat_archiver row ({len(fields)} fields)")
    primary = Family(
        "retailops_postgresql_archive_is_primary",
        "1 when this member is the primary (not in recovery), else 0.",
    )
    primary.add(1 if fields[0] == "f" else 0)
    if fields[0] == "t":
        return [primary]
    archived = Family(
        "retailops_postgresql_archive_last_archived_timestamp_seconds",
        "Unix time of the last WAL segment archived successfully (0 = never), pg_stat_archiver.",
    )
    failed = Family(
        "retailops_postgresql_archive_failed_total",
        "Failed WAL archiving attempts since the statistics were reset, pg_stat_archiver.",
        "counter",
    )
    last_failed = Family(
        "retailops_postgresql_archive_last_failed_timestamp_seconds",
        "Unix time of the last failed WAL archiving attempt (0 = never), pg_stat_archiver.",
    )
    try:
        failed.add(int(fields[1]))
        archived.add(float(fields[2]))
        last_failed.add(float(fields[3]))
    except ValueError as error:
        raise InfoError(f"pg_stat_archiver: {error}") from error
    return [primary, archived, failed, last_failed]


def main(argv: list[str] | None = None) -> int:
    parser = arguments(__doc__)
    parser.add_argument("--stanza", required=True)
    parser.add_argument("--pgbackrest", default="pgbackrest", help="the pgbackrest command")
    parser.add_argument("--psql", default="psql", help="the psql command")
    parser.add_argument("--systemctl", default="systemctl", help="the systemctl command")
    parser.add_argument("--pg-socket-dir", default="/var/run/postgresql")
    parser.add_argument("--pg-port", default="5432")
    parser.add_argument("--run-as", default="postgres", help="run pgbackrest and psql as this user when root")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds each command may take")
    args = parser.parse_args(argv)

    families: list[Family] = []
    info_success = Family(
        "retailops_pgbackrest_info_success", "1 when pgBackRest info succeeded for the stanza."
    )
    try:
        text = run(
            [args.pgbackrest, "--output=json", f"--stanza={args.stanza}", "info"], args.timeout, args.run_as
        )
        families.extend(backup_families(args.stanza, text))
        info_success.add(1, stanza=args.stanza)
    except (CommandError, InfoError, KeyError, TypeError, ValueError) as error:
        warn(f"retailops_pgbackrest: info: {type(error).__name__}: {error}")
        info_success.add(0, stanza=args.stanza)
    families.append(info_success)

    units_success = Family(
        "retailops_pgbackrest_backup_unit_collector_success",
        "1 when systemctl reported the state of every backup unit, else 0.",
    )
    try:
        shown = run(
            [
                args.systemctl,
                "show",
                f"--property={UNIT_PROPERTIES}",
                *(template.format(kind) for template in BACKUP_UNITS.values() for kind in BACKUP_TYPES),
            ],
            args.timeout,
        )
        families.extend(unit_families(args.stanza, shown))
        units_success.add(1, stanza=args.stanza)
    except (CommandError, InfoError) as error:
        warn(f"retailops_pgbackrest: backup units: {type(error).__name__}: {error}")
        units_success.add(0, stanza=args.stanza)
    families.append(units_success)

    archive_success = Family(
        "retailops_postgresql_archive_collector_success", "1 when pg_stat_archiver was read, else 0."
    )
    try:
        row = run(
            [
                args.psql,
                "-X",
                "-A",
                "-t",
                "-h",
                args.pg_socket_dir,
                "-p",
                str(args.pg_port),
                "-d",
                "postgres",
                "-c",
                ARCHIVER_QUERY,
            ],
            args.timeout,
            args.run_as,
        )
        families.extend(archiver_families(row))
        archive_success.add(1)
    except (CommandError, InfoError) as error:
        warn(f"retailops_pgbackrest: pg_stat_archiver: {type(error).__name__}: {error}")
        archive_success.add(0)
    families.append(archive_success)
    return publish("retailops_pgbackrest", args.output, families)


if __name__ == "__main__":
    sys.exit(main())
