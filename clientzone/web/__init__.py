"""The HTTP edge: middleware, file downloads and the payment routes beside GraphQL."""
