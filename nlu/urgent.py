"""Emergencies (fire, gas leak, someone hurt, crime in progress) that belong to 110/119/120.

The lexicon (data/urgent.yml) names groups of patterns and their exceptions, and exceptions shared by
several groups. Missing a present emergency costs more than a false alarm, so an exception reaches as
little text as it can: only words that make a message about emergencies in general (保险, 演练, 知识)
reach the whole message; 担心/经常/建议 cancel only the event after them in their clause; 昨天/隐患
cancel only the event of their own clause, so "着火了,昨天就闻到烟味了" is still a fire. An event said
to be happening now (a call for help in its sentence, 正在 or an exclamation in its clause) counts
whatever the message-wide words say; the words of its own clause still hold (差点着火了!, 上个月着火了!).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# Half- and full-width forms alike: the pipeline reads normalised text, tests and callers may not.
_CLAUSE_ENDS = frozenset(",，。.!！?？;；:：【】 \n")
_SENTENCE_ENDS = frozenset("。.!！?？;；【】\n")
_EXCEPTIONS = ("unless", "unless_before", "unless_in_clause", "but_still", "now_in_clause", "now_in_sentence")
_GROUP_KEYS = frozenset(("patterns", *_EXCEPTIONS))
_SHARED_KEYS = frozenset(("groups", *_EXCEPTIONS))


@dataclass(frozen=True)
class ClauseRule:
    words: re.Pattern[str]
    still: re.Pattern[str] | None = None

    def cancels(self, clause: str) -> bool:
        return bool(self.words.search(clause)) and not (self.still and self.still.search(clause))


@dataclass(frozen=True)
class UrgentGroup:
    name: str
    patterns: re.Pattern[str]
    unless: re.Pattern[str] | None = None
    unless_before: re.Pattern[str] | None = None
    in_clause: tuple[ClauseRule, ...] = ()
    now_in_clause: re.Pattern[str] | None = None
    now_in_sentence: re.Pattern[str] | None = None

    def matches(self, text: str) -> bool:
        # Patterns first: most messages match none, and the exceptions are the longer alternations.
        counted = [self._counts(text, found) for found in self.patterns.finditer(text)]
        if "now" in counted:
            return True
        return "yes" in counted and not (self.unless and self.unless.search(text))

    def _counts(self, text: str, found: re.Match[str]) -> str:
        """'now' (happening, whatever else the message says), 'yes' (unless the message-wide words) or 'no'."""
        start = _start(text, found.start(), _CLAUSE_ENDS)
        if self.unless_before and self.unless_before.search(text[start:found.start()]):
            return "no"
        # The clause keeps its closing mark, so "着火了!" is an exclamation about this event.
        clause = text[start:min(len(text), _end(text, found.end(), _CLAUSE_ENDS) + 1)]
        if any(rule.cancels(clause) for rule in self.in_clause):
            return "no"
        if self.now_in_clause and self.now_in_clause.search(clause):
            return "now"
        if self.now_in_sentence:
            sentence = text[_start(text, found.start(), _SENTENCE_ENDS):_end(text, found.end(), _SENTENCE_ENDS)]
            if self.now_in_sentence.search(sentence):
                return "now"
        return "yes"


def _start(text: str, position: int, ends: frozenset[str]) -> int:
    while position > 0 and text[position - 1] not in ends:
        position -= 1
    return position


def _end(text: str, position: int, ends: frozenset[str]) -> int:
    while position < len(text) and text[position] not in ends:
        position += 1
    return position


def _first_characters(pattern: str) -> frozenset[str] | None:
    """Every character a match of `pattern` can start with, or None when that is not simple to tell
    (a class like \\w, a case-insensitive flag, a pattern that may match nothing)."""
    try:
        from re import _parser as parser  # type: ignore[attr-defined]  # private; the only parser of this syntax
        tree = parser.parse(pattern)
    except Exception:  # noqa: BLE001 - any surprise only costs the shortcut
        return None
    if tree.state.flags & re.IGNORECASE:
        return None

    def first(items: list[Any]) -> set[str] | None:
        found: set[str] = set()
        for op, arg in items:
            if op is parser.LITERAL:
                return found | {chr(arg)}
            if op is parser.IN:
                for kind, value in arg:
                    if kind is parser.LITERAL:
                        found.add(chr(value))
                    elif kind is parser.RANGE and value[1] - value[0] < 256:
                        found.update(chr(c) for c in range(value[0], value[1] + 1))
                    else:
                        return None
                return found
            if op is parser.BRANCH:
                for branch in arg[1]:
                    chars = first(list(branch))
                    if chars is None:
                        return None
                    found |= chars
                return found
            if op is parser.SUBPATTERN:
                chars = first(list(arg[-1]))
                return None if chars is None else found | chars
            if op in (parser.MAX_REPEAT, parser.MIN_REPEAT):
                low, _, sub = arg
                chars = first(list(sub))
                if chars is None:
                    return None
                found |= chars
                if low > 0:
                    return found
                continue  # optional: the match may start with what follows
            if op in (parser.ASSERT, parser.ASSERT_NOT, parser.AT):
                continue  # look-arounds and anchors consume nothing
            return None
        return None  # the pattern may match the empty string

    chars = first(list(tree))
    return frozenset(chars) if chars else None


def _with_first_characters(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """The same pattern behind a look-ahead for its first characters: the engine then skips every
    position no emergency can start at instead of trying each alternative there (73 -> 21 µs a message)."""
    chars = _first_characters(pattern.pattern)
    if not chars:
        return pattern
    return re.compile(f"(?=[{''.join(re.escape(c) for c in sorted(chars))}])(?:{pattern.pattern})")


def _compile(words: Iterable[Any], where: str) -> re.Pattern[str] | None:
    words = [str(w) for w in words]
    for word in words:  # one at a time, so an error names the word a city wrote
        try:
            re.compile(word)
        except re.error as err:
            raise ValueError(f"{where}: bad pattern {word!r}: {err}") from None
    return re.compile("|".join(f"(?:{w})" for w in words)) if words else None


def _words(spec: dict[str, Any], key: str, where: str) -> list[Any]:
    value = spec.get(key) or []
    if not isinstance(value, list):
        raise ValueError(f"{where}.{key}: expected a list of patterns")
    return value


def _check_keys(spec: Any, allowed: frozenset[str], where: str) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise ValueError(f"{where}: expected a mapping with {', '.join(sorted(allowed))}")
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise ValueError(f"{where}: unknown key {unknown[0]!r}; expected one of {', '.join(sorted(allowed))}")
    return spec


class UrgentDetector:
    def __init__(self, groups: list[UrgentGroup]) -> None:
        self.groups = groups

    @classmethod
    def from_file(cls, path: Path) -> UrgentDetector:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        shared = raw.pop("shared", None) or {}
        specs = {name: _check_keys(spec, _GROUP_KEYS, f"{path.name}: {name}") for name, spec in raw.items()}
        rules: dict[str, list[dict[str, Any]]] = {name: [spec] for name, spec in specs.items()}
        for rule_name, rule in shared.items():
            where = f"{path.name}: shared.{rule_name}"
            rule = _check_keys(rule, _SHARED_KEYS, where)
            targets = rule.get("groups", "all")
            targets = list(specs) if targets == "all" else targets
            if not isinstance(targets, list):
                raise ValueError(f"{where}.groups: expected 'all' or a list of groups")
            for target in targets:
                if target not in specs:
                    raise ValueError(f"{where}.groups: unknown group {target!r}; groups are: {', '.join(specs)}")
                rules[target].append(rule)
        groups = [cls._group(name, rules[name], f"{path.name}: {name}") for name in specs]
        return cls([g for g in groups if g is not None])

    @staticmethod
    def _group(name: str, specs: list[dict[str, Any]], where: str) -> UrgentGroup | None:
        patterns = _compile(_words(specs[0], "patterns", where), where)
        if patterns is None:
            return None
        patterns = _with_first_characters(patterns)
        in_clause = []
        for spec in specs:
            words = _compile(_words(spec, "unless_in_clause", where), where)
            if words is not None:
                in_clause.append(ClauseRule(words, _compile(_words(spec, "but_still", where), where)))

        def joined(key: str) -> re.Pattern[str] | None:
            return _compile([w for spec in specs for w in _words(spec, key, where)], where)

        return UrgentGroup(
            name,
            patterns,
            joined("unless"),
            joined("unless_before"),
            tuple(in_clause),
            joined("now_in_clause"),
            joined("now_in_sentence"),
        )

    def kind(self, text: str) -> str | None:
        """The emergency group a message describes, or None."""
        for group in self.groups:
            if group.matches(text):
                return group.name
        return None
