"""Load-test harness for the retailops Odoo 18 platform.

Branch-like traffic (Locust personas), link profiles through Toxiproxy,
drills during load, a write ledger reconciled against the database and SLO
gates that end in GO or NO-GO. Entry point: ``python -m loadtests run``.
"""

__version__ = "0.1.0"
