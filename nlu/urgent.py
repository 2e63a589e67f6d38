"""Emergencies (fire, gas leak, someone hurt, crime in progress) that belong to 110/119/120."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class UrgentGroup:
    name: str
    patterns: re.Pattern[str]
    unless: re.Pattern[str] | None


class UrgentDetector:
    def __init__(self, groups: list[UrgentGroup]) -> None:
        self.groups = groups

    @classmethod
    def from_file(cls, path: Path) -> UrgentDetector:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        groups = []
        for name, spec in raw.items():
            patterns = spec.get("patterns") or []
            unless = spec.get("unless") or []
            if not patterns:
                continue
            groups.append(UrgentGroup(name, re.compile("|".join(patterns)), re.compile("|".join(unless)) if unless else None))
        return cls(groups)

    def kind(self, text: str) -> str | None:
        """The emergency group a message describes, or None."""
        for group in self.groups:
            if group.patterns.search(text) and not (group.unless and group.unless.search(text)):
                return group.name
        return None
