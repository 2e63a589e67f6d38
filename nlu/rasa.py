"""The Rasa backend: a Rasa project written from the same data/ files, and a client of its server.

Routing through Rasa uses one intent per (type, department) pair, `complaint__housing`, so one
DIET model answers both questions: a type's probability is the sum over its intents, and so is a
department's. Entities and the emergency check are the built-in ones (Rasa's model is not trained
for them). Rasa 3.6 runs in its own Python 3.10 environment (scripts/rasa/).
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import yaml

from nlu.config import TYPES, NluSettings
from nlu.data import load_project_examples
from nlu.entities import extract_entities
from nlu.normalise import normalise
from nlu.pipeline import resolve
from nlu.prediction import NluPrediction
from nlu.urgent import UrgentDetector

SEPARATOR = "__"


def rasa_config(epochs: int) -> dict[str, Any]:
    return {
        "recipe": "default.v1",
        "language": "zh",
        "assistant_id": "hotline",
        "pipeline": [
            {"name": "JiebaTokenizer"},
            {"name": "CountVectorsFeaturizer", "min_df": 2},
            {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 3, "min_df": 2,
             "max_features": 20000},
            # Small on purpose: on two CPU cores a full DIET takes minutes an epoch on long posts.
            {"name": "DIETClassifier", "epochs": epochs, "entity_recognition": False, "constrain_similarities": True,
             "number_of_transformer_layers": 1, "transformer_size": 128, "batch_size": [64, 128],
             "ranking_length": 0},  # every intent: type and department probabilities are sums over them
        ],
        "policies": [],
    }


def _literal(text: str) -> str:
    return text.replace("\n", " ").strip()


def write_project(data_dir: Path, target: Path, departments: Sequence[str], epochs: int = 40, max_chars: int = 200) -> int:
    """config.yml, domain.yml and data/nlu.yml of a Rasa project; returns the number of examples."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for example in load_project_examples(data_dir, departments):
        if example.type and example.department:
            text = normalise(example.text, max_chars)
            if text:
                grouped[f"{example.type}{SEPARATOR}{example.department}"].append(_literal(text))
    (target / "data").mkdir(parents=True, exist_ok=True)
    blocks = []
    for intent in sorted(grouped):
        examples = "".join(f"- {text}\n" for text in dict.fromkeys(grouped[intent]))
        blocks.append({"intent": intent, "examples": examples})

    class _Literal(str):
        pass

    def literal(dumper: yaml.SafeDumper, value: _Literal) -> yaml.Node:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")

    yaml.SafeDumper.add_representer(_Literal, literal)
    nlu = {"version": "3.1", "nlu": [{"intent": b["intent"], "examples": _Literal(b["examples"])} for b in blocks]}
    (target / "data" / "nlu.yml").write_text(yaml.safe_dump(nlu, allow_unicode=True, sort_keys=False), encoding="utf-8")
    domain = {"version": "3.1", "intents": sorted(grouped)}
    (target / "domain.yml").write_text(yaml.safe_dump(domain, allow_unicode=True), encoding="utf-8")
    (target / "config.yml").write_text(yaml.safe_dump(rasa_config(epochs), allow_unicode=True, sort_keys=False),
                                       encoding="utf-8")
    return sum(len(v) for v in grouped.values())


class RasaClassifier:
    """Asks a Rasa server's /model/parse; the same thresholds, entities and urgency as the built-in one."""

    backend = "rasa"

    def __init__(self, url: str, settings: NluSettings, root: Path, timeout: float = 10.0,
                 concurrency: int = 4) -> None:
        self.url = url.rstrip("/")
        # Requests a batch keeps in flight: the server answers several at once on its cores.
        self.concurrency = max(1, concurrency)
        self.settings = settings
        self.topic_of = {d.code: d.topic for d in settings.departments}
        urgent_path = resolve(settings.pipeline.urgent_lexicon, root)
        self.urgent = UrgentDetector.from_file(urgent_path) if urgent_path and urgent_path.exists() else UrgentDetector([])
        self.client = httpx.Client(timeout=timeout)

    def close(self) -> None:
        self.client.close()

    def status(self) -> dict[str, Any]:
        response = self.client.get(f"{self.url}/status")
        response.raise_for_status()
        return dict(response.json())

    def parse(self, text: str) -> dict[str, Any]:
        response = self.client.post(f"{self.url}/model/parse", json={"text": text})
        response.raise_for_status()
        return dict(response.json())

    def classify(self, text: str) -> NluPrediction:
        prepared = normalise(text, self.settings.max_chars)
        entities = extract_entities((text or "")[: self.settings.pipeline.entity_chars], self.settings.pipeline.entities)
        urgent_kind = self.urgent.kind(prepared) if prepared else None
        if not prepared:
            return NluPrediction("complaint", 0.0, None, 0.0, None, True, urgent_kind is not None, entities,
                                 urgent_kind=urgent_kind, backend=self.backend)
        ranking = self.parse(prepared).get("intent_ranking") or []
        type_scores: dict[str, float] = dict.fromkeys(TYPES, 0.0)
        department_scores: dict[str, float] = defaultdict(float)
        for item in ranking:
            kind, _, code = str(item.get("name", "")).partition(SEPARATOR)
            confidence = float(item.get("confidence") or 0.0)
            if kind in type_scores:
                type_scores[kind] += confidence
            if code:
                department_scores[code] += confidence
        # A server whose model reports only its top intents: share out what the ranking covers.
        type_total, department_total = sum(type_scores.values()), sum(department_scores.values())
        if type_total:
            type_scores = {k: v / type_total for k, v in type_scores.items()}
        if department_total:
            department_scores = defaultdict(float, {k: v / department_total for k, v in department_scores.items()})
        ticket_type = max(type_scores, key=lambda k: type_scores[k])
        department: str | None = None
        if department_scores:
            department = max(department_scores, key=lambda k: department_scores[k])
        type_confidence = type_scores[ticket_type]
        department_confidence = department_scores[department] if department else 0.0
        return NluPrediction(
            type=ticket_type,
            type_confidence=round(type_confidence, 4),
            department=department,
            department_confidence=round(department_confidence, 4),
            topic=self.topic_of.get(department or ""),
            needs_review=department is None or type_confidence < self.settings.type_threshold
            or department_confidence < self.settings.department_threshold,
            urgent=urgent_kind is not None,
            urgent_kind=urgent_kind,
            entities=entities,
            type_scores={k: round(v, 4) for k, v in type_scores.items()},
            department_scores={k: round(v, 4) for k, v in department_scores.items()},
            backend=self.backend,
        )

    def classify_batch(self, texts: Sequence[str]) -> list[NluPrediction]:
        if self.concurrency == 1 or len(texts) < 2:
            return [self.classify(t) for t in texts]
        with ThreadPoolExecutor(self.concurrency) as pool:  # httpx.Client is thread-safe
            return list(pool.map(self.classify, texts))


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m nlu.rasa write TARGET`: used by scripts/rasa/train.sh."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["write"])
    parser.add_argument("target", type=Path)
    parser.add_argument("--data", type=Path, default=Path("data"))
    parser.add_argument("--config", type=Path, default=Path("config.yml"))
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--max-chars", type=int, default=200)
    args = parser.parse_args(argv)
    config = yaml.safe_load(args.config.read_text(encoding="utf-8"))
    codes = [d["code"] for d in config.get("departments") or []]
    count = write_project(args.data, args.target, codes, args.epochs, args.max_chars)
    print(f"wrote a Rasa project with {count} examples to {args.target}")


if __name__ == "__main__":
    main()
