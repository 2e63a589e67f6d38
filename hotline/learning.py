"""The NLU learns from the centre: corrections in the database become labelled examples, and a
challenger trained on them replaces the current model only when it does better on the most recent
corrections, which it has not seen.

Wiring, not domain: it reads the domain's tables and drives the NLU's training, the two layers that
may not know each other.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from hotline.nlu_wiring import nlu_settings, registry
from hotline.settings import PROJECT_ROOT, Settings
from nlu.data import Example
from nlu.model import NluModel
from nlu.pipeline import Pipeline
from nlu.train import train_default
from nlu.versions import INITIAL
from tickets.corrections import NluCorrection
from tickets.models import Ticket

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Correction:
    id: int
    field: str
    label: str
    text: str
    at: datetime


def corrections(engine: Engine, since: datetime | None = None) -> list[Correction]:
    """Every correction (oldest first) with its ticket's text; tickets whose text was erased are left out."""
    with Session(engine) as session:
        query = select(NluCorrection, Ticket.text).join(Ticket, Ticket.id == NluCorrection.ticket_id)  # type: ignore[arg-type]
        if since is not None:
            query = query.where(NluCorrection.at >= since)  # type: ignore[operator]
        rows = session.exec(query.order_by(NluCorrection.at, NluCorrection.id)).all()  # type: ignore[arg-type]
    return [Correction(c.id, c.field, c.to_value, text, c.at) for c, text in rows if text and text.strip()]  # type: ignore[arg-type]


def as_examples(found: Sequence[Correction]) -> list[Example]:
    """Exactly one example per correction: the ticket's text with the corrected label alone."""
    examples = []
    for c in found:
        labels: dict[str, Any] = {c.field: c.label}
        examples.append(Example(text=c.text, source=f"db:nlu_correction:{c.id}", **labels))
    return examples


def agreement(pipeline: Pipeline, held_out: Sequence[Correction]) -> float | None:
    """The share of held-out corrections that a model gets right (None with none to check)."""
    if not held_out:
        return None
    predictions = pipeline.classify_batch([c.text for c in held_out])
    right = sum(1 for c, p in zip(held_out, predictions, strict=True) if getattr(p, c.field) == c.label)
    return right / len(held_out)


def train_from_db(settings: Settings, engine: Engine, since: datetime | None = None) -> tuple[NluModel, int]:
    """A model trained on the project's data plus every correction (since `since`)."""
    found = corrections(engine, since)
    model = train_default(nlu_settings(settings.config), PROJECT_ROOT, as_examples(found))
    return model, len(found)


@dataclass
class Challenge:
    promoted: bool
    reason: str
    version: str | None = None
    figures: dict[str, Any] = field(default_factory=dict)


def challenge(settings: Settings, engine: Engine, now: datetime) -> Challenge:
    """Train a challenger on the project's data and all but the most recent corrections, and make
    it current only if it agrees with more of those recent ones than the current model does. Running
    it twice promotes at most once: the second challenger merely equals the first."""
    learning = settings.config.nlu.learning
    found = corrections(engine)
    if len(found) < learning.min_corrections:
        return Challenge(False, f"{len(found)} corrections; at least {learning.min_corrections} are needed")
    held = max(1, round(len(found) * learning.holdout_share))
    train_part, held_out = found[:-held], found[-held:]
    nlu = nlu_settings(settings.config)
    challenger = train_default(nlu, PROJECT_ROOT, as_examples(train_part))
    models = registry(settings)
    current_dir = models.current_dir()
    current_score = agreement(Pipeline(nlu, NluModel.load(current_dir), PROJECT_ROOT), held_out) \
        if NluModel.exists(current_dir) else 0.0
    challenger_score = agreement(Pipeline(nlu, challenger, PROJECT_ROOT), held_out)
    figures = {"held_out": len(held_out), "trained_on": len(train_part), "current": current_score,
               "challenger": challenger_score, "against": models.current(), "at": now.isoformat()}
    if challenger_score is None or current_score is None or challenger_score <= current_score + learning.min_gain:
        log.info("challenger refused: %s", figures)
        return Challenge(False, "the challenger does not beat the current model on the recent corrections", None, figures)
    version = models.add(challenger, "challenger", figures, now)
    models.use(version)
    log.info("challenger %s promoted: %s", version, figures)
    return Challenge(True, "promoted", version, figures)


__all__ = ["INITIAL", "Challenge", "Correction", "as_examples", "challenge", "corrections", "train_from_db"]
