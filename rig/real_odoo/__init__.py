"""The real-Odoo lane (``make real-odoo``): the contract suite and the load harness against a real Odoo 18.

Modules: ``tree`` (the source tree: checks, addons path, fingerprint),
``database`` (the lane's PostgreSQL, template databases, fresh copies),
``server`` (odoo.conf, the venv, the Odoo process or container),
``summary`` (the one-screen summary) and ``lane`` (the steps, run by make).
"""
