"""Resource limits on a GraphQL document, measured before anything runs."""
