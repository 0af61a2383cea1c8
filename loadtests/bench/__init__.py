"""Generator efficiency benchmark: this harness against OdooLocust on the same target, side by side."""
