"""Operator imports: billing data and the old portal's logins, one bad line never aborting a run."""
