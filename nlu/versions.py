"""Model versions under one folder (HOTLINE_HOME/models): each trained model kept with its figures,
one of them current, so that a promoted model can be rolled back and every process finds the same one.

    models/
      nlu/                the first model, trained from the project's data on first start ("initial")
      versions/<id>/      later models (model.joblib, meta.json with their figures)
      current             the id of the version in use; absent means "initial"

The `current` file is replaced atomically (write, then rename), so a process reading it never sees
half a name; processes poll it (see hotline.nlu_wiring) and load a promoted model without a restart.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nlu.model import NluModel

INITIAL = "initial"
_ID = re.compile(r"^(initial|\d{8}T\d{6}Z(-\d+)?)$")


@dataclass(frozen=True)
class Version:
    id: str
    directory: Path
    trained_at: str
    source: str  # how it came about: project data, --from-csv, --from-db, challenger
    figures: dict[str, Any]
    current: bool


class ModelRegistry:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.initial_dir = root / "nlu"
        self.versions_dir = root / "versions"
        self.pointer = root / "current"

    def current(self) -> str:
        try:
            name = self.pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return INITIAL
        return name if _ID.match(name) and self.directory(name).exists() else INITIAL

    def directory(self, version: str) -> Path:
        return self.initial_dir if version == INITIAL else self.versions_dir / version

    def current_dir(self) -> Path:
        return self.directory(self.current())

    def add(self, model: NluModel, source: str, figures: dict[str, Any] | None = None,
            now: datetime | None = None) -> str:
        """Save `model` as a new version (not yet current) and return its id."""
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        base = moment.strftime("%Y%m%dT%H%M%SZ")
        version, serial = base, 1
        while self.directory(version).exists():
            serial += 1
            version = f"{base}-{serial}"
        model.meta = {**model.meta, "version": version, "source": source, "figures": figures or {}}
        model.save(self.directory(version))
        return version

    def use(self, version: str) -> None:
        """Make `version` current for every process (they pick it up on their next poll)."""
        if not _ID.match(version) or not NluModel.exists(self.directory(version)):
            known = ", ".join(v.id for v in self.list()) or "none"
            raise KeyError(f"no model version {version!r}; known: {known}")
        self.root.mkdir(parents=True, exist_ok=True)
        partial = self.pointer.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(version + "\n", encoding="utf-8")
        partial.replace(self.pointer)

    def stamp(self) -> tuple[str, float]:
        """What a process compares to see whether the model changed: the current id and its folder's time."""
        version = self.current()
        try:
            return version, (self.directory(version) / "meta.json").stat().st_mtime
        except FileNotFoundError:
            return version, 0.0

    def list(self) -> list[Version]:
        current = self.current()
        found = []
        candidates = [INITIAL] + (sorted(p.name for p in self.versions_dir.iterdir()) if self.versions_dir.exists() else [])
        for version in candidates:
            directory = self.directory(version)
            if not _ID.match(version) or not NluModel.exists(directory):
                continue
            meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
            found.append(Version(version, directory, str(meta.get("trained_at", "")),
                                 str(meta.get("source", "project data")), dict(meta.get("figures", {})),
                                 version == current))
        return found
