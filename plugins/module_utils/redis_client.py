# Copyright: (c) 2026, RetailOps platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared connection handling and reply parsing for the collection's Redis modules.

The modules run on the managed host and use redis-py (Debian's python3-redis);
they talk to a Redis server or a Sentinel on that host, so credentials never
leave it.
"""

from __future__ import annotations

import traceback
from typing import Any

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

REDIS_IMPORT_ERROR = None
try:
    import redis

    HAS_REDIS = True
except ImportError:  # pragma: no cover - depends on the managed host
    HAS_REDIS = False
    REDIS_IMPORT_ERROR = traceback.format_exc()

try:
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    HAS_RETRY = True
except ImportError:  # pragma: no cover - redis-py before 4.1 has no Retry and does not retry
    HAS_RETRY = False


def connection_argument_spec(default_port: int) -> dict[str, Any]:
    """The login options every module of the collection accepts."""
    return {
        "login_host": {"type": "str", "default": "127.0.0.1"},
        "login_port": {"type": "int", "default": default_port},
        "login_user": {"type": "str"},
        "login_password": {"type": "str", "no_log": True},
        "connect_timeout": {"type": "float", "default": 5.0},
    }


def client(module: AnsibleModule) -> Any:
    """A redis-py client for the login options; fails the module when redis-py is missing."""
    if not HAS_REDIS:
        module.fail_json(msg=missing_required_lib("redis (python3-redis)"), exception=REDIS_IMPORT_ERROR)
    params = module.params
    # One attempt: redis-py 6 and later retry a failed connection or reply 3
    # times with backoff by default, so connect_timeout would not bound the
    # wait. Retrying is the task's business (retries/until).
    no_retry: dict[str, Any] = {"retry": Retry(NoBackoff(), 0)} if HAS_RETRY else {}
    return redis.Redis(
        host=params["login_host"],
        port=params["login_port"],
        username=params["login_user"],
        password=params["login_password"],
        socket_timeout=params["connect_timeout"],
        socket_connect_timeout=params["connect_timeout"],
        decode_responses=True,
        **no_retry,
    )


def redis_error_types() -> tuple[type[BaseException], ...]:
    """The exceptions a connection or a command may raise."""
    if not HAS_REDIS:
        return ()
    return (redis.exceptions.RedisError, OSError)


def pairs(reply: Any) -> dict[str, str]:
    """Turn a flat ``[key, value, key, value]`` reply (or a dict) into a dict of strings."""
    if isinstance(reply, dict):
        return {str(k): str(v) for k, v in reply.items()}
    items = list(reply or [])
    return {str(items[i]): str(items[i + 1]) for i in range(0, len(items) - 1, 2)}


def pairs_list(reply: Any) -> list[dict[str, str]]:
    """Turn a list of flat pair replies (SENTINEL MASTERS, REPLICAS, SENTINELS) into dicts."""
    return [pairs(item) for item in (reply or [])]


def as_string(value: Any) -> str:
    """A value as sent to Redis: booleans as yes/no, everything else as written."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def normalize(value: Any) -> str:
    """Compare configuration values the way CONFIG GET reports them (runs of whitespace collapsed)."""
    return " ".join(as_string(value).split())
