"""Adding support staff (`clientzone staff add EMAIL --role ROLE`).

Staff are never created through the API (sign-up makes customers only). The
command creates the login when the email has none, gives it the role, and
emails a one-time link to choose the password (the same link as a password
reset, valid SET_PASSWORD_HOURS), all in one transaction through the outbox.
A login that becomes staff loses its live sessions: the next sign-in is a
staff one (shorter, with the second factor).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from clientzone.config import Settings
from clientzone.core import validators
from clientzone.db import Database
from clientzone.mailers.outbox import notify_user
from clientzone.models.sessions import revoke_sessions
from clientzone.models.staff import StaffAction, StaffMember, StaffRole, record_staff_action
from clientzone.models.user_tokens import CODE_KEY, TokenPurpose, issue_user_token
from clientzone.models.users import User, set_user_fields, user_by_email

SET_PASSWORD_HOURS = 48


class StaffAdminError(Exception):
    """What the command cannot do, said plainly."""


@dataclass(frozen=True)
class StaffAdded:
    user: User
    created: bool  # a new login (else an existing one became staff or changed role)
    link_sent: bool


async def add_staff(
    database: Database, settings: Settings, email: str, role: StaffRole
) -> StaffAdded:
    address = validators.email(email)
    if address is None:
        raise StaffAdminError(f"not a valid email: {email}")
    async with database.transaction() as session:
        user = await user_by_email(session, address)
        created = user is None
        if user is None:
            user = User(email=address, is_staff=True)
            session.add(user)
            await session.flush()
        elif not user.is_staff:
            await set_user_fields(session, user.id, is_staff=True)
            await revoke_sessions(session, user_id=user.id)
        member = await session.get(StaffMember, user.id)
        if member is None:
            session.add(StaffMember(user_id=user.id, role=role))
        else:
            member.role = role
            member.disabled = False
        record_staff_action(
            session,
            staff_user_id=None,
            staff_email="cli",
            action=StaffAction.STAFF_ADDED,
            target=f"{address} {role.value}",
        )
        link_sent = user.password_hash is None
        if link_sent:
            token, _ = await issue_user_token(
                session,
                user_id=user.id,
                purpose=TokenPurpose.PASSWORD_RESET,
                lifetime=timedelta(hours=SET_PASSWORD_HOURS),
                code_key=settings.key(CODE_KEY),
            )
            await notify_user(
                session,
                settings,
                user=user,
                template="staff_welcome",
                carries_token=token,
                link=f"{settings.portal_base_url}/reset-password?token={token}",
                hours=SET_PASSWORD_HOURS,
                role=role.value,
            )
    return StaffAdded(user=user, created=created, link_sent=link_sent)
