"""The staff side's one enforcement path: a staff field or `staff...` mutation
declares the roles that may use it, and this extension checks them first.

    @strawberry.field(extensions=staff_only(StaffRole.ADMIN))

Anonymous is UNAUTHENTICATED. A customer, a disabled staff member or a role
not listed is FORBIDDEN (`extensions.permission` names the least role that
may). A staff session that has not proved its second factor is FORBIDDEN with
`permission: SECOND_FACTOR`, except on the fields that enrol or verify it
(`before_second_factor=True`). The staff matrix test walks the schema for
this extension, so a staff field cannot be added without deciding.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from strawberry.extensions import FieldExtension
from strawberry.types import Info

from clientzone.auth.access import require_viewer
from clientzone.auth.context import Context
from clientzone.core.errors import StaffForbidden
from clientzone.models.staff import StaffMember, StaffRole, staff_member

# Each role may do what the roles before it may.
ROLE_ORDER = (StaffRole.SUPPORT_AGENT, StaffRole.BILLING_AGENT, StaffRole.ADMIN)
SECOND_FACTOR = "SECOND_FACTOR"


def roles_from(least: StaffRole) -> frozenset[StaffRole]:
    """`least` and every role above it."""
    return frozenset(ROLE_ORDER[ROLE_ORDER.index(least) :])


async def viewer_staff(ctx: Context) -> StaffMember | None:
    """The viewer's live staff row (None for customers and disabled staff)."""
    viewer = ctx.viewer
    if viewer is None or not viewer.user.is_staff:
        return None
    if not ctx.staff_known:
        async with ctx.db.read() as session:
            ctx.staff = await staff_member(session, viewer.user.id)
        ctx.staff_known = True
    staff = ctx.staff
    return None if staff is None or staff.disabled else staff


@dataclass(frozen=True)
class StaffViewer:
    member: StaffMember
    email: str


async def require_staff(
    ctx: Context, least: StaffRole = StaffRole.SUPPORT_AGENT, *, before_second_factor: bool = False
) -> StaffViewer:
    viewer = require_viewer(ctx)
    staff = await viewer_staff(ctx)
    if staff is None or staff.role not in roles_from(least):
        raise StaffForbidden(least.value)
    if not before_second_factor and viewer.session.second_factor_at is None:
        raise StaffForbidden(SECOND_FACTOR)
    return StaffViewer(member=staff, email=viewer.user.email)


class RequiresStaffRole(FieldExtension):
    def __init__(self, least: StaffRole, *, before_second_factor: bool = False) -> None:
        self.least = least
        self.before_second_factor = before_second_factor

    async def resolve_async(
        self,
        next_: Callable[..., Awaitable[Any]],
        source: Any,
        info: Info[Context, Any],
        **kwargs: Any,
    ) -> Any:
        await require_staff(
            info.context, self.least, before_second_factor=self.before_second_factor
        )
        return await next_(source, info, **kwargs)


def staff_only(
    least: StaffRole = StaffRole.SUPPORT_AGENT, *, before_second_factor: bool = False
) -> list[FieldExtension]:
    """Extensions for a staff field or mutation usable from role `least` up."""
    return [RequiresStaffRole(least, before_second_factor=before_second_factor)]
