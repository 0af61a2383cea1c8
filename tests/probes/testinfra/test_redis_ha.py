"""redis_ha: Redis and Sentinel run hardened, listen on loopback and the private address only.

Their files with passwords or hashes are readable by redis only.
"""

from __future__ import annotations

import re

import pytest

PRIVATE = {"redis-1": "10.213.4.11", "redis-2": "10.213.4.12", "redis-3": "10.213.4.13"}
SERVICES = ("redis-server", "redis-sentinel")
PORTS = (6379, 26379)
# Written by the role only (exact mode), and rewritten at runtime by Redis and
# Sentinel (CONFIG REWRITE, Sentinel's state): passwords or hashes in all four.
ROLE_FILES = ("/etc/redis/retailops/users.acl", "/etc/redis/retailops/settings.conf")
REWRITTEN_FILES = ("/etc/redis/retailops/redis.conf", "/etc/redis/retailops/sentinel.conf")


def node(host) -> str:
    """The container's name, as the scenario's molecule.yml names it."""
    return str(host.backend.get_hostname())


@pytest.mark.parametrize("name", SERVICES)
def test_service_runs_enabled_and_hardened(host, name):
    service = host.service(name)
    properties = service.systemd_properties

    assert service.is_running
    assert service.is_enabled
    assert properties["PrivateUsers"] == "yes"
    assert properties["ProtectSystem"] == "strict"
    # The role's drop-in: deny every address but the allow list.
    assert re.search(r"(^| )0\.0\.0\.0/0( |$)", properties["IPAddressDeny"]), properties["IPAddressDeny"]


def test_listens_on_loopback_and_the_private_address_only(host):
    listening = {
        address
        for address in host.socket.get_listening_sockets()
        if re.fullmatch(rf"tcp://[^/]+:({'|'.join(map(str, PORTS))})", address)
    }

    assert listening == {
        f"tcp://{address}:{port}" for address in ("127.0.0.1", PRIVATE[node(host)]) for port in PORTS
    }


@pytest.mark.parametrize("path", ROLE_FILES + REWRITTEN_FILES)
def test_secrets_are_readable_by_redis_only(host, path):
    secret = host.file(path)

    assert secret.is_file
    assert (secret.user, secret.group) == ("redis", "redis")
    assert secret.mode & 0o007 == 0, oct(secret.mode)
    if path in ROLE_FILES:
        assert secret.mode == 0o640, oct(secret.mode)


def test_sentinel_rewrote_its_file_with_what_it_learned(host):
    sentinel_conf = host.file("/etc/redis/retailops/sentinel.conf").content_string

    for directive in ("sentinel known-replica odoo ", "sentinel known-sentinel odoo ", "sentinel myid "):
        assert re.search(rf"(?m)^{directive}", sentinel_conf), directive


def test_the_first_primary_follows_the_new_one_by_sentinels_doing(host):
    """The failover drill took redis-1 down: Sentinel, never the role, put replicaof into its main file."""
    if node(host) != "redis-1":
        pytest.skip("only the first primary was failed over")
    main_conf = host.file("/etc/redis/retailops/redis.conf").content_string

    assert re.search(r"(?m)^replicaof 10\.213\.4\.1[23] 6379$", main_conf)


def test_kernel_settings_written_exactly_where_proc_sys_is_writable(host):
    writable = host.run("test -w /proc/sys/vm/overcommit_memory").rc == 0

    assert host.file("/etc/sysctl.d/60-redis.conf").exists == writable
