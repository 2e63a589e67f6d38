"""Classifying large batches on every core: `hotline classify` over a file of thousands of lines,
`hotline nlu evaluate`, the benchmark.

The pipeline is pure Python for the most part (jieba, the analyzers, the entity patterns), so one
process uses one core. Worker processes are forked from a process that already holds the loaded
model: nothing is pickled on the way in but the texts, and the model's memory is shared until
written. Only for batch commands: a server with threads must not fork, and one message at a time
gains nothing from workers.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Protocol

from nlu.prediction import NluPrediction


class BatchClassifier(Protocol):
    def classify_batch(self, texts: Sequence[str]) -> list[NluPrediction]: ...


_worker_classifier: BatchClassifier | None = None


def _classify_chunk(texts: Sequence[str]) -> list[NluPrediction]:
    assert _worker_classifier is not None, "worker started without a classifier"
    return _worker_classifier.classify_batch(texts)


def default_workers() -> int:
    return max(1, min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 8))


class ParallelClassifier:
    """`classify_batch` split over `workers` processes (this one and workers - 1 forked ones); the same
    predictions, in order.

    With one worker, or on a platform without fork, it is the wrapped classifier itself.
    Use as a context manager so that the workers end with it.
    """

    def __init__(self, classifier: BatchClassifier, workers: int | None = None) -> None:
        self.classifier = classifier
        self.workers = default_workers() if workers is None else max(1, workers)
        self._pool: Any = None
        self._forkable = self.workers > 1 and "fork" in multiprocessing.get_all_start_methods()

    def _start(self) -> Any:
        """The workers, forked at the first batch big enough to share (a few lines need none)."""
        if self._pool is None:
            global _worker_classifier
            _worker_classifier = self.classifier  # inherited by the forked workers
            # Objects that exist now are left out of the workers' garbage collection, which would
            # otherwise write to (and so copy) every page of the shared model.
            gc.freeze()
            # This process classifies a share itself, so `workers` processes use `workers` cores.
            self._pool = multiprocessing.get_context("fork").Pool(self.workers - 1)
        return self._pool

    @property
    def started(self) -> bool:
        return self._pool is not None

    def classify_batch(self, texts: Sequence[str]) -> list[NluPrediction]:
        if not self._forkable or len(texts) < 2 * self.workers:
            return self.classifier.classify_batch(texts)
        size = -(-len(texts) // self.workers)
        mine, *theirs = [list(texts[i : i + size]) for i in range(0, len(texts), size)]
        pending = self._start().map_async(_classify_chunk, theirs)
        return self.classifier.classify_batch(mine) + [p for chunk in pending.get() for p in chunk]

    def classify(self, text: str) -> NluPrediction:
        return self.classifier.classify_batch([text])[0]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None

    def __enter__(self) -> ParallelClassifier:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self._pool is not None:
            self._pool.terminate() if error is not None else self._pool.close()
            self._pool.join()
            self._pool = None
