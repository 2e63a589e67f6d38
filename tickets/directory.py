"""Staff of the hotline: adding people, one-time join codes, finding who a channel user is."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from tickets.errors import InvalidInput, NotFound
from tickets.models import Department, Invite, Staff
from tickets.sessions import end_all
from tickets.states import Role


def _check_role(role: str, department_code: str | None, session: Session) -> None:
    if role not in Role.__members__:
        raise InvalidInput(f"unknown role {role!r}; expected one of {', '.join(Role)}")
    if role in (Role.staff, Role.head):
        if not department_code:
            raise InvalidInput(f"role {role} needs a department (--department CODE)")
        if session.exec(select(Department).where(Department.code == department_code)).first() is None:
            raise InvalidInput(f"unknown department code {department_code!r}")
    elif department_code:
        raise InvalidInput(f"role {role} belongs to the hotline centre, not to a department")


class Directory:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(
        self,
        name: str,
        role: str,
        department_code: str | None = None,
        telegram_id: str | None = None,
        username: str | None = None,
        password_hash: str | None = None,
    ) -> Staff:
        if not name.strip():
            raise InvalidInput("the name must not be empty")
        with Session(self.engine, expire_on_commit=False) as session:
            _check_role(role, department_code, session)
            staff = Staff(
                name=name.strip(), role=role, department_code=department_code, telegram_id=telegram_id,
                username=username, password_hash=password_hash,
            )
            session.add(staff)
            try:
                session.commit()
            except IntegrityError as err:
                raise InvalidInput("that username or Telegram id already belongs to someone") from err
            return staff

    def set_password(self, username: str, password_hash: str) -> Staff:
        with Session(self.engine, expire_on_commit=False) as session:
            staff = session.exec(select(Staff).where(Staff.username == username)).first()
            if staff is None:
                raise NotFound(f"no staff member with username {username!r}")
            staff.password_hash = password_hash
            session.add(staff)
            assert staff.id is not None
            end_all(session, staff.id)  # whoever knew the old password is logged out
            session.commit()
            return staff

    def everyone(self) -> list[Staff]:
        with Session(self.engine) as session:
            return list(session.exec(select(Staff).order_by(Staff.id)).all())  # type: ignore[arg-type]

    def by_telegram_id(self, telegram_id: str) -> Staff | None:
        with Session(self.engine) as session:
            return session.exec(select(Staff).where(Staff.telegram_id == telegram_id, Staff.active == True)).first()  # noqa: E712

    def by_username(self, username: str) -> Staff | None:
        with Session(self.engine) as session:
            return session.exec(select(Staff).where(Staff.username == username, Staff.active == True)).first()  # noqa: E712

    def get(self, staff_id: int) -> Staff | None:
        with Session(self.engine) as session:
            return session.get(Staff, staff_id)

    def of_department(self, department_code: str) -> list[Staff]:
        with Session(self.engine) as session:
            query = select(Staff).where(Staff.department_code == department_code, Staff.active == True)  # noqa: E712
            return list(session.exec(query).all())

    def with_role(self, role: Role) -> list[Staff]:
        with Session(self.engine) as session:
            return list(session.exec(select(Staff).where(Staff.role == role, Staff.active == True)).all())  # noqa: E712

    def invite(self, role: str, department_code: str | None, now: datetime) -> Invite:
        with Session(self.engine, expire_on_commit=False) as session:
            _check_role(role, department_code, session)
            invite = Invite(code=secrets.token_urlsafe(9), role=role, department_code=department_code, created_at=now)
            session.add(invite)
            session.commit()
            return invite

    def redeem(self, code: str, name: str, telegram_id: str, now: datetime) -> Staff:
        """Use a one-time code: the person becomes staff; a second use is refused."""
        with Session(self.engine, expire_on_commit=False) as session:
            invite = session.exec(select(Invite).where(Invite.code == code.strip())).first()
            if invite is None or invite.used_at is not None:
                raise InvalidInput("this join code is unknown or has already been used")
            staff = session.exec(select(Staff).where(Staff.telegram_id == telegram_id)).first()
            if staff is None:
                staff = Staff(name=name, role=invite.role, department_code=invite.department_code, telegram_id=telegram_id)
            else:
                staff.role, staff.department_code, staff.active = invite.role, invite.department_code, True
            session.add(staff)
            session.flush()
            invite.used_at, invite.used_by_staff_id = now, staff.id
            session.add(invite)
            session.commit()
            return staff
