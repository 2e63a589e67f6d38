"""Topics the demo's citizens write about, per department: config.yml's routing keywords."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _from_config() -> dict[str, list[str]]:
    from hotline.settings import load_settings  # noqa: PLC0415

    return {d.code: list(d.keywords) for d in load_settings().config.departments}


def keywords_for(code: str, fallback: dict[str, str]) -> list[str]:
    return _from_config().get(code) or [fallback[code]]
