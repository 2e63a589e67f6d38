"""spaCy's Chinese language with jieba as its segmenter, plus the hotline's user dictionary."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

_lock = threading.Lock()
_loaded_dicts: set[Path] = set()


def load_user_dict(path: Path | None) -> None:
    """Add hotline words (one `word [freq [tag]]` a line) to jieba's global dictionary, once."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    if path is None or not path.exists():
        return
    path = path.resolve()
    with _lock:
        if path not in _loaded_dicts:
            jieba.load_userdict(str(path))
            _loaded_dicts.add(path)


def make_nlp(user_dict: Path | None = None) -> Any:
    """A blank spaCy `zh` pipeline whose tokenizer is jieba (no other component: classification
    and entities are our own components, see nlu.pipeline)."""
    import spacy

    load_user_dict(user_dict)
    return spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})


class Segmenter:
    """Words of a text through spaCy's jieba tokenizer, whitespace tokens dropped.

    `hmm=False` turns off jieba's new-word discovery (an HMM over runs of unknown characters):
    such runs come out as single characters, which the character n-gram features read anyway.
    Measured on real messages: the same accuracy, segmentation 40% faster.
    """

    def __init__(self, user_dict: Path | None = None, hmm: bool = True) -> None:
        self.nlp = make_nlp(user_dict)
        self.hmm = hmm
        # spaCy's zh tokenizer in jieba mode cuts with this segmenter; calling it directly gives the
        # same words without building a Doc, which halves the time of a long message.
        self._cut = getattr(self.nlp.tokenizer, "jieba_seg", None)

    def words(self, text: str) -> list[str]:
        if not text:
            return []
        if self._cut is not None:
            return [w for w in self._cut.cut(text, cut_all=False, HMM=self.hmm) if w.strip()]
        return [t.text for t in self.nlp.make_doc(text) if not t.is_space]

    def doc_words(self, text: str) -> list[str]:
        """The words of spaCy's Doc (what `words` equals when hmm is on, spaCy's own setting)."""
        return [t.text for t in self.nlp.make_doc(text) if not t.is_space]
