"""Training examples: the project's Rasa NLU YAML files and a city's labelled CSV history."""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

TYPES = ("complaint", "consultation", "suggestion")
_ITEM = re.compile(r"^\s*-\s+(.*\S)\s*$")
# Rasa's inline entity annotation: [text](entity) or [text]{"entity": ...}
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


@dataclass(frozen=True)
class Example:
    text: str
    type: str | None = None
    department: str | None = None
    topic: str | None = None
    source: str = ""


def parse_examples(block: str) -> list[str]:
    """The messages of a Rasa `examples: |` block, annotations stripped."""
    texts = []
    for line in block.splitlines():
        match = _ITEM.match(line)
        if match:
            texts.append(_ANNOTATION.sub(r"\1", match.group(1)))
    return texts


def read_rasa_file(path: Path) -> list[Example]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    examples = []
    for block in doc.get("nlu") or []:
        intent = block.get("intent")
        if intent not in TYPES:
            continue
        metadata = block.get("metadata") or {}
        for text in parse_examples(block.get("examples") or ""):
            examples.append(Example(text, intent, metadata.get("department"), metadata.get("topic"), path.name))
    return examples


def rasa_files(data_dir: Path) -> list[Path]:
    """data/nlu.yml and data/nlu/*.yml (one file per department, plus `_`-prefixed extras)."""
    files = sorted((data_dir / "nlu").glob("*.yml")) if (data_dir / "nlu").is_dir() else []
    single = data_dir / "nlu.yml"
    return ([single] if single.exists() else []) + files


def load_project_examples(data_dir: Path, known_departments: Iterable[str] | None = None) -> list[Example]:
    known = set(known_departments) if known_departments is not None else None
    examples: list[Example] = []
    for path in rasa_files(data_dir):
        for example in read_rasa_file(path):
            if known is not None and example.department is not None and example.department not in known:
                continue  # a department the city's config.yml no longer has
            examples.append(example)
    return examples


@dataclass(frozen=True)
class CsvColumns:
    text: str
    title: str | None = None
    type: str | None = None
    topic: str | None = None
    department: str | None = None
    label: str | None = None


def join_title(title: str | None, text: str) -> str:
    title = (title or "").strip()
    text = (text or "").strip()
    if title and not text.startswith(title):
        return f"{title}\n{text}" if text else title
    return text


# A city's history names types as its staff do: the hotline's own tags map to the three types
# (投诉, 举报 and 求助 are complaints, as in DESIGN.md).
TYPE_ALIASES = {
    "complaint": "complaint", "投诉": "complaint", "举报": "complaint", "求助": "complaint",
    "consultation": "consultation", "咨询": "consultation",
    "suggestion": "suggestion", "建议": "suggestion",
}


def canonical_type(label: str | None) -> str | None:
    """complaint / consultation / suggestion for a type label in English or Chinese; ValueError for
    anything else (a city's own tag the hotline does not know)."""
    if label is None:
        return None
    found = TYPE_ALIASES.get(label.strip().lower())
    if found is None:
        raise ValueError(f"unknown type {label!r}: expected one of {', '.join(TYPE_ALIASES)}")
    return found


def _encoding(path: Path) -> str:
    """UTF-8 (with or without a BOM), else GB18030, which Excel in Chinese saves and GBK is part of."""
    try:
        with path.open(encoding="utf-8-sig") as handle:
            for _ in iter(lambda: handle.read(1 << 20), ""):
                pass
        return "utf-8-sig"
    except UnicodeDecodeError:
        return "gb18030"


def read_csv_rows(path: Path, columns: CsvColumns) -> Iterator[tuple[str, dict[str, str]]]:
    """(message text with its title, row) for every row with text; a missing column raises KeyError,
    bytes that are neither UTF-8 nor GBK a ValueError that says so."""
    for _, text, row in read_csv_records(path, columns):
        yield text, row


def read_csv_records(path: Path, columns: CsvColumns) -> Iterator[tuple[int, str, dict[str, str]]]:
    """read_csv_rows with the line each record starts on, as a spreadsheet numbers it (the header is 1)."""
    try:
        with path.open(encoding=_encoding(path), newline="") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            for name in (columns.text, columns.title, columns.type, columns.topic, columns.department, columns.label):
                if name and name not in header:
                    raise KeyError(f"{path.name}: no column {name!r}; columns are: {', '.join(header)}")
            start = reader.line_num + 1
            for row in reader:
                text = join_title(row.get(columns.title) if columns.title else None, row.get(columns.text) or "")
                if text:
                    yield start, text, row
                start = reader.line_num + 1
    except UnicodeDecodeError as err:
        raise ValueError(f"{path.name}: neither UTF-8 nor GBK text (byte {err.object[err.start]:#04x}); "
                         "save it as a UTF-8 CSV") from None


def _label(row: dict[str, str], column: str | None) -> str | None:
    """A label cell, stripped ("城乡建设 " is 城乡建设); None when the column is not used or empty."""
    return (row.get(column) or "").strip() or None if column else None


def load_csv_examples(path: Path, columns: CsvColumns) -> list[Example]:
    examples = []
    for line, text, row in read_csv_records(path, columns):
        try:
            kind = canonical_type(_label(row, columns.type))
        except ValueError as err:
            raise ValueError(f"{path.name}, column {columns.type}, row {line}: {err}") from None
        examples.append(
            Example(text, type=kind, department=_label(row, columns.department), topic=_label(row, columns.topic),
                    source=path.name)
        )
    return examples


def check_history_labels(examples: Iterable[Example], departments: Iterable[str],
                         project_topics: Iterable[str]) -> list[str]:
    """Refuse labels that cannot be meant (ValueError naming them); return warnings about doubtful ones.

    A department must be a code of config.yml. A topic column holding types (a wrong --topic-col) is
    refused. Topics outside the project's taxonomy are a city's own scheme when none of them is the
    project's, and likely typos when the others are (城建 beside 城乡建设): warned, then trained as given.
    """
    examples = list(examples)
    codes = set(departments)
    unknown = sorted({e.department for e in examples if e.department and e.department not in codes})
    if unknown:
        raise ValueError(f"department codes not in config.yml: {', '.join(unknown)} (known: {', '.join(sorted(codes))})")
    topics = Counter(e.topic for e in examples if e.topic)
    typed = sorted(t for t in topics if t.lower() in TYPE_ALIASES)
    if typed:
        raise ValueError(f"the topic column holds types ({', '.join(typed)}): give that column as --type-col")
    known = set(project_topics)
    outside = sorted(t for t in topics if t not in known)
    if outside and len(outside) < len(topics):
        listed = ", ".join(f"{t} ({topics[t]} row{'s' if topics[t] > 1 else ''})" for t in outside)
        return [f"topics not in the project's taxonomy, trained as given (a typo?): {listed}"]
    if outside:
        return [f"{len(outside)} topics of the city's own scheme; the topic head learns only these"]
    return []
