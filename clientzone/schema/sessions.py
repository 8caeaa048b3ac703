"""Signing in and out; the viewer's sessions and security events."""

from __future__ import annotations

from datetime import datetime

import strawberry

from clientzone.core.ids import encode_global_id
from clientzone.models import security_events as event_models
from clientzone.models import sessions as session_models
from clientzone.resolvers import sessions as resolvers
from clientzone.resolvers.sessions import LoginErrorCode
from clientzone.schema.errors import UserError
from clientzone.schema.info import Info
from clientzone.schema.payloads import user_errors
from clientzone.schema.users import User

strawberry.enum(
    session_models.SessionKind,
    name="SessionKind",
    description="BROWSER: signed in with the cookie; TOKEN: a bearer token for a server.",
)
strawberry.enum(
    event_models.SecurityEventKind,
    name="SecurityEventKind",
    description="What happened to the login.",
)


@strawberry.type(name="Session", description="A signed-in browser or an issued bearer token.")
class SessionType:
    id: strawberry.ID
    kind: session_models.SessionKind
    current: bool = strawberry.field(description="True for the session making this request.")
    created_at: datetime
    last_seen_at: datetime = strawberry.field(description="Updated at most once a minute.")
    expires_at: datetime = strawberry.field(description="Ends at this time whatever happens.")
    idle_expires_at: datetime | None = strawberry.field(
        description="Ends earlier if unused until then (browser sessions not remembered)."
    )
    ip: str | None
    user_agent: str | None

    @classmethod
    def from_row(cls, row: session_models.AuthSession, info: Info) -> SessionType:
        viewer = info.context.viewer
        return cls(
            id=strawberry.ID(encode_global_id("Session", row.id)),
            kind=row.kind,
            current=viewer is not None and viewer.session.id == row.id,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            expires_at=row.expires_at,
            idle_expires_at=row.idle_expires_at,
            ip=row.ip,
            user_agent=row.user_agent,
        )


@strawberry.type(name="SecurityEvent", description="Something that happened to your login.")
class SecurityEventType:
    id: strawberry.ID
    kind: event_models.SecurityEventKind
    created_at: datetime
    ip: str | None
    user_agent: str | None
    detail: str | None = strawberry.field(
        description="E.g. the claimed account's number or a masked new email."
    )

    @classmethod
    def from_row(cls, row: event_models.SecurityEvent) -> SecurityEventType:
        return cls(
            id=strawberry.ID(encode_global_id("SecurityEvent", row.id)),
            kind=row.kind,
            created_at=row.created_at,
            ip=row.ip,
            user_agent=row.user_agent,
            detail=row.detail,
        )


strawberry.enum(LoginErrorCode)


@strawberry.input
class LoginInput:
    email: str
    password: str
    remember: bool = strawberry.field(
        default=False,
        description="Keep the session for SESSION_REMEMBER_DAYS instead of until idle.",
    )
    issue_token: bool = strawberry.field(
        default=False,
        description="Also return a bearer token (for servers; lasts TOKEN_DAYS).",
    )


@strawberry.type
class LoginError(UserError):
    code: LoginErrorCode


@strawberry.type
class LoginPayload:
    user: User | None
    session: SessionType | None
    token: str | None = strawberry.field(
        description="Only with issueToken: send it as `Authorization: Bearer <token>`."
    )
    user_errors: list[LoginError]


async def login(info: Info, input: LoginInput) -> LoginPayload:
    outcome = await resolvers.login(
        info.context,
        email=input.email,
        password=input.password,
        remember=input.remember,
        issue_token=input.issue_token,
    )
    signed_in = outcome.value
    return LoginPayload(
        user=User.from_row(signed_in.user) if signed_in else None,
        session=SessionType.from_row(signed_in.session, info) if signed_in else None,
        token=signed_in.token if signed_in else None,
        user_errors=user_errors(LoginError, outcome.errors, info.context.locale),
    )


@strawberry.input
class LogoutInput:
    everywhere: bool = strawberry.field(
        default=False, description="End every session and token of this login, not just this one."
    )


@strawberry.type
class LogoutPayload:
    ended_sessions: int


async def logout(info: Info, input: LogoutInput | None = None) -> LogoutPayload:
    everywhere = input.everywhere if input else False
    return LogoutPayload(ended_sessions=await resolvers.logout(info.context, everywhere=everywhere))


@strawberry.input
class RevokeSessionInput:
    session_id: strawberry.ID


@strawberry.type
class RevokeSessionPayload:
    revoked_session_id: strawberry.ID


async def revoke_session(info: Info, input: RevokeSessionInput) -> RevokeSessionPayload:
    revoked = await resolvers.revoke_session(info.context, str(input.session_id))
    return RevokeSessionPayload(
        revoked_session_id=strawberry.ID(encode_global_id("Session", revoked))
    )
