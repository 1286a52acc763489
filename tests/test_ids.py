"""Global ids: ``to_global_id`` writes base64.urlsafe_b64encode's text, which every
id handed out so far was, and ``from_global_id`` reads it back."""

from __future__ import annotations

import base64

from hypothesis import given
from hypothesis import strategies as st

from api.schema.ids import NODE_TYPES, from_global_id, to_global_id


@given(st.sampled_from(NODE_TYPES), st.text(min_size=1))
def test_a_global_id_is_urlsafe_base64_without_padding(type_name: str, key: str) -> None:
    expected = base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode().rstrip("=")
    global_id = to_global_id(type_name, key)
    assert global_id == expected
    assert from_global_id(global_id) == (type_name, key)
