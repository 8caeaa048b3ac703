"""ADMIN links an account under a parent (its parent's owners then reach it)
or unlinks it, through `clientzone account link`'s own rules
(accounts_admin.set_parent): one transaction with the accounts' activity and
the audit row; each refusal of those rules is a userError.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from clientzone.accounts_admin import LinkError, LinkProblem, set_parent
from clientzone.auth.context import Context
from clientzone.auth.staff import require_staff
from clientzone.core.errors import NotFound
from clientzone.core.ids import decode_id_of
from clientzone.models.accounts import Account
from clientzone.models.staff import StaffAction, StaffRole
from clientzone.resolvers.activity import actor
from clientzone.resolvers.staff_backoffice import audit_staff_action
from clientzone.resolvers.validation import FieldErrors, Outcome

REASON_MAX = 500


class StaffLinkErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    SELF_LINK = "SELF_LINK"
    PARENT_LINKED = "PARENT_LINKED"
    HAS_CHILDREN = "HAS_CHILDREN"
    ALREADY_LINKED = "ALREADY_LINKED"
    NOT_LINKED = "NOT_LINKED"


# Each refusal of set_parent: the input field it is about and its message.
_PROBLEMS: dict[LinkProblem, tuple[str, StaffLinkErrorCode, str]] = {
    LinkProblem.SELF_LINK: ("parentId", StaffLinkErrorCode.SELF_LINK, "staff.link_self"),
    LinkProblem.PARENT_LINKED: (
        "parentId",
        StaffLinkErrorCode.PARENT_LINKED,
        "staff.link_parent_linked",
    ),
    LinkProblem.HAS_CHILDREN: (
        "accountId",
        StaffLinkErrorCode.HAS_CHILDREN,
        "staff.link_has_children",
    ),
    LinkProblem.ALREADY_LINKED: (
        "parentId",
        StaffLinkErrorCode.ALREADY_LINKED,
        "staff.already_linked",
    ),
    LinkProblem.NOT_LINKED: ("accountId", StaffLinkErrorCode.NOT_LINKED, "staff.not_linked"),
}


def _account_id(global_id: str) -> uuid.UUID:
    account_id = decode_id_of("Account", global_id)
    if account_id is None:
        raise NotFound
    return account_id


async def set_account_parent(
    ctx: Context, account_global_id: str, parent_global_id: str | None, reason: str
) -> Outcome[Account, StaffLinkErrorCode]:
    """Link under `parent_global_id`, or unlink (None)."""
    staff = await require_staff(ctx, StaffRole.ADMIN)
    account_id = _account_id(account_global_id)
    parent_id = _account_id(parent_global_id) if parent_global_id is not None else None
    code = StaffLinkErrorCode
    errors: FieldErrors[StaffLinkErrorCode] = FieldErrors()
    cleaned = errors.text(
        "reason", reason, maximum=REASON_MAX, required=code.REQUIRED, too_long=code.TOO_LONG
    )
    if errors:
        return Outcome(errors=errors.errors)
    async with ctx.transaction() as session:
        wanted = [account_id] + ([parent_id] if parent_id is not None else [])
        for one in wanted:
            if await session.get(Account, one) is None:
                raise NotFound
        try:
            done = await set_parent(session, account_id, parent_id, actor=actor(ctx))
        except LinkError as refused:
            field, error_code, key = _PROBLEMS[refused.problem]
            errors.add(field, error_code, key, **refused.params)
            return Outcome(errors=errors.errors)
        account = done.account
        if done.parent is not None:
            action, target = (
                StaffAction.ACCOUNT_LINKED,
                f"{account.number} under {done.parent.number}",
            )
        else:
            assert done.old_parent is not None  # unlinking needs a parent
            action, target = (
                StaffAction.ACCOUNT_UNLINKED,
                f"{account.number} from {done.old_parent.number}",
            )
        audit_staff_action(
            ctx, session, staff, action, target=target, account_id=account.id, reason=cleaned
        )
    return Outcome(value=account)
