"""Live updates between server processes and the subscriptions they feed."""
