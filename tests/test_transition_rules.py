"""Every transition, in every state, by every kind of actor: allowed exactly where DESIGN.md says.

The expected table below is written out by hand from DESIGN.md, independently of tickets/states.py.
"""

from __future__ import annotations

import itertools

import pytest

from tickets.actors import SYSTEM, Actor, citizen_actor
from tickets.errors import PermissionDenied, TransitionNotAllowed
from tickets.models import Ticket
from tickets.states import TRANSITIONS, ActorKind, Role, State
from tickets.transitions import check

OPEN = {"new", "assigned", "accepted", "returned", "reopened"}
EXPECTED: dict[str, tuple[set[str], set[str]]] = {
    # action: (states it may start from, actors who may make it)
    "assign": ({"new"}, {"system", "dispatcher"}),
    "accept": ({"assigned"}, {"own_staff", "own_head"}),
    "answer": ({"accepted", "reopened"}, {"own_staff", "own_head"}),
    "return": ({"assigned", "accepted"}, {"own_staff", "own_head"}),
    "reroute": ({"returned", "assigned", "accepted", "reopened"}, {"dispatcher"}),
    "request_extension": ({"accepted", "reopened"}, {"own_staff", "own_head"}),
    "grant_extension": ({"accepted", "reopened"}, {"dispatcher"}),
    "refuse_extension": ({"accepted", "reopened"}, {"dispatcher"}),
    "rate": ({"answered"}, {"own_citizen"}),
    "reopen": ({"answered"}, {"own_citizen", "dispatcher"}),
    "close": ({"answered"}, {"dispatcher"}),
    "auto_close": ({"answered"}, {"system"}),
    "invalidate": ({"new", "returned"}, {"dispatcher"}),
    "merge": (OPEN, {"dispatcher"}),
    # settled at first contact: a direct answer (the citizen's 已解决, an operator) or a transfer
    "close_at_once": ({"new"}, {"own_citizen", "operator", "dispatcher"}),
    # the hotline centre's desk (issue 14)
    "add_contact": (OPEN | {"answered"}, {"own_citizen", "operator", "dispatcher"}),
    "callback": ({"answered"}, {"operator"}),
    "retype": (OPEN, {"dispatcher"}),
    "mark_urgent": (OPEN, {"dispatcher", "operator"}),
    "supervise": ({"assigned", "accepted", "reopened"}, {"dispatcher"}),
    "acknowledge_supervision": ({"assigned", "accepted", "reopened"}, {"own_staff", "own_head"}),
}

ACTORS = {
    "system": SYSTEM,
    "dispatcher": Actor(ActorKind.staff, 1, Role.dispatcher),
    "leader": Actor(ActorKind.staff, 2, Role.leader),
    "own_staff": Actor(ActorKind.staff, 3, Role.staff, "housing"),
    "own_head": Actor(ActorKind.staff, 4, Role.head, "housing"),
    "other_staff": Actor(ActorKind.staff, 5, Role.staff, "water"),
    "other_head": Actor(ActorKind.staff, 6, Role.head, "water"),
    "operator": Actor(ActorKind.staff, 7, Role.operator),
    "kb_editor": Actor(ActorKind.staff, 8, Role.kb_editor),
    "own_citizen": citizen_actor(10),
    "other_citizen": citizen_actor(11),
}


def test_expected_table_covers_every_transition_of_the_domain():
    assert set(EXPECTED) == set(TRANSITIONS)


@pytest.mark.parametrize(
    ("action", "state", "actor_name"),
    list(itertools.product(sorted(EXPECTED), [s.value for s in State], sorted(ACTORS))),
)
def test_transition_allowed_only_from_its_states_and_by_its_actors(action, state, actor_name):
    ticket = Ticket(number="20261123-0001", channel="t", external_message_id="m", citizen_id=10, type="complaint",
                    department_code="housing", text="x", state=state)
    states, actors = EXPECTED[action]
    if state not in states:
        with pytest.raises(TransitionNotAllowed) as info:
            check(action, ticket, ACTORS[actor_name])
        assert not isinstance(info.value, PermissionDenied)
        assert state in str(info.value) and action in str(info.value)
    elif actor_name not in actors:
        with pytest.raises(PermissionDenied) as info:
            check(action, ticket, ACTORS[actor_name])
        assert "may not" in str(info.value)
    else:
        check(action, ticket, ACTORS[actor_name])
