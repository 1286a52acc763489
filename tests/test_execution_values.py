"""The compiled path leaves DateTime values as datetimes for orjson to write
(api.execution.values.date_time): orjson's text must be Strawberry's ``isoformat()``
for every datetime MongoDB can hand back."""

from __future__ import annotations

from datetime import datetime, timedelta

import bson
import orjson
from bson.codec_options import CodecOptions
from hypothesis import given
from hypothesis import strategies as st

from api.execution.values import date_time, opt_date_time

# BSON's datetime: a signed 64-bit count of milliseconds since the epoch; Python's
# datetime reaches years 1 to 9999 of it.
EPOCH = datetime(1970, 1, 1)
MILLISECONDS = st.integers(min_value=-62_135_596_800_000, max_value=253_402_300_799_999)


@given(MILLISECONDS, st.booleans())
def test_orjson_writes_a_stored_datetime_as_isoformat(ms: int, tz_aware: bool) -> None:
    stored = bson.encode({"d": EPOCH + timedelta(milliseconds=ms)})
    value = bson.decode(stored, CodecOptions(tz_aware=tz_aware))["d"]
    assert orjson.dumps({"d": date_time(value)}) == orjson.dumps({"d": value.isoformat()})
    assert opt_date_time(value) is value and opt_date_time(None) is None
