"""The packaged sentence encoders: unit vectors, meaning over wording, a cache that changes nothing."""

from __future__ import annotations

import numpy as np
import pytest

from nlu.encoder import load_encoder


@pytest.mark.parametrize("name", ["use", "e5"])
def test_paraphrases_are_closer_than_other_topics(name: str) -> None:
    encoder = load_encoder(name)
    if encoder is None:
        pytest.skip(f"encoder {name} not installed")
    rows = encoder.encode(["公积金怎么提取", "住房公积金要取出来需要办什么手续", "楼下烧烤店油烟太大"])
    assert rows.shape == (3, encoder.dim) and rows.dtype == np.float32
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    assert rows[0] @ rows[1] > rows[0] @ rows[2] and rows[0] @ rows[1] > rows[1] @ rows[2]


def test_cached_vectors_are_the_ones_computed_and_traditional_reads_as_simplified() -> None:
    encoder = load_encoder("use")
    if encoder is None:
        pytest.skip("encoder use not installed")
    first = encoder.encode(["路灯坏了好几天没人修"]).copy()
    again = encoder.encode(["路燈壞了好幾天沒人修", "路灯坏了好几天没人修"])
    assert np.array_equal(again[0], first[0]) and np.array_equal(again[1], first[0])


def test_none_means_no_encoder_and_an_unknown_name_is_refused() -> None:
    assert load_encoder("none") is None
    with pytest.raises(ValueError, match="unknown encoder"):
        load_encoder("bert")
