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
import signal
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from types import TracebackType
from typing import Protocol

from nlu.prediction import NluPrediction


class BatchClassifier(Protocol):
    def classify_batch(self, texts: Sequence[str]) -> list[NluPrediction]: ...


_worker_classifier: BatchClassifier | None = None  # set in each worker by _init_worker


def _init_worker(classifier: BatchClassifier) -> None:
    global _worker_classifier
    # Ctrl-C reaches the whole process group: the parent stops the batch, the workers finish their
    # chunk and leave when it shuts the pool down, instead of dying with a task half done.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_classifier = classifier


def _ready() -> bool:
    return True


def _classify_chunk(texts: Sequence[str]) -> list[NluPrediction]:
    assert _worker_classifier is not None, "worker started without a classifier"
    return _worker_classifier.classify_batch(texts)


def default_workers() -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, 8))


class ParallelClassifier:
    """`classify_batch` split over `workers` processes (this one and workers - 1 forked ones); the same
    predictions, in order.

    With one worker, or on a platform without fork, it is the wrapped classifier itself.
    Use as a context manager (or call `close`) so that the workers end with it. A worker that dies
    fails the batch with BrokenProcessPool rather than leaving it waiting.
    """

    def __init__(self, classifier: BatchClassifier, workers: int | None = None) -> None:
        self.classifier = classifier
        self.workers = default_workers() if workers is None else max(1, workers)
        self._pool: ProcessPoolExecutor | None = None
        self._forkable = self.workers > 1 and "fork" in multiprocessing.get_all_start_methods()

    @property
    def processes(self) -> int:
        """How many processes a big batch really uses."""
        return self.workers if self._forkable else 1

    @property
    def started(self) -> bool:
        return self._pool is not None

    def start(self) -> None:
        """Fork the workers now (before starting threads of one's own, e.g. a progress bar); otherwise
        the first batch big enough to share does it."""
        if self._pool is not None or not self._forkable:
            return
        # Objects alive now stay out of the workers' garbage collection, which would otherwise write
        # to (and so copy) every page of the model they share with this process.
        gc.freeze()
        try:
            # initargs are inherited through fork, not pickled; the executor forks at its first task.
            self._pool = ProcessPoolExecutor(self.workers - 1, mp_context=multiprocessing.get_context("fork"),
                                             initializer=_init_worker, initargs=(self.classifier,))
            self._pool.submit(_ready).result()
        finally:
            gc.unfreeze()

    def classify_batch(self, texts: Sequence[str]) -> list[NluPrediction]:
        if not self._forkable or len(texts) < 2 * self.workers:
            return self.classifier.classify_batch(texts)
        self.start()
        assert self._pool is not None
        # Every n-th message to each process, not contiguous slices: files cluster long messages
        # (web posts after phone summaries), and the batch ends when its slowest share does.
        n = self.workers
        mine, *theirs = [list(texts[i::n]) for i in range(n)]
        pending = [self._pool.submit(_classify_chunk, chunk) for chunk in theirs]
        results: list[NluPrediction] = [None] * len(texts)  # type: ignore[list-item]
        results[0::n] = self.classifier.classify_batch(mine)
        for i, future in enumerate(pending, start=1):
            results[i::n] = future.result()
        return results

    def classify(self, text: str) -> NluPrediction:
        return self.classifier.classify_batch([text])[0]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> ParallelClassifier:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
