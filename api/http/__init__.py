"""The HTTP side: the Starlette app, the GraphQL endpoint and the production edge around it."""
