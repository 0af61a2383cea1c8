"""docker_host: the engine runs and starts at boot, and answers on its local socket only."""

from __future__ import annotations


def test_engine_runs_and_is_enabled(host):
    docker = host.service("docker")

    assert docker.is_running
    assert docker.is_enabled


def test_engine_listens_on_its_unix_socket_only(host):
    assert host.socket("unix:///run/docker.sock").is_listening
    # No TCP or UDP listener belongs to dockerd (no remote API).
    tcp_udp = host.check_output("ss -Hlntup")
    assert not [line for line in tcp_udp.splitlines() if '"dockerd"' in line], tcp_udp


def test_daemon_json_is_root_owned_and_not_world_writable(host):
    daemon_json = host.file("/etc/docker/daemon.json")

    assert (daemon_json.user, daemon_json.group) == ("root", "root")
    assert daemon_json.mode & 0o022 == 0, oct(daemon_json.mode)
