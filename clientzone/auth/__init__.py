"""Authentication (who is calling), the request context and account access."""
