"""Double-only behaviour: login cooldown, proxy_mode, session stores, the drop-acked fault, unique(uuid)."""

from __future__ import annotations

import time

import pytest
import redis

from tests.contract.pos_helpers import make_order, sync
from tests.contract.rpc import Client, RpcError
from tests.fixtures.double import DoubleProcess
from tests.fixtures.plugin import DoubleFactory
from tests.fixtures.services import RedisServer

pytestmark = pytest.mark.double_only

COOLDOWN = "Too many login failures, please wait a bit before trying again."


def _login_error(double: DoubleProcess, password: str, headers: dict[str, str]) -> str | None:
    client = Client(double.url, double.db, headers=headers)
    try:
        client.authenticate("admin", password)
    except RpcError as exc:
        return str(exc.message)
    return None


def test_login_cooldown_per_address_and_proxy_mode(double_factory: DoubleFactory):
    double = double_factory("cooldown", options={"proxy_mode": True, "workers": 1})
    proxied = {"X-Forwarded-For": "10.9.9.9", "X-Forwarded-Host": "shop.example"}
    errors = [_login_error(double, "wrong", proxied) for _i in range(5)]
    assert errors == ["Access Denied"] * 5
    assert _login_error(double, "wrong", proxied) == COOLDOWN
    assert _login_error(double, "admin", proxied) == COOLDOWN, "the right password is refused during cooldown"
    other = {"X-Forwarded-For": "10.9.9.10", "X-Forwarded-Host": "shop.example"}
    assert _login_error(double, "admin", other) is None, "another client address is not throttled"
    # Without X-Forwarded-Host, proxy_mode does not apply: X-Forwarded-For is ignored and
    # the request counts for the socket address (127.0.0.1), which is not throttled.
    assert _login_error(double, "admin", {"X-Forwarded-For": "10.9.9.9"}) is None


def test_cooldown_ends_after_its_duration(double_factory: DoubleFactory):
    double = double_factory("cooldown-short", options={"workers": 1}, db="retail_cooldown")
    with double.pg.connect(double.db) as conn:
        conn.execute("UPDATE ir_config_parameter SET value = '1' WHERE key = 'base.login_cooldown_duration'")
    for _i in range(5):
        assert _login_error(double, "wrong", {}) == "Access Denied"
    assert _login_error(double, "admin", {}) == COOLDOWN
    time.sleep(1.2)
    assert _login_error(double, "admin", {}) is None


def test_filesystem_sessions_are_per_node(double_factory: DoubleFactory, odoo):
    other = double_factory("node-b", db=odoo.db, options={"workers": 1})
    client = odoo.admin()
    moved = Client(other.url, odoo.db)
    moved.http.cookies.update(client.http.cookies)
    assert moved.post("/web/session/get_session_info", {}).json()["error"]["code"] == 100


def test_redis_sessions_are_shared(double_factory: DoubleFactory, redis_server: RedisServer):
    options = {
        "workers": 1,
        "session_redis": True,
        "session_redis_host": "127.0.0.1",
        "session_redis_port": redis_server.port,
        "session_redis_prefix": "contract",
    }
    node_a = double_factory("redis-a", db="retail_redis", options=options)
    node_b = double_factory("redis-b", db="retail_redis", options=options)
    client = Client(node_a.url, node_a.db)
    uid = client.authenticate("admin", "admin")["uid"]
    moved = Client(node_b.url, node_b.db)
    moved.http.cookies.update(client.http.cookies)
    assert moved.call("/web/session/get_session_info", {})["uid"] == uid
    keys = redis.Redis(port=redis_server.port).keys("session:contract:*")
    assert keys, "sessions must live in Redis under the configured prefix"
    assert not list((node_a.root / "data" / "sessions").rglob("*")), "no filesystem sessions with Redis"


def test_drop_acked_orders_fault(double_factory: DoubleFactory):
    double = double_factory("drop-acked", db="retail_drop", options={"double_drop_acked_orders": 0.5})
    client = Client(double.url, double.db)
    client.authenticate("cashier_b001", "cashier_b001")
    config = double.seed_summary["pos_configs"][0]
    product = client.kw("product.product", "search", [[]], limit=1)[0]
    orders = [
        make_order(config["open_session_id"], config["config_id"], [(product, 1, 1.0)]) for _i in range(40)
    ]
    acked = set()
    for order in orders:
        reply = sync(client, [order], config["config_id"])
        assert [o["uuid"] for o in reply["pos.order"]] == [order["uuid"]]
        acked.add(order["uuid"])
    present = {
        o["uuid"]
        for o in client.kw("pos.order", "search_read", [[["uuid", "in", sorted(acked)]]], fields=["uuid"])
    }
    lost = acked - present
    assert 0 < len(lost) < len(acked), "some, not all, acknowledged orders must be lost"
    assert present <= acked


def test_unique_uuid_switch(double_factory: DoubleFactory):
    """double_pos_uuid_unique (odoo PR #216862): a draft re-sent with its line uuids is refused.

    Without the switch (the 18.0-20250702 build, the default) the re-sent lines are added again.
    """
    double = double_factory("uuid-unique", db="retail_unique", options={"double_pos_uuid_unique": True})
    client = Client(double.url, double.db)
    client.authenticate("cashier_b001", "cashier_b001")
    config = double.seed_summary["pos_configs"][0]
    product = client.kw("product.product", "search", [[["is_storable", "=", True]]], limit=1)[0]
    draft = make_order(
        config["open_session_id"],
        config["config_id"],
        [(product, 1, 1.0)],
        state="draft",
        payment_method_id=config["cash_payment_method_id"],
    )
    sync(client, [draft], config["config_id"])
    with pytest.raises(RpcError) as err:
        sync(client, [draft], config["config_id"])
    assert err.value.name == "odoo.exceptions.ValidationError"
    assert "pos_order_line_uuid_unique" in str(err.value.message)
