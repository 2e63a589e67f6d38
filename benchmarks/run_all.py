"""Run every benchmark in this folder, one after another, with its default sizes.

    .venv/bin/python benchmarks/run_all.py [NAME ...]

Each benchmark is also runnable on its own (`.venv/bin/python benchmarks/NAME.py --help`).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    wanted = set(sys.argv[1:])
    scripts = sorted(p for p in HERE.glob("*.py") if p.stem not in {"run_all", "machine", "__init__"})
    failed = 0
    for script in scripts:
        if wanted and script.stem not in wanted:
            continue
        print(f"\n=== {script.stem} ===", flush=True)
        failed += subprocess.call([sys.executable, str(script)]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
