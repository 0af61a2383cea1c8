"""``python -m loadtests run --scenario ... --register ... --gates ... --host ... --out ...``."""

import sys

from loadtests.cli import main

if __name__ == "__main__":
    sys.exit(main())
