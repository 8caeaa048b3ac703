"""Model enums exposed to GraphQL under the same names."""

import strawberry

from clientzone.models.accounts import AccountStatus
from clientzone.models.contacts import EmailCategory
from clientzone.models.memberships import Permission, Role
from clientzone.models.orders import ServiceKind
from clientzone.models.users import Locale

strawberry.enum(AccountStatus, description="Whether the account is in use.")
strawberry.enum(Role, description="OWNER has every permission; MEMBER has an explicit set.")
strawberry.enum(Permission, description="What a member may see or do in an account.")
strawberry.enum(Locale, description="Language of messages and emails.")
strawberry.enum(
    EmailCategory, description="What an email is about; contacts choose which they get."
)
strawberry.enum(ServiceKind, description="What kind of product or service.")

__all__ = ["AccountStatus", "EmailCategory", "Locale", "Permission", "Role", "ServiceKind"]
