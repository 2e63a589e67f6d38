"""Cross-validated figure no hand-written example was tuned on: 5-fold CV of training on the project's
data plus 4/5 of a real dev file (as `nlu train --from-csv` does), scored on the other 1/5.

    .venv/bin/python benchmarks/nlu_cv.py [--file type|topic] [--without-gen] [--folds 5] [--realworld DIR]

Out-of-fold predictions are pooled: one macro-F1 and per-class recall over all rows, plus the mean
and spread of the folds' macro-F1. `--without-gen` leaves out data/nlu/_gen_*.yml (the generated data
of issue 12 item 2) to compare. Reads ../shared/data/realworld/ and skips with a message when absent.
Each fold trains a whole model: minutes per fold on a busy 2-core machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sklearn.model_selection import StratifiedKFold  # noqa: E402

from benchmarks.machine import describe  # noqa: E402
from hotline.nlu_wiring import nlu_settings  # noqa: E402
from hotline.settings import PROJECT_ROOT, load_config  # noqa: E402
from nlu.data import CsvColumns, Example, load_project_examples, read_csv_rows  # noqa: E402
from nlu.evaluate import report  # noqa: E402
from nlu.pipeline import Pipeline, resolve  # noqa: E402
from nlu.train import train_model  # noqa: E402

REALWORLD = PROJECT_ROOT.parent / "shared" / "data" / "realworld"
FILES = {"type": ("appeals_type_dev.csv", "type"), "topic": ("messages_category_dev.csv", "category")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", choices=sorted(FILES), default="type")
    parser.add_argument("--without-gen", action="store_true")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--realworld", type=Path, default=REALWORLD, help="folder of the real dev files")
    args = parser.parse_args()
    name, column = FILES[args.file]
    if not (args.realworld / name).exists():
        print(f"skipped: {args.realworld / name} is absent (the CV measures on real messages only)")
        return 0
    print(describe("scikit-learn", "numpy", "jieba"))
    settings = nlu_settings(load_config(PROJECT_ROOT / "config.yml"))
    data_dir = resolve(settings.pipeline.data_dir, PROJECT_ROOT)
    assert data_dir is not None
    project = load_project_examples(data_dir, [d.code for d in settings.departments])
    if args.without_gen:
        project = [e for e in project if not e.source.startswith("_gen_")]
    rows = [(text, row[column].strip()) for text, row in read_csv_rows(args.realworld / name, CsvColumns("text", "title"))]
    labels = [label for _, label in rows]
    field = args.file
    gold: list[str] = []
    predicted: list[str | None] = []
    fold_f1 = []
    splitter = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=0)
    for fold, (train_idx, test_idx) in enumerate(splitter.split(rows, labels), 1):
        start = time.perf_counter()
        extra = [Example(rows[i][0], **{field: rows[i][1]}, source=name) for i in train_idx]  # type: ignore[arg-type]
        pipeline = Pipeline(settings, train_model(project + extra, settings, PROJECT_ROOT), PROJECT_ROOT)
        predictions = pipeline.classify_batch([rows[i][0] for i in test_idx])
        fold_gold = [rows[i][1] for i in test_idx]
        fold_pred = [getattr(p, field) for p in predictions]
        fold_f1.append(float(report(fold_gold, fold_pred)["macro_f1"]))
        gold += fold_gold
        predicted += fold_pred
        print(f"fold {fold}: macro-F1 {fold_f1[-1]:.3f} ({time.perf_counter() - start:.0f} s)", flush=True)
    pooled = report(gold, predicted)
    recalls = ", ".join(f"{k} {v['recall']:.3f}" for k, v in pooled["classes"].items())
    print(f"{name} {'without' if args.without_gen else 'with'} _gen_*: {len(project)} project examples, "
          f"{args.folds}-fold pooled macro-F1 {pooled['macro_f1']:.3f} (folds {statistics.mean(fold_f1):.3f} "
          f"± {statistics.pstdev(fold_f1):.3f}); recall: {recalls}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
