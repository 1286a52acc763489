"""Live news: GraphQL subscriptions fed by the ``articles`` change stream."""
