"""The explorer's ready tabs: one named operation each, runnable on the demo.

Variables name the objects they act on as `<ID of KIND KEY>`; the page fills
in the real IDs when those objects exist (demo/references.py). The sign-in tab
carries the demo's published login outside production only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from clientzone.demo.data import DEMO_PASSWORD


@dataclass(frozen=True)
class Example:
    query: str
    variables: dict[str, Any] = field(default_factory=dict)


DEMO_LOGIN = {"email": "ana.garcia@example.com", "password": DEMO_PASSWORD}

EXAMPLES = (
    Example(
        """# Sign in: the session cookie is kept by the browser (HttpOnly).
# Or a bearer token in the Headers tab: {"Authorization": "Bearer ..."}
# (the key on the left says more).
mutation SignIn($input: LoginInput!) {
  login(input: $input) {
    user { email firstName }
    userErrors { field code message }
  }
}
""",
        {"input": DEMO_LOGIN},
    ),
    Example(
        """# The portal's first screen: who am I, which accounts do I reach?
query FirstScreen {
  viewer {
    user { email firstName locale }
    activeAccount { id number name currency }
    permissions
    memberships(first: 20) {
      nodes { role permissions account { id number name } }
    }
  }
}
"""
    ),
    Example(
        """# Act on another account from now on (the session remembers it).
mutation SwitchAccount($input: SwitchAccountInput!) {
  switchAccount(input: $input) {
    account { number name }
  }
}
""",
        {"input": {"accountId": "<ID of account MX-100200>"}},
    ),
    Example(
        """# The newest movements of the current account, and its balance.
query Ledger($last: Int = 20) {
  account {
    balance { amount currency }
    ledger(last: $last) {
      nodes { postedAt kind reference amount { amount } balance { amount } }
      pageInfo { hasPreviousPage startCursor }
    }
  }
}
"""
    ),
    Example(
        """# Overdue invoices, the oldest due first, with their download links.
query Invoices($filter: InvoiceFilterInput) {
  account {
    invoices(first: 20, filter: $filter, orderBy: DUE_ON_ASC) {
      totalCount
      nodes { id number dueOn status balanceDue { amount currency } documents { kind url } }
    }
  }
}
""",
        {"filter": {"status": "OVERDUE"}},
    ),
    Example(
        """# Pay chosen invoices online, then send the browser to redirectUrl
# (needs PAYMENT_ONLINE_LIMITS, e.g. MXN:50000).
mutation Pay($input: StartPaymentInput!) {
  startPayment(input: $input) {
    payment { id status amount { amount currency } }
    redirectUrl
    userErrors { field code message }
  }
}
""",
        {"input": {"invoiceIds": ["<ID of invoice F-100200-024>"]}},
    ),
    Example(
        """# The account's contacts and the email categories each receives.
query Contacts {
  account {
    contacts(first: 20) {
      nodes { id firstName lastName email categories }
    }
  }
}
"""
    ),
    Example(
        """# Invite someone to the active account with two permissions.
mutation Invite($input: InviteUserInput!) {
  inviteUser(input: $input) {
    invitation { id email status expiresAt }
    userErrors { field code message }
  }
}
""",
        {
            "input": {
                "email": "nueva@obra.example.com",
                "permissions": ["CASES_VIEW", "CASES_CREATE"],
            }
        },
    ),
    Example(
        """# Support cases waiting for the customer, with their conversation.
query Cases($filter: CaseFilterInput = {status: WAITING_ON_CUSTOMER}) {
  account {
    cases(first: 20, filter: $filter) {
      totalCount
      nodes {
        id number subject status category { name }
        comments(first: 10) { nodes { body authorName authorKind createdAt } }
      }
    }
  }
}
"""
    ),
)


def example_tabs(*, with_demo_login: bool) -> list[dict[str, Any]]:
    tabs = []
    for example in EXAMPLES:
        variables = example.variables
        if not with_demo_login and variables.get("input") is DEMO_LOGIN:
            variables = {"input": {"email": "", "password": ""}}
        tabs.append({"query": example.query, "variables": variables or None})
    return tabs
