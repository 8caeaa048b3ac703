"""Outbound webhooks: signing, safe addresses and the delivery worker (docs/partners.md)."""
