"""branch_vpn: WireGuard's secrets are root's alone, the configuration holds no key, the tunnel runs.

Run on the hub and the live branches (groups hubs and branches of the
scenario's register).
"""

from __future__ import annotations

KEY_DIR = "/etc/wireguard/branch_vpn"


def test_private_and_preshared_keys_are_root_only(host):
    keys = host.check_output(f"find {KEY_DIR} -type f \\( -name '*.key' -o -name '*.psk' \\)").split()

    assert f"{KEY_DIR}/private.key" in keys
    assert [k for k in keys if k.endswith(".psk")], keys  # the scenario turns pre-shared keys on
    for path in keys:
        key = host.file(path)
        assert (key.user, key.group, key.mode) == ("root", "root", 0o600), (path, oct(key.mode))


def test_the_wireguard_configuration_is_root_only_and_holds_no_key(host):
    conf = host.file("/etc/wireguard/wg0.conf")

    assert (conf.user, conf.group, conf.mode) == ("root", "root", 0o600), oct(conf.mode)
    assert "PrivateKey" not in conf.content_string
    assert "PresharedKey" not in conf.content_string


def test_the_userspace_tunnel_runs(host):
    # No WireGuard kernel module in the test containers: wireguard-go carries wg0.
    assert host.process.filter(comm="wireguard-go")
    assert host.service("wg-quick@wg0").is_enabled
