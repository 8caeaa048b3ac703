"""Tables and query helpers, by domain. Nothing here knows about GraphQL.

Every query over account data takes `account_id` as a keyword-only argument,
so no query can run unscoped. Importing this package registers every table on
`SQLModel.metadata` (migrations compare against it).
"""

from clientzone.models.accounts import Account, AccountStatus
from clientzone.models.activity import ActivityEntry
from clientzone.models.announcements import Announcement, AnnouncementAccount, AnnouncementRead
from clientzone.models.api_clients import ApiAccessToken, ApiClient
from clientzone.models.brands import BrandRecord
from clientzone.models.cases import (
    Case,
    CaseAttachment,
    CaseCategory,
    CaseComment,
    CaseFileContent,
    CaseNumber,
    CaseSubcategory,
)
from clientzone.models.contacts import Contact, EmailCategory
from clientzone.models.documents import PersistedDocument
from clientzone.models.email_changes import EmailChangeRequest
from clientzone.models.invitations import Invitation
from clientzone.models.invoices import DocumentType, Invoice, InvoiceDocument, InvoiceLine
from clientzone.models.jobs import ScheduledJob
from clientzone.models.ledger import LedgerEntry
from clientzone.models.legacy_logins import LegacyLogin
from clientzone.models.mail import EmailMessage, EmailStatus
from clientzone.models.memberships import Grant, Membership, Permission, Role
from clientzone.models.orders import Order, OrderLine, Service
from clientzone.models.payments import Payment, PaymentEvent
from clientzone.models.products import Product
from clientzone.models.rate_limits import RateLimitCounter
from clientzone.models.security_events import SecurityEvent
from clientzone.models.sessions import AuthSession, SessionKind
from clientzone.models.staff import StaffAuditRecord, StaffMember, StaffRecoveryCode
from clientzone.models.user_tokens import UserToken
from clientzone.models.users import Locale, User, UserStatus
from clientzone.models.webhooks import WebhookDelivery, WebhookEndpoint

__all__ = [
    "Account",
    "AccountStatus",
    "ActivityEntry",
    "Announcement",
    "AnnouncementAccount",
    "AnnouncementRead",
    "ApiAccessToken",
    "ApiClient",
    "AuthSession",
    "BrandRecord",
    "Case",
    "CaseAttachment",
    "CaseCategory",
    "CaseComment",
    "CaseFileContent",
    "CaseNumber",
    "CaseSubcategory",
    "Contact",
    "DocumentType",
    "EmailCategory",
    "EmailChangeRequest",
    "EmailMessage",
    "EmailStatus",
    "Grant",
    "Invitation",
    "Invoice",
    "InvoiceDocument",
    "InvoiceLine",
    "LedgerEntry",
    "LegacyLogin",
    "Locale",
    "Membership",
    "Order",
    "OrderLine",
    "Payment",
    "PaymentEvent",
    "Permission",
    "PersistedDocument",
    "Product",
    "RateLimitCounter",
    "Role",
    "ScheduledJob",
    "SecurityEvent",
    "Service",
    "SessionKind",
    "StaffAuditRecord",
    "StaffMember",
    "StaffRecoveryCode",
    "User",
    "UserStatus",
    "UserToken",
    "WebhookDelivery",
    "WebhookEndpoint",
]
