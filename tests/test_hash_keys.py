"""Keys tell apart every value that differs, and only those (issue 11, "wrong results").

Each case here was a collision (or an order-dependent key) before: two calls whose
arguments differ in dtype, field names, categories, tz or type got each other's result.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import hypothesis.extra.numpy as hnp
import hypothesis.extra.pandas as hpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import provkit as p

# ---- numpy ---------------------------------------------------------------------------


def test_structured_dtypes_over_the_same_bytes_differ():
    raw = np.arange(4, dtype="<i4").tobytes()
    a = np.frombuffer(raw, dtype=[("a", "<i4")])
    b = np.frombuffer(raw, dtype=[("b", "<i4")])
    c = np.frombuffer(raw, dtype=[("a", "<f4")])
    d = np.frombuffer(raw, dtype=[("a", ">i4")])
    e = np.frombuffer(raw, dtype=[("a", "<i2", (2,))])
    f = np.frombuffer(raw, dtype=[("a", "<i2"), ("b", "<i2")])
    g = np.frombuffer(raw, dtype=np.dtype({"names": ["a", "b"], "formats": ["<i2", "<i2"], "offsets": [2, 0]}))
    keys = [p.hash(x) for x in (a, b, c, d, e, f, g, np.frombuffer(raw, "<i4"), np.frombuffer(raw, "V4"))]
    assert len(set(keys)) == len(keys)
    assert p.hash(a) == p.hash(a.copy())
    # as numpy scalars (np.void) too
    assert p.hash(a[0]) != p.hash(b[0])


def test_subarray_and_datetime_units_differ():
    raw = np.zeros(4, "<i8").tobytes()
    assert p.hash(np.frombuffer(raw, "M8[ns]")) != p.hash(np.frombuffer(raw, "M8[us]"))
    assert p.hash(np.frombuffer(raw, "<i8")) != p.hash(np.frombuffer(raw, "<u8"))


def test_logical_order_counts_memory_layout_does_not():
    x = np.arange(12.0).reshape(3, 4)
    assert p.hash(x.T) == p.hash(np.ascontiguousarray(x.T))
    assert p.hash(np.asfortranarray(x)) == p.hash(x)
    assert p.hash(x[:, ::2]) == p.hash(x[:, ::2].copy())
    assert p.hash(x.T) != p.hash(x.reshape(4, 3))  # same shape, other logical values
    assert p.hash(x) != p.hash(x.ravel())


def test_ndarray_subclasses_keep_their_type_memmap_does_not(tmp_path):
    x = np.arange(6.0).reshape(2, 3)
    assert p.hash(np.asmatrix(x)) != p.hash(x)
    mm = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=x.dtype, shape=x.shape)
    mm[:] = x
    assert p.hash(mm) == p.hash(x)


# ---- scalars and bytes-likes -------------------------------------------------------


@pytest.mark.parametrize("wrap", [lambda v: v, lambda v: [v], lambda v: {"k": v}, lambda v: (1, {v})])
def test_equal_comparing_values_of_other_types_differ(wrap):
    values = [1, True, 1.0, np.int64(1), np.float64(1.0), np.bool_(True), 1 + 0j]
    keys = [p.hash(wrap(v)) for v in values]
    assert len(set(keys)) == len(values)
    assert p.hash(wrap(0.0)) != p.hash(wrap(-0.0))


def test_bytes_bytearray_memoryview_differ():
    data = b"\x00\x01\x02\x03" * 4
    kinds = [data, bytearray(data), memoryview(data), memoryview(data).cast("i")]
    for wrap in (lambda v: v, lambda v: [v]):
        keys = [p.hash(wrap(v)) for v in kinds]
        assert len(set(keys)) == len(kinds)
    strided = memoryview(np.arange(8, dtype="<i4")).cast("B").cast("i")[::2]
    assert p.hash(strided) == p.hash(memoryview(np.arange(0, 8, 2, dtype="<i4")).cast("B").cast("i"))
    assert p.hash(strided) != p.hash(memoryview(np.arange(0, 8, 2, dtype="<i4").tobytes()))


# ---- order independence of sets and dicts -----------------------------------------


def test_sets_of_partially_ordered_elements_hash_one_way():
    elements = [frozenset({1}), frozenset({2}), frozenset({1, 2}), frozenset({3})]
    keys = set()
    for order in (elements, elements[::-1], elements[1:] + elements[:1], [elements[2], elements[0], elements[3]]):
        keys.add(p.hash(set(order) | set(elements)))
    assert len(keys) == 1
    d1 = {frozenset({1}): "a", frozenset({2}): "b", frozenset({1, 2}): "c"}
    d2 = dict(reversed(list(d1.items())))
    assert p.hash(d1) == p.hash(d2)


def test_nan_in_sets_and_keys_does_not_depend_on_order():
    nan = float("nan")
    assert p.hash({nan, 1.0, 0.5}) == p.hash({0.5, 1.0, nan})
    assert p.hash({nan: 1, 2.0: 2, 1.0: 3}) == p.hash({1.0: 3, 2.0: 2, nan: 1})
    assert p.hash([{nan: 1, 2.0: 2}]) == p.hash([{2.0: 2, nan: 1}])


# ---- pandas --------------------------------------------------------------------------


def test_pandas_dtypes_index_columns_categories_and_tz_count():
    base = pd.DataFrame({"a": [1, 2, 3]})
    variants = [
        base,
        base.astype("float64"),
        base.astype("int32"),
        base.astype("Int64"),
        base.set_axis([1, 2, 3]),
        base.set_axis(pd.Index([0, 1, 2], dtype="int32")),
        base.rename(columns={"a": "b"}),
        base.rename_axis("idx"),
        base.rename_axis(columns="cols"),
        base["a"],
        base["a"].to_frame("a").T,
    ]
    keys = [p.hash(v) for v in variants]
    assert len(set(keys)) == len(keys)
    assert p.hash(base) == p.hash(pd.DataFrame({"a": [1, 2, 3]}))

    cat = pd.Series(pd.Categorical(["x", "y", "x"], categories=["x", "y"]))
    other_categories = pd.Series(pd.Categorical(["u", "v", "u"], categories=["u", "v"]))
    unused = pd.Series(pd.Categorical(["x", "y", "x"], categories=["x", "y", "z"]))
    ordered = pd.Series(pd.Categorical(["x", "y", "x"], categories=["x", "y"], ordered=True))
    assert len({p.hash(s) for s in (cat, other_categories, unused, ordered, cat.astype(str))}) == 5

    when = pd.date_range("2024-01-01", periods=3, freq="h")
    utc, paris = when.tz_localize("UTC"), when.tz_localize("UTC").tz_convert("Europe/Paris")
    assert len({p.hash(pd.Series(range(3), index=i)) for i in (when, utc, paris)}) == 3
    assert p.hash(pd.Series(utc)) != p.hash(pd.Series(paris))
    same_zone = when.tz_localize("UTC").tz_convert(zoneinfo.ZoneInfo("Europe/Paris"))
    assert p.hash(pd.Series(same_zone)) == p.hash(pd.Series(paris))
    assert p.hash(pd.Timestamp("2024-01-01")) != p.hash(dt.datetime(2024, 1, 1))


# ---- properties ------------------------------------------------------------------------

_dtypes = hnp.scalar_dtypes() | hnp.array_dtypes(hnp.scalar_dtypes(), max_size=3)
_arrays = _dtypes.flatmap(lambda d: hnp.arrays(d, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)))


def _same_array(a: np.ndarray, b: np.ndarray) -> bool:
    return type(a) is type(b) and a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(_arrays, _arrays)
def test_arrays_share_a_key_exactly_when_dtype_shape_and_bytes_agree(a, b):
    assert (p.hash(a) == p.hash(b)) == _same_array(a, b)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(_arrays, st.data())
def test_copies_views_and_layouts_share_a_key_reinterpretations_do_not(a, data):
    key = p.hash(a)
    fortran = np.asfortranarray(a) if a.ndim else a.copy()  # asfortranarray makes 0-d arrays 1-d
    assert key == p.hash(a.copy()) == p.hash(fortran) == p.hash(a.T.copy().T)
    assert p.hash([a, {"x": a}]) == p.hash([a.copy(), {"x": fortran}])
    if a.shape != a.shape[::-1]:
        assert key != p.hash(a.reshape(a.shape[::-1]))
    other = data.draw(hnp.scalar_dtypes().filter(lambda d: d.itemsize == a.dtype.itemsize and d != a.dtype))
    if a.ndim and a.dtype.itemsize and not a.dtype.hasobject:
        assert key != p.hash(a.view(other))


_index = st.one_of(
    hpd.range_indexes(min_size=2, max_size=5),
    hpd.indexes(dtype="int64", min_size=2, max_size=5, unique=True),
    hpd.indexes(elements=st.text(max_size=3), min_size=2, max_size=5, unique=True),
)
_frames = hpd.data_frames(
    columns=hpd.columns(["a", "b"], dtype="int64") + hpd.columns(["c"], dtype="float64"),
    index=_index,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(_frames, st.sampled_from(["rename", "index", "dtype", "category", "tz", "reorder"]))
def test_frames_built_differently_share_a_key_changed_ones_do_not(df, change):
    key = p.hash(df)
    rebuilt = pd.DataFrame({c: df[c].to_numpy().copy() for c in reversed(df.columns)}, index=df.index.copy())
    assert p.hash(rebuilt[list(df.columns)]) == key
    assert p.hash(df.copy(deep=True)) == key
    if change == "rename":
        changed = df.rename(columns={"a": "z"})
    elif change == "index":
        changed = df.set_axis(pd.Index([f"i{i}" for i in range(len(df))]))
    elif change == "dtype":
        changed = df.astype({"a": "float64"})
    elif change == "category":
        changed = df.astype({"b": "category"})
    elif change == "tz":
        when = pd.date_range("2020-01-01", periods=len(df), freq="D")
        df = df.set_axis(when.tz_localize("UTC"))
        key = p.hash(df)
        changed = df.set_axis(when.tz_localize("UTC").tz_convert("Asia/Tokyo"))
    else:
        changed = df[["c", "b", "a"]]
    assert p.hash(changed) != key


@given(st.sets(st.frozensets(st.integers(0, 5), max_size=3) | st.floats() | st.text(max_size=2), max_size=8))
def test_sets_hash_the_same_in_any_insertion_order(s):
    items = list(s)
    key = p.hash(set(items))
    assert key == p.hash(set(reversed(items))) == p.hash(set(items[1:] + items[:1]))
    assert p.hash({"k": frozenset(items)}) == p.hash({"k": frozenset(reversed(items))})
