"""Branch register for operators and CI: validate it, or print what it feeds.

    retailops-branchctl validate inventories/branch_register
    retailops-branchctl json inventories/branch_register --view allow-lists
    retailops-branchctl generate --branches 500 -o /tmp/bench-west.yml
    retailops-branchctl schema

(``python -m loadtests.branchctl`` is the same; it replaces tools/branchctl.py.)

validate   prints every problem (file: subject, field: message) and exits 1
           when there is any; a one-line summary otherwise.
json       prints one view as JSON: inventory (hosts and groups, as the
           inventory plugin builds them), allow-lists (CIDRs per branch group,
           for Traefik ipAllowList), branches (the load harness's branch
           list), hub-peers (WireGuard peers per hub) or all of them.
           Exits 1 (problems on stderr) when the register is invalid.
generate   writes a synthetic, valid region register with N branches (test
           fixtures and benchmarks).
schema     prints the register's schema tables (Markdown), from the model:
           the "Region file" section of the collection's plugins/README.md.

All logic lives in the collection's plugins/module_utils/branch_register/
(imported by its collection name, ``loadtests.collection``); this is only the
command line around it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from loadtests.collection import KINDS, LINKS, RECORDS, Register, file_fields, load_register

# mostly stores, as in a retailer's register
GENERATED_KINDS = [KINDS[0]] * 3 + list(KINDS[1:])


def generate(
    branches: int, region: str = "bench-west", hubs: int = 2, roaming_every: int = 7
) -> dict[str, Any]:
    """A valid region document with ``branches`` branches spread over ``hubs`` hubs.

    LANs are 10.<100+i//256>.<i%256>.0/24 (room for 39 936 branches); each hub
    has a /20 pool (4094 addresses). Every tenth branch is critical with a
    second hub, every ``roaming_every``-th is roaming.
    """
    hub_names = [f"hub-{h}" for h in range(1, hubs + 1)]
    doc: dict[str, Any] = {
        "region": region,
        "platform_networks": ["10.20.0.0/16"],
        "erp_entrypoints": ["10.20.0.10:443"],
        "hubs": [
            {
                "name": name,
                "endpoint": f"198.51.100.{h + 1}:51820",
                "tunnel_pool": f"10.96.{h * 16}.0/20",
            }
            for h, name in enumerate(hub_names)
        ],
        "branches": [],
    }
    for i in range(branches):
        hub = hub_names[i % hubs]
        branch: dict[str, Any] = {
            "code": f"BR-{i:05d}",
            "name": f"Branch {i}",
            "country": ["NL", "BE", "DE", "FR"][i % 4],
            "kind": GENERATED_KINDS[i % len(GENERATED_KINDS)],
            "tier": "critical" if i % 10 == 0 else ("standard" if i % 3 else "basic"),
            "link": LINKS[i % len(LINKS)],
            "lan_subnets": [f"10.{100 + i // 256}.{i % 256}.0/24"],
            "hub": hub,
        }
        if i % roaming_every == 0:
            branch["roaming"] = True
        else:
            branch["endpoint"] = f"203.0.{i // 250}.{i % 250 + 1}:51820"
        if i % 10 == 0 and hubs > 1:
            branch["second_hub"] = hub_names[(i + 1) % hubs]
        doc["branches"].append(branch)
    return doc


def views(register: Register, prefix: str) -> dict[str, Any]:
    return {
        "inventory": register.inventory(prefix),
        "allow-lists": register.allow_lists(prefix),
        "branches": register.branch_list(),
        "hub-peers": {hub.name: register.hub_peers(hub.name) for hub in register.hubs},
    }


def schema() -> str:
    """The register's schema as Markdown tables, one per record, from the model's fields."""
    blocks = []
    for record in RECORDS:
        title = (record.__doc__ or "").strip().splitlines()[0].replace("``", "`")
        rows = ["| field | required | meaning |", "|---|---|---|"]
        for name, info in file_fields(record).items():
            meaning = (info.description or "").replace("|", "\\|")
            rows.append(f"| `{name}` | {'yes' if info.is_required() else 'no'} | {meaning} |")
        blocks.append(f"**{record.__name__}**: {title}\n\n" + "\n".join(rows) + "\n")
    return "\n".join(blocks)


def print_problems(register: Register) -> None:
    for problem in register.problems:
        print(problem, file=sys.stderr)
    print(f"{len(register.problems)} problem(s)", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("validate", help="report every problem of a register")
    check.add_argument("paths", nargs="+", help="register files or directories")
    check.add_argument("--json", action="store_true", help="problems as a JSON list")
    show = sub.add_parser("json", help="print a computed view as JSON")
    show.add_argument("paths", nargs="+", help="register files or directories")
    show.add_argument(
        "--view", choices=["inventory", "allow-lists", "branches", "hub-peers", "all"], default="all"
    )
    show.add_argument("--group-prefix", default="", help="as the inventory plugin's group_prefix")
    gen = sub.add_parser("generate", help="write a synthetic register")
    gen.add_argument("--branches", type=int, default=500)
    gen.add_argument("--hubs", type=int, default=2)
    gen.add_argument("--region", default="bench-west")
    gen.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    sub.add_parser("schema", help="print the register's schema tables (Markdown), from the model")
    args = parser.parse_args(argv)

    if args.command == "schema":
        sys.stdout.write(schema())
        return 0

    if args.command == "generate":
        text = yaml.safe_dump(generate(args.branches, args.region, args.hubs), sort_keys=False)
        if args.output:
            args.output.write_text(text)
        else:
            sys.stdout.write(text)
        return 0

    register = load_register(args.paths)
    if args.command == "validate":
        if args.json:
            print(json.dumps([p.as_dict() for p in register.problems], indent=2))
        elif register.problems:
            print_problems(register)
        else:
            print(
                f"ok: {len(register.regions)} region(s), {len(register.hubs)} hub(s), "
                f"{len(register.branches)} live branch(es), {len(register.retired)} retired"
            )
        return 1 if register.problems else 0

    if register.problems:
        print_problems(register)
        return 1
    found = views(register, args.group_prefix)
    print(json.dumps(found if args.view == "all" else found[args.view], indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
