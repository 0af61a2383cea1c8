# Copyright: (c) 2026, RetailOps platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options shared by the collection's Redis modules."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  login_host:
    description: Address of the Redis server or Sentinel, usually the loopback address on the managed host.
    type: str
    default: 127.0.0.1
  login_port:
    description: Port of the Redis server (default 6379) or Sentinel (default 26379).
    type: int
  login_user:
    description: ACL user to authenticate as; omit to authenticate as the default user.
    type: str
  login_password:
    description: Password of I(login_user), or of the default user.
    type: str
  connect_timeout:
    description: Seconds to wait for the connection and for each reply.
    type: float
    default: 5.0
requirements:
  - redis (Python library; C(python3-redis) on Debian) on the managed host
"""
