"""Bad input to erp_dns: refused before anything is read or changed, naming the variable.

The role against a real DNS server: test_erp_dns.py.
"""

from __future__ import annotations

from typing import Any

from conftest import validate_tests

GOOD: dict[str, Any] = {
    "erp_dns_server": "10.213.21.53",
    "erp_dns_zone": "pilot.test",
    "erp_dns_key_name": "erp-update",
    "erp_dns_key_secret": "a2V5LWZvci11bml0LXRlc3RzLW9ubHk=",
    "erp_dns_addresses": ["10.213.40.11", "2001:db8::11"],
}

BAD: dict[str, tuple[dict[str, Any], str]] = {
    "no server": ({"erp_dns_server": ""}, "erp_dns_server"),
    "a URL for a server": ({"erp_dns_server": "dns://10.213.21.53"}, "erp_dns_server"),
    "no zone": ({"erp_dns_zone": ""}, "erp_dns_zone"),
    "a zone with a space": ({"erp_dns_zone": "pilot test"}, "erp_dns_zone"),
    "an absolute record": ({"erp_dns_record": "erp.pilot.test."}, "erp_dns_record"),
    "a TTL of 0": ({"erp_dns_ttl": 0}, "erp_dns_ttl"),
    "a TTL of a day": ({"erp_dns_ttl": 86400}, "erp_dns_ttl"),
    "a port out of range": ({"erp_dns_port": 70000}, "erp_dns_port"),
    "no key name": ({"erp_dns_key_name": ""}, "erp_dns_key_name"),
    "no key secret": ({"erp_dns_key_secret": ""}, "erp_dns_key_secret"),
    "a key secret that is not base64": ({"erp_dns_key_secret": "not base64 at all!"}, "erp_dns_key_secret"),
    "a name for an address": ({"erp_dns_addresses": ["erp-dr.pilot.test"]}, "erp_dns_addresses"),
    "a name with a port": ({"erp_dns_addresses": ["10.213.40.11:443", "erp-dr:443"]}, "erp_dns_addresses"),
    "an address with a path": ({"erp_dns_addresses": ["10.213.40.11/24"]}, "erp_dns_addresses"),
    "an unknown transport": ({"erp_dns_protocol": "quic"}, "erp_dns_protocol"),
    "an unknown algorithm": ({"erp_dns_key_algorithm": "hmac-sha3"}, "erp_dns_key_algorithm"),
}

runs, test_the_good_input_passes, test_bad_input_is_refused_naming_the_variable = validate_tests(
    "erp_dns", GOOD, BAD
)
