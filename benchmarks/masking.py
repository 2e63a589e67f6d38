"""How well tickets.masking hides people's names and contact data and keeps lookalikes readable.

    .venv/bin/python benchmarks/masking.py [FILE …] [--misses]

Reads the marked sentences of tests/data/masking/ (see its README: [name], {lookalike}, <contact>),
masks each through `mask_personal` (what /public, the dashboard, exports, leaders and `hotline mask`
show) and prints, per file: name recall (names no longer readable), lookalikes kept, contact data
that survived, and the time per sentence. --misses lists every failure.

--realworld also masks the first 300 characters of the real messages in
../shared/data/realworld/messages_category_dev.csv (read for measuring only; skipped if absent; their
place and user names were anonymised by the source, so most of what is masked there is an official's
name or a word taken for one) and prints how many texts and spans got a 某: an upper bound on
over-masking of ordinary text, to be read by eye with --misses.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.machine import describe  # noqa: E402
from tickets.masking import mask_personal  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "masking"
FILES = ("names.txt", "heldout.txt", "fresh.txt")
_MARK = re.compile(r"\[([^\]]+)\]|\{([^}]+)\}|<([^>]+)>")


@dataclass(frozen=True)
class Sentence:
    text: str
    names: list[str]
    lookalikes: list[str]
    contacts: list[str]


@dataclass
class Score:
    names: int = 0
    names_hidden: int = 0
    lookalikes: int = 0
    lookalikes_kept: int = 0
    contacts: int = 0
    contacts_hidden: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.names_hidden / self.names if self.names else 1.0

    @property
    def kept(self) -> float:
        return self.lookalikes_kept / self.lookalikes if self.lookalikes else 1.0


def parse(line: str) -> Sentence:
    names: list[str] = []
    lookalikes: list[str] = []
    contacts: list[str] = []
    for match in _MARK.finditer(line):
        name, lookalike, contact = match.groups()
        (names if name else lookalikes if lookalike else contacts).append(name or lookalike or contact)
    return Sentence(_MARK.sub(lambda m: next(g for g in m.groups() if g), line), names, lookalikes, contacts)


def load(paths: Iterable[Path]) -> list[Sentence]:
    return [parse(line.strip()) for path in paths for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


def name_hidden(name: str, masked: str) -> bool:
    """Neither the name nor (for three or more characters) its given name can be read any more."""
    return name not in masked and (len(name) < 3 or name[-2:] not in masked)


def contact_hidden(contact: str, masked: str) -> bool:
    """The contact is gone, and so is any run of four of its digits (a phone half-masked is not hidden)."""
    if contact in masked:
        return False
    digits = re.sub(r"\D", "", contact)
    return not any(digits[i:i + 4] in re.sub(r"\D", "", masked) for i in range(len(digits) - 3)) if len(digits) >= 7 \
        else True


def evaluate(sentences: Iterable[Sentence], mask: Callable[[str], str] = mask_personal) -> Score:
    score = Score()
    for sentence in sentences:
        masked = mask(sentence.text)
        for name in sentence.names:
            score.names += 1
            if name_hidden(name, masked):
                score.names_hidden += 1
            else:
                score.misses.append(f"name {name} readable: {masked}")
        for word in sentence.lookalikes:
            score.lookalikes += 1
            if word in masked:
                score.lookalikes_kept += 1
            else:
                score.misses.append(f"lookalike {word} masked: {masked}")
        for contact in sentence.contacts:
            score.contacts += 1
            if contact_hidden(contact, masked):
                score.contacts_hidden += 1
            else:
                score.misses.append(f"contact {contact} survived: {masked}")
    return score


# ../shared/data/realworld beside the project (a worktree under /work/wt/ looks one level further up).
REALWORLD = next((base / "shared" / "data" / "realworld" / "messages_category_dev.csv"
                  for base in Path(__file__).resolve().parents[2:4]
                  if (base / "shared" / "data" / "realworld").is_dir()), Path("/nonexistent"))


def realworld(show: bool) -> None:
    import csv  # noqa: PLC0415
    import difflib  # noqa: PLC0415

    if not REALWORLD.exists():
        print(f"realworld: {REALWORLD} is absent; skipped")
        return
    with REALWORLD.open(encoding="utf-8") as handle:
        texts = [row["text"][:300] for row in csv.DictReader(handle)]
    touched = spans = 0
    for text in texts:
        masked = mask_personal(text)
        if "某" not in masked or "某" in text:
            continue
        touched += 1
        for op, a1, a2, b1, b2 in difflib.SequenceMatcher(None, text, masked, autojunk=False).get_opcodes():
            if op != "equal" and "某" in masked[b1:b2]:
                spans += 1
                if show:
                    print(f"   - {text[max(0, a1 - 6):a1]}[{text[a1:a2]}]{text[a2:a2 + 4]}")
    print(f"realworld: {len(texts)} texts, {touched} with a name masked, {spans} spans masked as names")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="marked sentence files (default: tests/data/masking/)")
    parser.add_argument("--misses", action="store_true", help="list every name, lookalike and contact missed")
    parser.add_argument("--realworld", action="store_true", help="also count what is masked as names in real texts")
    args = parser.parse_args()
    paths = args.files or [DATA / name for name in FILES if (DATA / name).exists()]
    print(describe("jieba"))
    mask_personal("预热")  # load the tagger once, outside the timing
    for path in paths:
        sentences = load([path])
        started = time.perf_counter()
        score = evaluate(sentences)
        per = (time.perf_counter() - started) / max(1, len(sentences)) * 1000
        print(f"{path.name}: {len(sentences)} sentences, {per:.2f} ms each")
        print(f"  names hidden      {score.names_hidden}/{score.names} = {100 * score.recall:.1f}%")
        print(f"  lookalikes kept   {score.lookalikes_kept}/{score.lookalikes} = {100 * score.kept:.1f}%")
        print(f"  contacts hidden   {score.contacts_hidden}/{score.contacts} "
              f"({score.contacts - score.contacts_hidden} survived)")
        if args.misses:
            for miss in score.misses:
                print("   -", miss)
    if args.realworld:
        realworld(args.misses)


if __name__ == "__main__":
    main()
