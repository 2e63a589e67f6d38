"""Per-class precision, recall and F1, macro-F1 and the confusion matrix of predicted labels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sklearn.metrics import confusion_matrix, precision_recall_fscore_support


def report(gold: Sequence[str], predicted: Sequence[str | None]) -> dict[str, Any]:
    """Macro-F1 over the gold labels' classes: a prediction outside them (another topic, none) is an error."""
    predicted_labels = [p if p is not None else "(none)" for p in predicted]
    classes = sorted(set(gold))
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted_labels, labels=classes, zero_division=0
    )
    others = sorted(set(predicted_labels) - set(classes))
    matrix = confusion_matrix(gold, predicted_labels, labels=classes + others)
    return {
        "n": len(gold),
        "accuracy": round(sum(g == p for g, p in zip(gold, predicted_labels, strict=True)) / max(len(gold), 1), 4),
        "macro_f1": round(float(f1.mean()) if len(classes) else 0.0, 4),
        "classes": {
            c: {"precision": round(float(p), 4), "recall": round(float(r), 4), "f1": round(float(f), 4), "support": int(s)}
            for c, p, r, f, s in zip(classes, precision, recall, f1, support, strict=True)
        },
        "confusion": {"labels": classes + others, "rows": classes, "matrix": matrix[: len(classes)].tolist()},
    }
