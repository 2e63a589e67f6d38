"""The NLU's settings: what config.yml's `nlu:` section holds, with the defaults that ship.

The wiring package reads config.yml and hands an `NluSettings` to `nlu.build_pipeline`; nothing
here reads files of its own accord. Paths are relative to the project folder.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

TYPES = ("complaint", "consultation", "suggestion")
# The packaged sentence encoders (nlu/encoder.py); `none` runs on n-grams alone.
EncoderName = Literal["none", "use", "e5"]
ENTITY_KINDS = ("phone", "id_card", "place", "time", "plate")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NormaliseConfig(_Strict):
    traditional_to_simplified: bool = True


class TokenizerConfig(_Strict):
    segmenter: Literal["jieba"] = "jieba"
    user_dict: str | None = "data/userdict.txt"
    hmm: bool = False  # jieba's new-word discovery (nlu.tokenizer.Segmenter says why it is off)


class FeaturesConfig(_Strict):
    # Measured on real messages: unigrams and character bigrams generalise better to long posts
    # than longer n-grams, which learn the project's own phrasing.
    word_ngrams: tuple[int, int] = (1, 1)
    char_ngrams: tuple[int, int] = (1, 2)
    min_df: int = Field(1, ge=1)
    max_features: int = Field(150_000, ge=1000)

    @model_validator(mode="after")
    def _ordered(self) -> FeaturesConfig:
        for name in ("word_ngrams", "char_ngrams"):
            low, high = getattr(self, name)
            if not 1 <= low <= high <= 4:
                raise ValueError(f"{name}: expected [low, high] with 1 <= low <= high <= 4")
        return self


class HeadConfig(_Strict):
    """One linear text classifier (logistic regression on the features above)."""

    C: float = Field(8.0, gt=0)
    inputs: Literal["words", "chars", "both"] = "both"  # which features the head reads
    class_weight: Literal["balanced", "none"] = "balanced"
    # Real hotlines get far more complaints than suggestions: the model is trained balanced and
    # its probabilities are then shifted to these priors (empty: keep the balanced training prior).
    priors: dict[str, float] = {}
    # Scale of the sentence encoder's vector beside the n-gram features (nlu.encoder); 0: n-grams only.
    # The vector is unit length like each TF-IDF block, so the weight sets its share directly.
    # 0 by default: on the dev files USE's vector did not raise type or topic macro-F1 (docs/DESIGN.md).
    encoder_weight: float = Field(0.0, ge=0)


class TypeCues(_Strict):
    """Words that name the type outright; they nudge the model's probabilities by `weight`."""

    weight: float = Field(0.3, ge=0, le=1)
    # A citizen who declares the type (我要投诉, 实名举报, 我想咨询) counts twice: the word itself and the declaration,
    # so a complaint that ends with a suggestion ("…另外建议…") stays a complaint.
    complaint: list[str] = ["投诉", "举报", "求助", "曝光", "控告", "强烈要求", "严查", "太差", "不作为", "扰民",
                            "我要投诉", "我要举报", "实名投诉", "实名举报"]
    consultation: list[str] = ["咨询", "请问", "想问", "想了解", "想知道", "如何办理", "怎么办理", "需要哪些", "是否可以", "能否告知",
                               "我想咨询", "我要咨询"]
    suggestion: list[str] = ["建议", "提议", "倡议", "献策", "意见和建议", "希望增设", "能否增设", "呼吁"]


class PipelineConfig(_Strict):
    data_dir: str = "data"
    normalise: NormaliseConfig = NormaliseConfig()
    tokenizer: TokenizerConfig = TokenizerConfig()
    features: FeaturesConfig = FeaturesConfig()
    type_classifier: HeadConfig = HeadConfig(
        C=4.0, priors={"complaint": 0.5, "consultation": 0.35, "suggestion": 0.15}
    )
    department_classifier: HeadConfig = HeadConfig(C=20.0, inputs="chars")
    topic_classifier: HeadConfig = HeadConfig(C=20.0, inputs="chars")
    # Topic = (1 - w) · topic head + w · topics of the department head's probabilities.
    # 0: the topic head alone, which learns the taxonomy's own split (food safety is 卫生计生 though
    # 市场监管 handles it); it measured better than blending in the department's topic.
    topic_department_weight: float = Field(0.0, ge=0, le=1)
    type_cues: TypeCues = TypeCues()
    entities: list[Literal["phone", "id_card", "place", "time", "plate"]] = ["phone", "id_card", "place", "time", "plate"]
    urgent_lexicon: str = "data/urgent.yml"
    train_max_chars: int = Field(600, ge=50)
    history_weight: float = Field(1.0, gt=0)  # weight of a --from-csv message against one of data/ (measured: 1 is best)
    # The heads read the first N characters (the title and the opening say what a message is
    # about; measured: as accurate as the whole post, three times faster).
    classify_chars: int = Field(400, ge=50)
    # Entities read this much of a message, the whole of what a ticket keeps (tickets.text): a long
    # post often ends with the phone number or address.
    entity_chars: int = Field(20_000, ge=100)
    # jieba segments the first N of those characters: the word features serve the type head, which
    # reads the title and the opening (measured on dev: type F1 within noise of segmenting all 400, jieba 3x faster).
    segment_chars: int = Field(60, ge=20)


class DepartmentInfo(_Strict):
    code: str
    topic: str
    keywords: list[str] = []


class NluSettings(_Strict):
    """Everything the built-in pipeline needs, assembled by the wiring package from config.yml."""

    encoder: EncoderName = "none"  # the sentence encoder whose vectors the heads read (nlu/encoder.py)
    encoder_threads: int = 1
    type_threshold: float = 0.45
    department_threshold: float = 0.35
    max_chars: int = 2000
    keyword_prior_weight: float = 0.3
    pipeline: PipelineConfig = PipelineConfig()
    departments: list[DepartmentInfo] = []

    @property
    def heads_encoder(self) -> EncoderName:
        """The encoder the classifier's heads read: `encoder`, unless every head gives it weight 0."""
        config = self.pipeline
        heads = (config.type_classifier, config.department_classifier, config.topic_classifier)
        return self.encoder if any(head.encoder_weight > 0 for head in heads) else "none"
