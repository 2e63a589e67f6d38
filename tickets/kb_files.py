"""Knowledge-base files: CSV (UTF-8 or GBK) and YAML in, CSV (UTF-8) or YAML out.

CSV header: question,answer,department and optionally variants (separated by |), topic, tags
(separated by |), source, link, valid_from, valid_until (YYYY-MM-DD). YAML: a list of mappings with
the same keys (variants and tags may be lists). A bad file raises InvalidInput naming its line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from tickets.errors import InvalidInput
from tickets.kb_models import KbEntry
from tickets.knowledge import EntryFields

REQUIRED = ("question", "answer", "department")
OPTIONAL = ("variants", "topic", "tags", "source", "link", "valid_from", "valid_until")
COLUMNS = REQUIRED + OPTIONAL
MAX_FILE_BYTES = 50 * 1024 * 1024


def decode(raw: bytes, name: str) -> str:
    """UTF-8 (with or without BOM) or GBK (read as its superset GB18030)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "gb18030" and "\ufffd" in text:
            break
        return text
    raise InvalidInput(f"{name}: the file is neither UTF-8 nor GBK text; save it as UTF-8 CSV")


def _date(value: Any, line: int, column: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as err:
        raise InvalidInput(f"line {line}: {column} {value!r} is not a date such as 2027-01-31") from err


def _list(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).split("|") if v.strip()]


def _fields(record: dict[str, Any], line: int) -> EntryFields:
    for column in REQUIRED:
        if not str(record.get(column) or "").strip():
            raise InvalidInput(f"line {line}: {column} is empty")
    return EntryFields(
        question=str(record["question"]), answer=str(record["answer"]), department=str(record["department"]).strip(),
        variants=_list(record.get("variants")), topic=str(record.get("topic") or "") or None,
        tags=_list(record.get("tags")), source=str(record.get("source") or "") or None,
        link=str(record.get("link") or "") or None,
        valid_from=_date(record.get("valid_from"), line, "valid_from"),
        valid_until=_date(record.get("valid_until"), line, "valid_until"),
    )


def _check_columns(columns: Sequence[str], name: str) -> None:
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise InvalidInput(f"{name}: missing column {', '.join(missing)} (the header must have question,answer,department)")
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        raise InvalidInput(f"{name}: unknown column {', '.join(unknown)} (known: {', '.join(COLUMNS)})")


def parse(raw: bytes, name: str) -> list[tuple[int, EntryFields]]:
    """The rows of a CSV or YAML file with their line numbers (a YAML entry counts from 1)."""
    if len(raw) > MAX_FILE_BYTES:
        raise InvalidInput(f"{name}: larger than {MAX_FILE_BYTES // 1024 // 1024} MB")
    text = decode(raw, name)
    if name.lower().endswith((".yml", ".yaml")):
        return _parse_yaml(text, name)
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None:
        raise InvalidInput(f"{name}: the file is empty")
    _check_columns([c.strip() for c in reader.fieldnames], name)
    rows = []
    try:
        for record in reader:
            line = reader.line_num
            if None in record:
                raise InvalidInput(f"line {line}: more cells than columns in the header")
            cleaned = {k.strip(): v for k, v in record.items() if k is not None}
            if not any((v or "").strip() for v in cleaned.values()):
                continue  # a blank line in a spreadsheet export
            rows.append((line, _fields(cleaned, line)))
    except csv.Error as err:
        raise InvalidInput(f"line {reader.line_num}: not valid CSV: {err}") from err
    return rows


def _parse_yaml(text: str, name: str) -> list[tuple[int, EntryFields]]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise InvalidInput(f"{name}: not valid YAML: {err}") from err
    if isinstance(data, dict):
        data = data.get("entries")
    if not isinstance(data, list):
        raise InvalidInput(f"{name}: expected a list of entries (question, answer, department, …)")
    rows = []
    for number, record in enumerate(data, start=1):
        if not isinstance(record, dict):
            raise InvalidInput(f"entry {number}: expected a mapping with question, answer, department")
        _check_columns(list(record), f"entry {number}")
        rows.append((number, _fields(record, number)))
    return rows


def read(path: Path) -> list[tuple[int, EntryFields]]:
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise InvalidInput(f"{path}: cannot read the file ({err.strerror})") from err
    return parse(raw, path.name)


def _record(entry: KbEntry) -> dict[str, str]:
    return {
        "question": entry.question, "answer": entry.answer, "department": entry.department_code,
        "variants": "|".join(entry.variants), "topic": entry.topic or "", "tags": "|".join(entry.tags),
        "source": entry.source or "", "link": entry.link or "",
        "valid_from": entry.valid_from.isoformat() if entry.valid_from else "",
        "valid_until": entry.valid_until.isoformat() if entry.valid_until else "",
    }


def write(path: Path, entries: Sequence[KbEntry]) -> None:
    """CSV (UTF-8) or, for .yml/.yaml, YAML: what `read` takes back."""
    records = [_record(e) for e in entries]
    if path.name.lower().endswith((".yml", ".yaml")):
        path.write_text(yaml.safe_dump(records, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(COLUMNS))
        writer.writeheader()
        writer.writerows(records)
