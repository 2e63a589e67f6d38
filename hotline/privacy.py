"""The citizen's rights and the retention job, wired: the domain's functions (tickets.privacy) with
every registered holder loaded, and the files under HOTLINE_HOME they free deleted after the commit."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import hotline.models_all  # noqa: F401 - every table module registers its holder of personal data
from hotline.bootstrap import App
from tickets import privacy

log = logging.getLogger(__name__)


def _delete_files(app: App, refs: list[str]) -> int:
    home = app.settings.env.home.resolve()
    deleted = 0
    for ref in refs:
        path = (home / ref).resolve()
        if path.is_relative_to(home / "uploads") and path.is_file():
            path.unlink()
            deleted += 1
    return deleted


def export_citizen(app: App, ref: str, now: datetime) -> dict[str, Any]:
    return privacy.export_citizen(app.engine, privacy.find_citizen(app.engine, ref).id or 0, now)


def erase_citizen(app: App, ref: str, now: datetime) -> dict[str, int]:
    citizen = privacy.find_citizen(app.engine, ref)
    changed, files = privacy.erase_citizen(app.engine, citizen.id or 0, now)
    changed["files"] = _delete_files(app, files)
    log.info("citizen #%s erased: %s", citizen.id, changed)
    return changed


def anonymise_expired(app: App, now: datetime) -> int:
    done, files = privacy.anonymise_expired(app.engine, now, app.config.privacy.retention_days)
    _delete_files(app, files)
    return done
