"""What machine a benchmark ran on, printed beside its figures."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def describe(*packages: str) -> str:
    memory = ""
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        memory = f", {pages * size / 2**30:.0f} GiB RAM"
    except (ValueError, OSError):
        pass
    versions = []
    for name in packages:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    return (
        f"machine: {cpu_model()}, {os.cpu_count()} cores{memory}; {platform.system()} {platform.release()}; "
        f"Python {sys.version.split()[0]}" + (f"; {', '.join(versions)}" if versions else "")
    )


def cpu_seconds(match: Any) -> float:
    """CPU time (user + system) of the processes `match(pid, ppid, cmdline)` accepts, from /proc: a
    cost per ticket that other work on the machine inflates far less than it does wall time."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if match(int(entry.name), int(fields[1]), cmdline):
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def backends_of(database: str) -> Any:
    def match(_: int, __: int, cmdline: str) -> bool:
        return cmdline.startswith("postgres:") and f" {database} " in cmdline
    return match
