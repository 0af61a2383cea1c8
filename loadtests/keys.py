"""Client keys for writes, all carrying the run id so the run's records can be found."""

from __future__ import annotations

import secrets

RECEIPT = "receipt"  # the kind in the keys of the cashier's receipts (ir.attachment names)


def order_uuid(run_id: str) -> str:
    """A uuid4-shaped key whose first group is the run id (``<run>-xxxx-4xxx-yxxx-xxxxxxxxxxxx``)."""
    r = secrets.token_hex(14)
    variant = "89ab"[secrets.randbelow(4)]
    return f"{run_id}-{r[0:4]}-4{r[4:7]}-{variant}{r[7:10]}-{r[10:22]}"


def ref(run_id: str, kind: str) -> str:
    """``LT-<run>-<kind>-<random>`` for invoices, replenishments, partners and receipts."""
    return f"LT-{run_id}-{kind}-{secrets.token_hex(6)}"


def run_prefix(run_id: str, kind: str = "") -> str:
    return f"LT-{run_id}-{kind}-" if kind else f"LT-{run_id}-"
