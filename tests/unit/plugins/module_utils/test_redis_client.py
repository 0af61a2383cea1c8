"""Reply parsing and value normalisation shared by the Redis modules."""

from __future__ import annotations

from typing import ClassVar

import pytest
from ansible_collections.retailops.odoo_platform.plugins.module_utils import redis_client


def test_flat_pairs_become_a_dict() -> None:
    reply = ["name", "odoo", "ip", "10.0.0.1", "port", "6379", "config-epoch", "3"]
    expected = {"name": "odoo", "ip": "10.0.0.1", "port": "6379", "config-epoch": "3"}
    assert redis_client.pairs(reply) == expected


def test_dict_replies_are_stringified() -> None:
    assert redis_client.pairs({"quorum": 2, b"x": "y"}) == {"quorum": "2", "b'x'": "y"}


def test_list_of_pair_replies() -> None:
    reply = [["name", "a", "ip", "1.1.1.1"], ["name", "b"]]
    assert redis_client.pairs_list(reply) == [{"name": "a", "ip": "1.1.1.1"}, {"name": "b"}]
    assert redis_client.pairs_list(None) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, "yes"),
        (False, "no"),
        (268435456, "268435456"),
        ("3600 1  300 100", "3600 1 300 100"),
        ("", ""),
        (" noeviction ", "noeviction"),
    ],
)
def test_normalize_matches_config_get(value: object, expected: str) -> None:
    assert redis_client.normalize(value) == expected


def test_connection_options() -> None:
    spec = redis_client.connection_argument_spec(26379)
    assert spec["login_port"]["default"] == 26379
    assert spec["login_password"]["no_log"] is True


@pytest.mark.parametrize(
    ("value", "sent"),
    [(True, "yes"), (False, "no"), (1048576, "1048576"), (" two  spaces ", " two  spaces "), ("", "")],
)
def test_as_string_keeps_what_normalize_collapses(value: object, sent: str) -> None:
    assert redis_client.as_string(value) == sent


def test_the_client_makes_one_attempt() -> None:
    """redis-py 6+ retries 3 times with backoff unless told not to (see test_redis_config's silent server)."""

    class Params:
        params: ClassVar[dict[str, object]] = {
            "login_host": "127.0.0.1",
            "login_port": 1,
            "login_user": None,
            "login_password": None,
            "connect_timeout": 0.5,
        }

    conn = redis_client.client(Params())
    retry = conn.get_retry()
    assert retry is not None
    assert retry.get_retries() == 0
