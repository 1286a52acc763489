"""The Strawberry schema: types, inputs, the root Query and what resolvers reach."""
