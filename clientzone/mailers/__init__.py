"""Outgoing email: the outbox, the SMTP sender and the templates (es, en)."""
