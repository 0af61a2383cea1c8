# Copyright (c) 2026 RetailOps platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: kubernetes_quantity
short_description: The number a Kubernetes resource quantity stands for
version_added: 0.1.0
description:
  - Returns the value of a Kubernetes quantity as a number - CPU in cores (C(500m) is 0.5, C(2) is 2.0),
    memory in bytes (C(512Mi) is 536870912, C(1G) is 1000000000).
  - Accepts the suffixes Kubernetes accepts - binary C(Ki Mi Gi Ti Pi Ei), decimal C(n u m k M G T P E),
    and an exponent (C(1e3)). Refuses anything else, so a role can check a quantity before it is applied.
author:
  - RetailOps platform engineering (@retailops)
options:
  _input:
    description: The quantity (a string or a number).
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Memory limit in MB
  ansible.builtin.debug:
    msg: "{{ ('2Gi' | retailops.odoo_platform.kubernetes_quantity / 1048576) | int }}"
"""

RETURN = r"""
_value:
  description: The quantity as a float.
  type: float
"""

import re
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Dict

from ansible.errors import AnsibleFilterError

QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eE][+-]?[0-9]+|[numkMGTPE]|[KMGTPE]i)?$")
SUFFIXES = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}


def kubernetes_quantity(value: Any) -> float:
    """The number a quantity such as ``500m`` or ``2Gi`` stands for."""
    if isinstance(value, bool) or value is None:
        raise AnsibleFilterError("kubernetes_quantity: %r is not a quantity" % (value,))
    text = str(value).strip()
    match = QUANTITY.match(text)
    if not match:
        raise AnsibleFilterError(
            "kubernetes_quantity: %r is not a quantity (e.g. 500m, 2, 512Mi, 1Gi)" % (value,)
        )
    number, suffix = match.group(1), match.group(2) or ""
    try:
        base = Decimal(number)
        factor = Decimal("1" + suffix) if suffix[:1] in ("e", "E") else SUFFIXES[suffix]
    except (InvalidOperation, KeyError) as exc:
        raise AnsibleFilterError("kubernetes_quantity: %r is not a quantity" % (value,)) from exc
    return float(base * factor)


class FilterModule:
    """Kubernetes resource quantities."""

    def filters(self) -> Dict[str, Callable[..., Any]]:
        return {"kubernetes_quantity": kubernetes_quantity}
