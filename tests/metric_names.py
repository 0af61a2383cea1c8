"""The metric names the observability stack may query, in one place, and a PromQL metric-name reader.

Three sources (issue 17, the observability contract):

* the recording rules of ``roles/prometheus/files/rules/`` (:data:`RECORDING_RULES`, read from those
  files), the tiers' objectives among them (the dashboards compare each SLI with them);
* the textfile collector metrics written by ``monitoring_exporters`` and the backup runs of
  ``filestore_backup`` and ``config_backup`` (:data:`TEXTFILE_METRICS`);
* the exporters' own metrics (:data:`EXPORTER_METRICS`), checked against the versions Debian
  bookworm packages, not against newer upstream documentation: node_exporter 1.5.0 (run on loopback),
  postgres_exporter 0.11.1 (its built-in metric maps, ``cmd/postgres_exporter/postgres_exporter.go``
  at v0.11.1; no ``queries.yaml`` extension assumed), the role's own PgBouncer exporter (a live
  scrape in test_monitoring_exporters_pgbouncer.py), redis_exporter 1.45.0 (``exporter/exporter.go`` and
  ``exporter/sentinels.go`` at v1.45.0; the same binary serves the ``sentinel`` job) and Patroni 3.0.2
  (``patroni/api.py`` in the .deb), plus what Prometheus 2.42 records itself.

Only names something here uses or is expected to use are listed; add a name when a query needs
it, after checking it in the packaged version. :func:`metric_names` reads the names out of a PromQL
expression, for tests that check dashboards and rules against these lists.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

RULES_DIR = Path(__file__).resolve().parents[1] / "roles" / "prometheus" / "files" / "rules"


def rule_files(rules_dir: Path = RULES_DIR) -> dict[str, dict[str, Any]]:
    """File name -> the parsed rule file, for every ``*.yml`` of ``rules_dir`` (the platform's rule
    files): the one reader of them for the tests and the probes."""
    paths = sorted(rules_dir.glob("*.yml"))
    return {p.name: yaml.safe_load(p.read_text(encoding="utf-8")) or {} for p in paths}


def recording_rules(rules_dir: Path = RULES_DIR) -> frozenset[str]:
    """The names the platform's rule files record (the tiers' objectives among them): read from the
    files, so a dashboard can only use what a rule records."""
    return frozenset(
        rule["record"]
        for doc in rule_files(rules_dir).values()
        for group in doc.get("groups", [])
        for rule in group.get("rules", [])
        if "record" in rule
    )


RECORDING_RULES = recording_rules()

TEXTFILE_METRICS = frozenset(
    {
        # hubs, one series per branch peer (labels hub, branch, tier, link, kind, interface)
        "retailops_wireguard_peer_latest_handshake_timestamp_seconds",
        "retailops_wireguard_peer_receive_bytes_total",
        "retailops_wireguard_peer_transmit_bytes_total",
        "retailops_wireguard_collector_success",
        # database hosts
        "retailops_pgbackrest_backup_last_completion_timestamp_seconds",
        "retailops_pgbackrest_backup_last_size_bytes",
        "retailops_pgbackrest_info_success",
        "retailops_pgbackrest_backup_unit_failed",
        "retailops_pgbackrest_backup_unit_collector_success",
        "retailops_postgresql_archive_last_archived_timestamp_seconds",
        "retailops_postgresql_archive_failed_total",
        "retailops_postgresql_archive_last_failed_timestamp_seconds",
        "retailops_postgresql_archive_is_primary",
        # every host with certificates
        "retailops_certificate_not_after_timestamp_seconds",
        "retailops_certificate_collector_success",
        # the Odoo filestore's backup host (roles/filestore_backup, each run)
        "retailops_filestore_backup_last_run_success",
        "retailops_filestore_backup_last_run_timestamp_seconds",
        "retailops_filestore_backup_last_success_timestamp_seconds",
        "retailops_filestore_backup_last_run_duration_seconds",
        "retailops_filestore_backup_files",
        "retailops_filestore_backup_bytes",
        "retailops_filestore_backup_removed_sets",
        "retailops_filestore_backup_interval_seconds",
        # every host of config_backup (roles/config_backup, each run; per store where labelled)
        "retailops_config_backup_last_run_success",
        "retailops_config_backup_last_run_timestamp_seconds",
        "retailops_config_backup_last_run_duration_seconds",
        "retailops_config_backup_last_success_timestamp_seconds",
        "retailops_config_backup_snapshots",
        "retailops_config_backup_files",
        "retailops_config_backup_bytes",
        "retailops_config_backup_interval_seconds",
        "retailops_config_backup_patroni_leader",
        "retailops_config_backup_collected_timestamp_seconds",
        "retailops_config_backup_collected_max_age_seconds",
        # the monitoring node: the prometheus role's Kubernetes discovery (label kubernetes_job)
        "retailops_kubernetes_sd_success",
        "retailops_kubernetes_sd_targets",
    }
)

EXPORTER_METRICS: dict[str, frozenset[str]] = {
    # Prometheus 2.42 itself: per target and for its alerts.
    "prometheus": frozenset(
        {
            "up",
            "scrape_duration_seconds",
            "scrape_samples_scraped",
            "ALERTS",
            "ALERTS_FOR_STATE",
        }
    ),
    # prometheus-node-exporter 1.5.0, default collectors, the textfile collector on.
    "node": frozenset(
        {
            "node_filesystem_avail_bytes",
            "node_filesystem_free_bytes",
            "node_filesystem_size_bytes",
            "node_filesystem_readonly",
            "node_filesystem_device_error",
            "node_filesystem_files",
            "node_filesystem_files_free",
            "node_textfile_scrape_error",
            "node_textfile_mtime_seconds",
            "node_cpu_seconds_total",
            "node_load1",
            "node_load5",
            "node_load15",
            "node_memory_MemAvailable_bytes",
            "node_memory_MemTotal_bytes",
            "node_network_receive_bytes_total",
            "node_boot_time_seconds",
            "node_time_seconds",
            "node_uname_info",
        }
    ),
    # prometheus-postgres-exporter 0.11.1, built-in maps (pg_stat_replication's sync_state is
    # discarded there: the synchronous standby comes from Patroni).
    "postgres": frozenset(
        {
            "pg_up",
            "pg_stat_replication_pg_wal_lsn_diff",
            "pg_stat_replication_pg_current_wal_lsn_bytes",
            "pg_replication_slots_active",
            "pg_replication_slots_pg_wal_lsn_diff",
            "pg_stat_archiver_archived_count",
            "pg_stat_archiver_failed_count",
            "pg_stat_archiver_last_archive_age",
            "pg_stat_activity_count",
            "pg_stat_activity_max_tx_duration",
            "pg_stat_database_numbackends",
            "pg_stat_database_xact_commit",
            "pg_stat_database_xact_rollback",
            "pg_stat_database_deadlocks",
            "pg_database_size_bytes",
            "pg_locks_count",
        }
    ),
    # Patroni 3.0.2's GET /metrics (label scope).
    "patroni": frozenset(
        {
            "patroni_version",
            "patroni_postgres_running",
            "patroni_postmaster_start_time",
            "patroni_master",
            "patroni_primary",
            "patroni_xlog_location",
            "patroni_standby_leader",
            "patroni_replica",
            "patroni_sync_standby",
            "patroni_xlog_received_location",
            "patroni_xlog_replayed_location",
            "patroni_xlog_replayed_timestamp",
            "patroni_xlog_paused",
            "patroni_postgres_server_version",
            "patroni_cluster_unlocked",
            "patroni_failsafe_mode_is_active",
            "patroni_postgres_timeline",
            "patroni_dcs_last_seen",
            "patroni_pending_restart",
            "patroni_is_paused",
        }
    ),
    # monitoring_exporters' PgBouncer exporter (roles/monitoring_exporters/files/retailops_pgbouncer.py,
    # checked against PgBouncer 1.18 by test_monitoring_exporters_pgbouncer.py): pgbouncer_up, SHOW LISTS
    # (no label), SHOW POOLS (labels database, user), SHOW DATABASES and SHOW STATS (label database).
    "pgbouncer": frozenset(
        {
            "pgbouncer_up",
            "pgbouncer_databases",
            "pgbouncer_users",
            "pgbouncer_pools",
            "pgbouncer_free_clients",
            "pgbouncer_used_clients",
            "pgbouncer_login_clients",
            "pgbouncer_free_servers",
            "pgbouncer_used_servers",
            "pgbouncer_active_clients",
            "pgbouncer_waiting_clients",
            "pgbouncer_active_servers",
            "pgbouncer_idle_servers",
            "pgbouncer_used_pool_servers",
            "pgbouncer_max_wait_seconds",
            "pgbouncer_pool_size",
            "pgbouncer_reserve_pool",
            "pgbouncer_max_connections",
            "pgbouncer_current_connections",
            "pgbouncer_queries_total",
            "pgbouncer_transactions_total",
            "pgbouncer_received_bytes_total",
            "pgbouncer_sent_bytes_total",
            "pgbouncer_query_seconds_total",
            "pgbouncer_wait_seconds_total",
        }
    ),
    # prometheus-redis-exporter 1.45.0, for Redis (job redis) and for Sentinel (job sentinel).
    "redis": frozenset(
        {
            "redis_up",
            "redis_instance_info",
            "redis_connected_clients",
            "redis_memory_used_bytes",
            "redis_memory_max_bytes",
            "redis_connected_slaves",
            "redis_master_link_up",
            "redis_master_repl_offset",
            "redis_sentinel_masters",
            "redis_sentinel_tilt",
            "redis_sentinel_master_status",
            "redis_sentinel_master_slaves",
            "redis_sentinel_master_sentinels",
            "redis_sentinel_master_ok_sentinels",
            "redis_sentinel_master_ok_slaves",
            "redis_sentinel_master_ckquorum_status",
        }
    ),
}

KNOWN = RECORDING_RULES | TEXTFILE_METRICS | frozenset().union(*EXPORTER_METRICS.values())

KEYWORDS = frozenset(
    {
        "and",
        "or",
        "unless",
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "bool",
        "offset",
        "atan2",
        "inf",
        "nan",
    }
)

STRING_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
BRACES = re.compile(r"\{[^{}]*\}")
BRACKETS = re.compile(r"\[[^\[\]]*\]")
LABEL_LIST = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
TOKEN = re.compile(r"(?P<number>\d[\w.]*(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_:][\w:]*)(?P<call>\s*\()?")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (names of selectors, not functions or labels).

    A selector written ``{__name__="x"}`` is not seen; queries here name their metrics."""
    text = STRING_LITERAL.sub('""', expr)
    text = BRACES.sub(" ", text)
    text = BRACKETS.sub(" ", text)
    text = LABEL_LIST.sub(" ", text)
    names: set[str] = set()
    for token in TOKEN.finditer(text):
        name = token.group("name")
        if name and not token.group("call") and name.lower() not in KEYWORDS:
            names.add(name)
    return names
