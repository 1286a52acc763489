"""The newsgraph GraphQL API: Strawberry on Starlette, reading MongoDB."""
