"""The test rig, never shipped: the Odoo protocol double, the real-Odoo lane, the pilot's orchestration."""
