"""A request body is read no further than ``MAX_BODY_BYTES``: the query size limit
alone would only apply once the whole body (variables included) is in memory."""

from __future__ import annotations

from starlette.types import Message, Receive

from api.errors import QueryTooLarge


class BodyTooLarge(QueryTooLarge):
    """Answered with HTTP 413."""


def limit_body(receive: Receive, limit: int) -> Receive:
    """``receive``, raising ``BodyTooLarge`` as soon as the body passes ``limit`` bytes."""
    received = 0

    async def limited() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(
                    f"The request body is over {limit} bytes, the limit. Send a smaller "
                    "query or fewer variables.",
                    limit=limit,
                )
        return message

    return limited
