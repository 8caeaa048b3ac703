"""Resolvers decide: access, validation and which model queries to run.

They take the typed Context, return model rows or `Outcome`s, and raise the
errors of `clientzone.core.errors`; the GraphQL types in `clientzone.schema` wrap
what they return.
"""
