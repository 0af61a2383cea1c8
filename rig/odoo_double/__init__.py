"""An Odoo 18 protocol double: Odoo's wire protocol on top of real PostgreSQL work.

Run it with ``python -m rig.odoo_double -c odoo.conf`` from the repository root
(or ``python -m odoo_double`` where the package is installed on its own, as in
the container image). See README.md beside this file.
"""

DOUBLE_NAME = "odoo_double"
DOUBLE_VERSION = "1.0"
#: Header added to every response so reports can tell the double from a real Odoo.
DOUBLE_HEADER = "X-Odoo-Double"

SERVER_VERSION = "18.0-20250702"
SERVER_VERSION_INFO: list[object] = [18, 0, 0, "final", 0, ""]
SERVER_SERIE = "18.0"
WEBSOCKET_WORKER_VERSION = "18.0-5"
