"""clientzone: the GraphQL service behind multi-account customer portals."""

__version__ = "0.1.0"
