"""pg_routing refuses bad input before HAProxy is touched, naming the variable: the servers, the
listen address and ports, and the health checks' times (HAProxy's format; fastinter and downinter
may be empty, HAProxy then uses inter)."""

from __future__ import annotations

from typing import Any

from conftest import validate_tests

SERVERS = [{"name": "db-1", "address": "10.0.0.21"}, {"name": "db-2", "address": "10.0.0.22"}]
GOOD: dict[str, Any] = {"pg_routing_servers": SERVERS}
BAD: dict[str, tuple[dict[str, Any], str]] = {
    "inter without a number": ({"pg_routing_check_inter": "fast"}, "pg_routing_check_inter"),
    "fastinter with a space": ({"pg_routing_check_fastinter": "250 ms"}, "pg_routing_check_fastinter"),
    "downinter in an unknown unit": ({"pg_routing_check_downinter": "1sec"}, "pg_routing_check_downinter"),
    "check timeout negative": ({"pg_routing_check_timeout": "-2s"}, "pg_routing_check_timeout"),
    "empty inter": ({"pg_routing_check_inter": ""}, "pg_routing_check_inter"),
    "server without an address": ({"pg_routing_servers": [{"name": "db-1"}]}, "pg_routing_servers"),
}
runs, test_the_good_input_passes, test_bad_input_is_refused_naming_the_variable = validate_tests(
    "pg_routing", GOOD, BAD
)
