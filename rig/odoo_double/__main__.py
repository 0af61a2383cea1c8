"""Command line of the double.

python -m rig.odoo_double [server|seed|check-config] -c odoo.conf [--option value ...]
"""

from __future__ import annotations

import argparse
import json
import sys

from .config import Config, ConfigError, load_config
from .seed import SeedSpec, seed
from .server import serve


def _overrides(extra: list[str]) -> dict[str, str]:
    """Odoo-style ``--db_host=x`` / ``--http-port 8069`` / ``--proxy-mode`` flags."""
    result: dict[str, str] = {}
    items = list(extra)
    while items:
        item = items.pop(0)
        if not item.startswith("--"):
            raise ConfigError(f"command line: unexpected argument {item!r}")
        name, eq, value = item[2:].partition("=")
        name = name.replace("-", "_")
        if name == "no_database_list":
            result["list_db"] = "False"
            continue
        if not eq:
            value = items.pop(0) if items and not items[0].startswith("--") else "True"
        if name not in Config.__dataclass_fields__ or name == "extra":
            raise ConfigError(f"command line: unknown option {name!r}")
        result[name] = value
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="odoo_double", description=__doc__)
    parser.add_argument("command", nargs="?", default="server", choices=["server", "seed", "check-config"])
    parser.add_argument("-c", "--config", help="odoo.conf path (Odoo's INI format)")
    parser.add_argument(
        "--image-env",
        action="store_true",
        help="fill db_* from HOST/PORT/USER/PASSWORD like the official image",
    )
    parser.add_argument("--products", type=int, default=100)
    parser.add_argument("--warehouses", type=int, default=1)
    parser.add_argument(
        "--branches", default="B001", help="comma-separated branch codes, one POS config each"
    )
    parser.add_argument("--stock", type=int, default=1000, help="initial quantity per product and warehouse")
    parser.add_argument("--no-open-sessions", action="store_true")
    parser.add_argument("--reset", action="store_true", help="truncate everything first")
    args, extra = parser.parse_known_args(argv)
    try:
        cfg = load_config(args.config, _overrides(extra), image_env=args.image_env)
    except ConfigError as exc:
        print(f"odoo_double: {exc}", file=sys.stderr)
        return 2
    if args.command == "check-config":
        print("configuration ok")
        return 0
    if args.command == "seed":
        branches = tuple(b.strip() for b in args.branches.split(",") if b.strip())
        if args.products < 1 or args.warehouses < 1 or not branches:
            print(
                "odoo_double: seed needs --products >= 1, --warehouses >= 1 and one branch", file=sys.stderr
            )
            return 2
        spec = SeedSpec(
            args.products, args.warehouses, branches, args.stock, not args.no_open_sessions, args.reset
        )
        print(json.dumps(seed(cfg, spec), indent=2))
        return 0
    serve(cfg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
