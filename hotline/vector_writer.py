"""New tickets' sentence vectors, written on one background thread in batches.

Encoding a message costs a few milliseconds of CPU on the request that filed it; in a batch of
dozens it costs a fraction of that per message (measured in benchmarks/intake.py). The server hands
each new ticket to this writer right after the intake commit, so intake never waits on the encoder
nor fails for it; a vector lost to a crash before its batch was written is computed by the first
similar search that needs it (tickets/similar.py).
"""

from __future__ import annotations

import logging
import queue
import threading
from datetime import datetime

from sqlalchemy import Engine

from tickets.similar import Embedder, store_vectors
from tickets.uow import unit_of_work

log = logging.getLogger(__name__)


class BackgroundVectors:
    def __init__(self, engine: Engine, embedder: Embedder, batch: int = 64) -> None:
        self.engine = engine
        self.embedder = embedder
        self.batch = batch
        self._queue: queue.Queue[tuple[int, str, datetime]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the thread now, loading the encoder on it (seconds of CPU once), rather than on the
        first ticket."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="ticket-vectors", daemon=True)
                self._thread.start()

    def put(self, ticket_id: int, text: str, now: datetime) -> None:
        self._queue.put((ticket_id, text, now))
        if self._thread is None:
            self.start()

    def flush(self) -> None:
        """Wait until every ticket handed over so far has its vector written (or given up)."""
        self._queue.join()

    def _run(self) -> None:
        try:
            self.embedder.encode(["预热"])
        except Exception:  # noqa: BLE001 - reported where the first batch fails
            log.warning("the sentence encoder could not be loaded", exc_info=True)
        while True:
            items = [self._queue.get()]
            while len(items) < self.batch:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                with unit_of_work(self.engine) as session:
                    store_vectors(session, [(i, t) for i, t, _ in items], self.embedder, items[-1][2])
            except Exception:  # noqa: BLE001 - the next similar search fills in what is missing
                log.warning("could not store the vectors of %d new tickets", len(items), exc_info=True)
            finally:
                for _ in items:
                    self._queue.task_done()
