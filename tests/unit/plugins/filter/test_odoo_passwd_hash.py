"""admin_passwd hashing: Odoo's pbkdf2-sha512 format, and an unchanged password keeps its hash."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.retailops.odoo_platform.plugins.filter import odoo_passwd_hash as plugin
from passlib.context import CryptContext

ROUNDS = 1000  # fast; the format is the same as with Odoo's 600000


def test_hash_is_odoos_format_and_verifies_like_odoo() -> None:
    hashed = plugin.odoo_passwd_hash("s3cret", rounds=ROUNDS)
    assert hashed.startswith(f"$pbkdf2-sha512${ROUNDS}$")
    # Odoo's config.verify_admin_password uses this context.
    odoo = CryptContext(["pbkdf2_sha512", "plaintext"], deprecated=["plaintext"])
    assert odoo.verify("s3cret", hashed)
    assert not odoo.verify("other", hashed)


def test_unchanged_password_keeps_the_stored_hash() -> None:
    first = plugin.odoo_passwd_hash("s3cret", rounds=ROUNDS)
    assert plugin.odoo_passwd_hash("s3cret", existing=first, rounds=ROUNDS) == first


def test_changed_password_or_rounds_gets_a_new_hash() -> None:
    first = plugin.odoo_passwd_hash("s3cret", rounds=ROUNDS)
    changed = plugin.odoo_passwd_hash("n3w", existing=first, rounds=ROUNDS)
    assert changed != first
    assert CryptContext(["pbkdf2_sha512"]).verify("n3w", changed)
    assert plugin.odoo_passwd_hash("s3cret", existing=first, rounds=2000) != first


@pytest.mark.parametrize("existing", ["", "admin", "$pbkdf2-sha512$1000$garbage", None])
def test_plain_or_broken_existing_values_are_replaced(existing: object) -> None:
    hashed = plugin.odoo_passwd_hash("s3cret", existing=existing, rounds=ROUNDS)
    assert CryptContext(["pbkdf2_sha512"]).verify("s3cret", hashed)


@pytest.mark.parametrize(("password", "rounds"), [("", ROUNDS), (None, ROUNDS), ("x", 10)])
def test_bad_input_is_refused(password: object, rounds: int) -> None:
    with pytest.raises(AnsibleFilterError):
        plugin.odoo_passwd_hash(password, rounds=rounds)


def test_registered_under_its_name() -> None:
    assert plugin.FilterModule().filters() == {"odoo_passwd_hash": plugin.odoo_passwd_hash}
