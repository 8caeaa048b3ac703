"""Demo data for `make demo`: accounts, billing history, cases."""
