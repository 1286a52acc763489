"""The compiled execution path (``EXECUTOR=compiled``, the default).

A validated operation is compiled once into a plan (``plan.py``): its fields
collected per type as graphql-core collects them, each bound to the rule that builds
it from stored documents (``rules.py``). Running a plan (``run.py``) reads MongoDB
round by round, every read of a round batched per collection across all parents
(``rounds.py``), each projected to the stored fields the selection uses, and writes
the response dicts directly. The hook (``hook.py``) is a Strawberry schema extension
that sets the result before graphql-core would execute; anything the compiled path
does not answer cleanly (an error, a malformed stored value) is answered by the
reference path, Strawberry on graphql-core, so error bodies stay graphql-core's own.
"""
