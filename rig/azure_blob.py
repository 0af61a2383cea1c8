"""Talk to Azure Blob Storage (Azurite in tests) with Shared Key auth, stdlib only.

    azure_blob.py create-container --endpoint https://10.213.3.30:10000 --account A --container C
    azure_blob.py list --endpoint ... --account A --container C [--prefix P]
    azure_blob.py get --endpoint ... --account A --container C --name BLOB --output FILE
    azure_blob.py lock --endpoint ... --account A --container C --name BLOB --days N

The key comes from the AZURE_STORAGE_KEY environment variable, the CA from
--cafile. Endpoints are path style (https://host:port/<account>). `list`
prints the blob names as a JSON array; `get` writes a blob's bytes as
stored (no decoding of any kind) to FILE and prints its name and size as
JSON. `lock` asks for a time-based immutability policy (WORM, Unlocked mode)
on a blob for N days and prints the service's answer as JSON: what Azure
Blob's immutable storage does, and what an emulator may not (exit 1). An
independent probe: it shares no code with pgBackRest.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from email.utils import formatdate

API_VERSION = "2021-08-06"


def signed_request(
    args: argparse.Namespace,
    method: str,
    path: str,
    query: dict[str, str],
    extra: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    """Send one request with a SharedKey Authorization header (``extra``: more x-ms-* headers,
    signed with the others); return status and body."""
    headers = {"x-ms-date": formatdate(usegmt=True), "x-ms-version": API_VERSION, **(extra or {})}
    canonical_headers = "".join(f"{k}:{v}\n" for k, v in sorted(headers.items()))
    resource = f"/{args.account}/{args.account}{path}"
    resource += "".join(f"\n{k}:{v}" for k, v in sorted(query.items()))
    # Signed: verb, then Content-Encoding, -Language, -Length (empty when 0),
    # -MD5, Content-Type, Date and the conditional headers (all empty here).
    content_type = "application/octet-stream" if method == "PUT" else ""
    string_to_sign = "\n".join([method, "", "", "", "", content_type, "", "", "", "", "", ""])
    string_to_sign += "\n" + canonical_headers + resource
    key = base64.b64decode(os.environ["AZURE_STORAGE_KEY"])
    signature = base64.b64encode(hmac.new(key, string_to_sign.encode(), hashlib.sha256).digest()).decode()
    headers["Authorization"] = f"SharedKey {args.account}:{signature}"
    if method == "PUT":
        headers["Content-Type"] = content_type
    url = f"{args.endpoint}/{args.account}{path}?{urllib.parse.urlencode(query)}"
    request = urllib.request.Request(
        url, method=method, headers=headers, data=b"" if method == "PUT" else None
    )
    context = ssl.create_default_context(cafile=args.cafile)
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as error:
        return int(error.code), bytes(error.read())


def create_container(args: argparse.Namespace) -> int:
    status, body = signed_request(args, "PUT", f"/{args.container}", {"restype": "container"})
    if status == 201:
        print(json.dumps({"changed": True}))
        return 0
    if status == 409:  # ContainerAlreadyExists
        print(json.dumps({"changed": False}))
        return 0
    print(f"create container: HTTP {status}: {body.decode(errors='replace')}", file=sys.stderr)
    return 1


def list_blobs(args: argparse.Namespace) -> int:
    names: list[str] = []
    marker = ""
    while True:
        query = {"restype": "container", "comp": "list"}
        if args.prefix:
            query["prefix"] = args.prefix
        if marker:
            query["marker"] = marker
        status, body = signed_request(args, "GET", f"/{args.container}", query)
        if status != 200:
            print(f"list blobs: HTTP {status}: {body.decode(errors='replace')}", file=sys.stderr)
            return 1
        root = ET.fromstring(body)
        names += [el.text or "" for el in root.iter("Name")]
        marker = root.findtext("NextMarker") or ""
        if not marker:
            break
    print(json.dumps(names))
    return 0


def get_blob(args: argparse.Namespace) -> int:
    if not args.name or not args.output:
        print("get: --name and --output are required", file=sys.stderr)
        return 2
    status, body = signed_request(args, "GET", f"/{args.container}/{urllib.parse.quote(args.name)}", {})
    if status != 200:
        print(f"get {args.name}: HTTP {status}: {body[:500].decode(errors='replace')}", file=sys.stderr)
        return 1
    with open(args.output, "wb") as out:
        out.write(body)
    print(json.dumps({"name": args.name, "bytes": len(body), "output": args.output}))
    return 0


def lock_blob(args: argparse.Namespace) -> int:
    if not args.name or args.days < 1:
        print("lock: --name and --days (at least 1) are required", file=sys.stderr)
        return 2
    until = formatdate(time.time() + args.days * 86400, usegmt=True)
    status, body = signed_request(
        args,
        "PUT",
        f"/{args.container}/{urllib.parse.quote(args.name)}",
        {"comp": "immutabilityPolicies"},
        {"x-ms-immutability-policy-until-date": until, "x-ms-immutability-policy-mode": "Unlocked"},
    )
    answer = body[:500].decode(errors="replace")
    print(json.dumps({"name": args.name, "until": until, "status": status, "answer": answer}))
    return 0 if status == 200 else 1


COMMANDS = {"create-container": create_container, "list": list_blobs, "get": get_blob, "lock": lock_blob}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=sorted(COMMANDS))
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--account", required=True)
    parser.add_argument("--container", required=True)
    parser.add_argument("--prefix", default="")
    parser.add_argument("--cafile", default=None)
    parser.add_argument("--name", default="", help="get: the blob's name")
    parser.add_argument("--output", default="", help="get: the file to write")
    parser.add_argument("--days", type=int, default=0, help="lock: how long the blob stays immutable")
    args = parser.parse_args()
    return COMMANDS[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
