"""Who is acting: a citizen, a member of staff (with a role and department) or the system."""

from __future__ import annotations

from dataclasses import dataclass

from tickets.states import ActorKind, Role


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: int | None = None
    role: Role | None = None
    department_code: str | None = None
    name: str = ""

    @property
    def label(self) -> str:
        if self.kind is ActorKind.system:
            return "system"
        if self.kind is ActorKind.citizen:
            return f"citizen #{self.id}"
        return f"{self.role} #{self.id} {self.name}".strip()


SYSTEM = Actor(kind=ActorKind.system, name="系统")


def citizen_actor(citizen_id: int) -> Actor:
    return Actor(kind=ActorKind.citizen, id=citizen_id)
