"""`python -m devtools.fuzz_coverage REPORT_DIR`: the coverage report of the run whose events.ndjson is there.

Exit status 0 when the gate passes, 1 when it fails (the report says why), 2 when the inputs are unusable.
"""

from __future__ import annotations

import sys
from pathlib import Path

from devtools.fuzz_coverage import MARKDOWN_FILE, write_report


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    report_dir = Path(argv[0])
    try:
        verdict = write_report(report_dir)
    except (OSError, ValueError) as error:
        print(f"fuzz coverage: {error}", file=sys.stderr)
        return 2
    print((report_dir / MARKDOWN_FILE).read_text(encoding="utf-8"))
    return 0 if verdict.passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
