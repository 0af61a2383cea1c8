"""Offline stand-in for the get-pip.py that ansible-test downloads.

ansible-test bootstraps pip into each sanity venv by running a get-pip.py it
fetches from a host this workplace cannot reach. This does the same job with
what Python ships: ``ensurepip`` installs the bundled pip, then that pip
installs the exact packages ansible-test asked for (from the index pip is
configured with). tools/checks.py places it in ansible-test's cache.

Called as: python get_pip.py [pip install options] pip==X [--no-setuptools] [--no-wheel]
"""

from __future__ import annotations

import subprocess
import sys


def main(argv: list[str]) -> int:
    subprocess.run([sys.executable, "-m", "ensurepip", "--default-pip"], check=True, capture_output=True)
    args = [a for a in argv if a not in {"--no-setuptools", "--no-wheel"}]
    return subprocess.run([sys.executable, "-m", "pip", "install", *args], check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
