"""config.yml's department keywords as a prior a city can edit without retraining."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nlu.config import DepartmentInfo


class KeywordPrior:
    def __init__(self, departments: Sequence[DepartmentInfo]) -> None:
        self.codes = [d.code for d in departments]
        self.keywords = [[k for k in d.keywords if k] for d in departments]

    def scores(self, text: str) -> np.ndarray | None:
        """Keyword hits per department (in `codes` order) as a distribution; None without a hit.

        A keyword counts once per message (a long post repeating 物业 ten times is not ten times
        surer), and a longer keyword weighs more than a two-character one.
        """
        hits = np.array([sum(len(k) for k in words if k in text) for words in self.keywords], dtype=float)
        total = hits.sum()
        return hits / total if total else None
