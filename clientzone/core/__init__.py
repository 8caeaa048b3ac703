"""Shared kernel used by every layer: errors, ids, tokens, money, signed links,
validators, localized messages, logging."""
