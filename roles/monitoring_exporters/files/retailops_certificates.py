"""Expiry of the certificates in PEM files, for node_exporter's textfile collector.

For every certificate in every listed file (a chain file gives one series per
certificate):

- retailops_certificate_not_after_timestamp_seconds{path,subject}: Unix time
  the certificate expires (its notAfter)
  (a file holding two certificates with the same subject, a cross-signed
  root say, reports the earlier expiry)
- retailops_certificate_collector_success: 1 when every listed file was read
  and holds at least one certificate, else 0 (the others are still reported)

The certificates are decoded with the standard library only (PEM, then the
few DER fields needed: validity and subject).

    python3 retailops_certificates.py --config certificates.json --output dir/retailops_certificates.prom
"""

from __future__ import annotations

import base64
import binascii
import calendar
import json
import re
import sys

from retailops_textfile import Family, arguments, publish, warn

PEM = re.compile(r"-----BEGIN CERTIFICATE-----\s*(.+?)\s*-----END CERTIFICATE-----", re.DOTALL)
SEQUENCE, SET, OID = 0x30, 0x31, 0x06
UTC_TIME, GENERALIZED_TIME = 0x17, 0x18
VERSION_TAG = 0xA0
STRING_TAGS = {0x0C: "utf-8", 0x13: "ascii", 0x16: "ascii", 0x14: "latin-1", 0x1E: "utf-16-be"}
ATTRIBUTE_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.5": "serialNumber",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "1.2.840.113549.1.9.1": "emailAddress",
    "0.9.2342.19200300.100.1.25": "DC",
}


class CertificateError(Exception):
    """Bytes that are not the DER certificate this collector expects."""


def read_tlv(data: bytes, offset: int) -> tuple[int, bytes, int]:
    """One DER element at ``offset``: its tag, its content and the offset after it."""
    if offset + 2 > len(data):
        raise CertificateError("truncated element")
    tag, length = data[offset], data[offset + 1]
    offset += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or offset + count > len(data):
            raise CertificateError("bad length")
        length = int.from_bytes(data[offset : offset + count], "big")
        offset += count
    if offset + length > len(data):
        raise CertificateError("truncated content")
    return tag, data[offset : offset + length], offset + length


def children(content: bytes) -> list[tuple[int, bytes]]:
    items = []
    offset = 0
    while offset < len(content):
        tag, value, offset = read_tlv(content, offset)
        items.append((tag, value))
    return items


def decode_oid(value: bytes) -> str:
    if not value:
        raise CertificateError("empty OID")
    parts = [value[0] // 40, value[0] % 40] if value[0] < 80 else [2, value[0] - 80]
    current = 0
    for byte in value[1:]:
        current = (current << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(current)
            current = 0
    return ".".join(str(p) for p in parts)


def decode_time(tag: int, value: bytes) -> int:
    text = value.decode("ascii")
    if tag == UTC_TIME:
        match = re.fullmatch(r"(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z", text)
        if not match:
            raise CertificateError(f"UTCTime {text!r}")
        year = int(match.group(1))
        fields = [year + (2000 if year < 50 else 1900)] + [int(g) for g in match.groups()[1:]]
    elif tag == GENERALIZED_TIME:
        match = re.fullmatch(r"(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z", text)
        if not match:
            raise CertificateError(f"GeneralizedTime {text!r}")
        fields = [int(g) for g in match.groups()]
    else:
        raise CertificateError(f"time tag {tag:#x}")
    return calendar.timegm((*fields, 0, 0, 0))


def decode_name(value: bytes) -> str:
    """An X.501 Name as RFC 4514 reads it (most specific first): CN=host,O=Company,C=NL."""
    parts = []
    for set_tag, rdn in children(value):
        if set_tag != SET:
            raise CertificateError("name: RDN is not a SET")
        for seq_tag, attribute in children(rdn):
            items = children(attribute)
            if seq_tag != SEQUENCE or len(items) != 2 or items[0][0] != OID:
                raise CertificateError("name: bad attribute")
            oid = decode_oid(items[0][1])
            tag, raw = items[1]
            text = raw.decode(STRING_TAGS.get(tag, "latin-1"), errors="replace")
            text = re.sub(r'([,+"\\<>;=])', r"\\\1", text)
            parts.append(f"{ATTRIBUTE_NAMES.get(oid, oid)}={text}")
    return ",".join(reversed(parts))


def certificate_fields(der: bytes) -> tuple[str, int]:
    """The subject and notAfter (Unix time) of a DER certificate."""
    tag, certificate, _end = read_tlv(der, 0)
    if tag != SEQUENCE:
        raise CertificateError("not a SEQUENCE")
    tag, tbs, _end = read_tlv(certificate, 0)
    if tag != SEQUENCE:
        raise CertificateError("tbsCertificate is not a SEQUENCE")
    items = children(tbs)
    if items and items[0][0] == VERSION_TAG:
        items = items[1:]
    # serialNumber, signature, issuer, validity, subject, ...
    if len(items) < 5 or items[3][0] != SEQUENCE or items[4][0] != SEQUENCE:
        raise CertificateError("tbsCertificate fields")
    validity = children(items[3][1])
    if len(validity) != 2:
        raise CertificateError("validity")
    return decode_name(items[4][1]), decode_time(*validity[1])


def certificates(path: str) -> list[tuple[str, int]]:
    with open(path, encoding="ascii", errors="replace") as handle:
        blocks = PEM.findall(handle.read())
    if not blocks:
        raise CertificateError("no PEM certificate")
    found = []
    for block in blocks:
        try:
            der = base64.b64decode("".join(block.split()), validate=True)
        except binascii.Error as error:
            raise CertificateError(f"base64: {error}") from error
        found.append(certificate_fields(der))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = arguments(__doc__)
    parser.add_argument("--config", required=True, help='JSON: {"paths": ["/etc/ssl/...pem", ...]}')
    args = parser.parse_args(argv)

    not_after = Family(
        "retailops_certificate_not_after_timestamp_seconds", "Unix time the certificate expires (notAfter)."
    )
    success = Family(
        "retailops_certificate_collector_success",
        "1 when every listed file held readable certificates, else 0.",
    )
    ok = True
    try:
        with open(args.config, encoding="utf-8") as handle:
            paths = json.load(handle)["paths"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        warn(f"retailops_certificates: config: {type(error).__name__}: {error}")
        paths, ok = [], False
    for path in paths:
        try:
            earliest: dict[str, int] = {}
            for subject, expiry in certificates(path):
                earliest[subject] = min(expiry, earliest.get(subject, expiry))
            for subject, expiry in earliest.items():
                not_after.add(expiry, path=path, subject=subject)
        except (OSError, ValueError, CertificateError) as error:
            warn(f"retailops_certificates: {path}: {type(error).__name__}: {error}")
            ok = False
    success.add(1 if ok else 0)
    return publish("retailops_certificates", args.output, [not_after, success])


if __name__ == "__main__":
    sys.exit(main())
