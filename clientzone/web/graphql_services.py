"""What both GraphQL transports (HTTP and WebSocket) work with, and the rules
they share: who may introspect, and who pays for an operation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from graphql import GraphQLError

from clientzone.auth.context import Context
from clientzone.auth.rate_limits import CostBudget, RateLimiter
from clientzone.auth.session_cache import SessionCache
from clientzone.config import Introspection, Settings
from clientzone.db import Database
from clientzone.realtime.events import EventBus
from clientzone.schema.engine import Engine, RequestError
from clientzone.schema.persisted_queries import PersistedDocuments
from clientzone.web.admission import Admission


@dataclass(frozen=True)
class GraphQLServices:
    engine: Engine
    database: Database
    settings: Settings
    limiter: RateLimiter
    budget: CostBudget
    events: EventBus
    documents: PersistedDocuments
    admission: Admission
    sessions: SessionCache | None = None
    # Tells the in-process mail sender that a mutation may have queued mail.
    wake_mail: Callable[[], None] | None = None

    def restricted(self, context: Context) -> bool:
        """Whether this caller may not introspect (and gets no suggestions)."""
        policy = self.settings.introspection_policy
        if policy is Introspection.ALL:
            return False
        return policy is Introspection.OFF or context.viewer is None

    async def document(
        self, context: Context, query: object, extensions: object
    ) -> tuple[str | None, bool]:
        """The document to run (a persisted query's text when sent by hash) and
        whether to keep it once it has run; a RequestError when it may not run."""
        if query is not None and not isinstance(query, str):
            return None, False  # the engine refuses it
        try:
            resolved = await self.documents.resolve(
                context, query, extensions if isinstance(extensions, dict) else None
            )
        except GraphQLError as error:
            code = (error.extensions or {}).get("code")
            # A miss stays 200: Apollo clients give up persisted queries on a 4xx.
            status = {"BAD_USER_INPUT": 400, "FORBIDDEN": 403}.get(str(code), 200)
            raise RequestError([error], status) from None
        return resolved.query, resolved.learn

    async def charge(self, context: Context, cost: int) -> tuple[int, int]:
        """Charge an operation to its client's budget (a session, else an IP):
        what is left and seconds until the minute restarts; RATE_LIMITED beyond."""
        client = (
            f"session:{context.viewer.session.id.hex}"
            if context.viewer is not None
            else f"ip:{context.client_ip}"
        )
        return await self.budget.spend(client, cost)
