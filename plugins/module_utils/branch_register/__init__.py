# Copyright (c) 2026 RetailOps platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Branch register: load, validate and compute the VPN view of a retailer's branches.

The register is one YAML document per region (schema: plugins/README.md).  The
inventory plugin, the allow-list lookup, ``retailops-branchctl`` and the load
harness all use this one package, by its collection name:

- ``model``: the records (Region, Hub, Branch, Tier, Integration) on
  pydantic, their field types and hints, the problems, the link classes;
- ``regions``: one region file -> Region, with the checks that need the region;
- ``checks``: unique names, overlapping networks, tunnel addresses, across files;
- ``allocation``: the tunnel address allocator;
- ``register``: ``build_register`` and the ``Register`` with its views;
- ``files``: ``load_register(paths)``, register files read strictly.
"""
