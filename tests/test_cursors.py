"""Keyset cursors (api.store.cursors): times encoded to the exact millisecond MongoDB
stores, and every decoded field checked, so that a made-up cursor is BAD_CURSOR."""

from __future__ import annotations

import base64
import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import bson
import pytest
from bson.codec_options import CodecOptions, DatetimeConversion
from hypothesis import given, settings
from hypothesis import strategies as st

from api.errors import BadCursor
from api.store.cursors import decode_cursor, encode_cursor
from api.store.reads import successor

AS_MILLISECONDS = CodecOptions(datetime_conversion=DatetimeConversion.DATETIME_MS)
millisecond_times = st.datetimes(
    min_value=datetime(1, 1, 1),
    max_value=datetime(9999, 12, 31, 23, 59, 59, 998_000),
    timezones=st.just(UTC),
).map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000))


def bson_milliseconds(value: datetime) -> int:
    """What MongoDB stores for ``value``: BSON's int64 milliseconds since the epoch."""
    raw = bson.decode(bson.encode({"t": value}), codec_options=AS_MILLISECONDS)["t"]
    return int(raw)


def raw_cursor(payload: Any) -> str:
    text = json.dumps(payload, separators=(",", ":"), allow_nan=True)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def payload_of(cursor: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


def test_a_time_with_milliseconds_is_encoded_exactly() -> None:
    # 1073745639.929 * 1000 is 1073745639928.9999 in floating point.
    time = datetime(2004, 1, 10, 14, 40, 39, 929_000, tzinfo=UTC)
    cursor = encode_cursor("published-desc", time, "k")
    assert payload_of(cursor) == ["published-desc", {"t": 1073745639929}, "k"]
    assert decode_cursor(cursor, "published-desc", datetime) == (time, "k")


@settings(max_examples=2000, deadline=None)
@given(time=millisecond_times, key=st.text(st.characters(exclude_categories=["Cs"])))
def test_every_millisecond_time_round_trips(time: datetime, key: str) -> None:
    cursor = encode_cursor("published-asc", time, key)
    assert payload_of(cursor)[1] == {"t": bson_milliseconds(time)}
    assert decode_cursor(cursor, "published-asc", datetime) == (time, key)


@pytest.mark.parametrize(
    ("value", "value_type"),
    [
        ({"t": 10**17}, datetime),  # beyond year 9999
        ({"t": 10**20}, datetime),  # beyond int64
        ({"t": -(10**17)}, datetime),  # before year 1
        ({"t": 1e17}, datetime),
        ({"t": 1e20}, datetime),
        ({"t": 1.5}, datetime),
        ({"t": True}, datetime),
        ({"t": "1073745639929"}, datetime),
        ({"t": None}, datetime),
        ({}, datetime),
        ({"t": 1, "u": 2}, datetime),
        (1073745639929, datetime),
        ("2004-01-10T14:40:39.929Z", datetime),
        (None, datetime),
        (True, int),
        (2**63, int),
        (2**63 - 1, int),  # its successor would not fit in int64
        (-(2**63) - 1, int),
        (1.0, int),
        ("3", int),
        ({"t": 3}, int),
        (math.inf, float),
        (-math.inf, float),
        (math.nan, float),
        (10**400, float),
        (False, float),
        ("0.5", float),
        (3, str),
        ("\ud800", str),  # a lone surrogate: JSON carries it, BSON cannot
        ([], str),
    ],
)
def test_a_sort_value_of_the_wrong_type_or_range_is_refused(value: Any, value_type: type) -> None:
    with pytest.raises(BadCursor):
        decode_cursor(raw_cursor(["k", value, "key"]), "k", value_type)


@pytest.mark.parametrize(
    "payload",
    [
        ["k", {"t": 1}],
        ["k", {"t": 1}, "key", "more"],
        {"k": 1, "v": 2, "w": 3},
        "k,1,key",
        ["k", {"t": 1}, 7],
        ["k", {"t": 1}, None],
        ["k", {"t": 1}, ["key"]],
        ["k", {"t": 1}, {"$ne": None}],
        ["k", {"t": 1}, "\udfff"],
        [["k"], {"t": 1}, "key"],
        ["other", {"t": 1}, "key"],
    ],
)
def test_a_cursor_of_the_wrong_shape_kind_or_id_is_refused(payload: Any) -> None:
    with pytest.raises(BadCursor):
        decode_cursor(raw_cursor(payload), "k", datetime, nullable=True)


def test_valid_values_are_accepted() -> None:
    assert decode_cursor(raw_cursor(["k", 7, "a"]), "k", int) == (7, "a")
    assert decode_cursor(raw_cursor(["k", None, "a"]), "k", int, nullable=True) == (None, "a")
    assert decode_cursor(raw_cursor(["k", 2, "a"]), "k", float) == (2.0, "a")
    assert decode_cursor(raw_cursor(["k", "x", "a"]), "k", str) == ("x", "a")
    oldest = decode_cursor(raw_cursor(["k", {"t": -62135596800000}, "a"]), "k", datetime)
    assert oldest == (datetime(1, 1, 1, tzinfo=UTC), "a")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["t", "u", ""]) | st.text(max_size=3), children, max_size=3
        )
    ),
    max_leaves=6,
)
garbage_values = json_values | st.builds(lambda t: {"t": t}, json_values)
VALUE_TYPES = [(datetime, False), (int, True), (int, False), (float, False), (str, False)]


@settings(max_examples=3000, deadline=None)
@given(
    payload=st.one_of(
        st.tuples(st.just("k") | json_values, garbage_values, json_values).map(list),
        json_values,
    ),
    value_type=st.sampled_from(VALUE_TYPES),
)
def test_any_decoded_cursor_can_be_queried_with(
    payload: Any, value_type: tuple[type, bool]
) -> None:
    """Whatever a cursor carries, it is refused, or its value and id are of the
    order's type and BSON can carry them and the value after them (what the
    keyset query sends to MongoDB)."""
    kind, nullable = value_type
    try:
        value, key = decode_cursor(raw_cursor(payload), "k", kind, nullable)
    except BadCursor:
        return
    assert isinstance(key, str)
    if value is None:
        assert nullable
        return
    assert type(value) is kind
    bson.encode({"value": value, "next": successor(value), "key": key})
    if kind is datetime:
        assert value == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=payload[1]["t"])
