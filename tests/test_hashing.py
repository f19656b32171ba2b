"""Hashing semantics, golden keys across processes and Pythons, and no-copy buffers."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import tracemalloc
from collections import OrderedDict
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import provkit as p
from golden_cases import keys as golden_keys
from interpreters import GOLDEN_REPORT
from provkit.core.hashing import ALGORITHM_ID, hash_with_proxies

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
HERE = os.path.dirname(os.path.abspath(__file__))

GOLDEN = {
    "int": "x101eca9b9b51b6d13903e916cde8e26bd",
    "negative_big_int": "x13b13a6f24eb656553952d42004b31db5",
    "float": "x19371f4839eb1940f07ade74c1c063dfa",
    "str": "x19f97a92dbe219606479d69b3c0aec1b1",
    "unicode": "x111dc7e41c805e97ba45386ddda1f5320",
    "bytes": "x1e85cb87be822bae1f03c76edc6d1ed61",
    "none_true": "x1722265445278d14f422808ea9a3accda",
    "nested_list": "x140fe86eb7cd8b73507a8a34e1ba512b7",
    "dict": "x142cc4ffb2f9f78c21b11f884321b30b2",
    "nested_dict": "x1f9e1541fb318e64493eae4911a9c50cd",
    "mixed_keys": "x1d1c010f8ac15d1483286b653d8d8c17f",
    "set_of_str": "x19498a220151ddd7acf729e38035ba127",
    "frozenset": "x13c1a106b7cec08da3e9730dc2f19e3e2",
    "list_of_tuples": "x108b3238fa620cb2a5e14ecfe7b19da57",
    "ndarray_f64": "x141984b6f35b28f06706d7b6bc2855a7f",
    "ndarray_i32": "x1401e9db9ee183c943eee189b7e17911f",
    "ndarray_fortran": "x141984b6f35b28f06706d7b6bc2855a7f",
    "numpy_scalar": "x1a51c43d1dcd30ff46e537d6198c0bb1d",
}


def test_golden_keys_in_this_process():
    assert golden_keys(SRC) == GOLDEN


@pytest.mark.parametrize("seed", ["0", "1", "12345"])
def test_golden_keys_under_any_hash_seed(seed):
    env = {**os.environ, "PYTHONHASHSEED": seed}
    out = subprocess.run(
        [sys.executable, os.path.join(HERE, "golden_cases.py"), SRC],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert dict(line.split() for line in out.splitlines()) == GOLDEN


def test_golden_keys_across_python_versions(request):
    """Every Python 3.10-3.13 on the machine gives the golden keys; the run's summary names them."""
    import interpreters

    chosen, unequipped = interpreters.find()
    request.config.stash[GOLDEN_REPORT] = interpreters.report(chosen, unequipped)
    assert chosen, "no Python 3.10-3.13 interpreter with xxhash + numpy found"
    assert not unequipped, f"interpreters without xxhash/numpy: {unequipped}; run bash scripts/setup.sh"
    if os.environ.get("CI"):  # scripts/setup.sh equips every 3.10-3.13 it finds
        assert len(chosen) >= 2, f"CI must provide several Pythons with xxhash and numpy, found {chosen}"
    for exe in chosen.values():
        out = subprocess.run(
            [exe, os.path.join(HERE, "golden_cases.py"), SRC], capture_output=True, text=True, check=True
        )
        assert dict(line.split() for line in out.stdout.splitlines()) == GOLDEN, exe


def test_value_semantics_not_references():
    a = [1, 2, 3]
    assert p.hash([a, a]) == p.hash([[1, 2, 3], [1, 2, 3]])


def test_dict_and_set_order_do_not_matter():
    assert p.hash({"a": 4, "b": 3}) == p.hash({"b": 3, "a": 4})
    assert p.hash({"x": {"a": 1, "b": [1, {"c": 1, "d": 2}]}}) == p.hash({"x": {"b": [1, {"d": 2, "c": 1}], "a": 1}})
    assert p.hash({3, 1, 2}) == p.hash({2, 3, 1})
    assert p.hash({1: "a", "b": 2}) == p.hash({"b": 2, 1: "a"})


def test_distinct_values_have_distinct_keys():
    values = [1, 1.0, True, "1", b"1", [1], (1,), {1}, frozenset({1}), {"1": 1}, None, [(1, 2)], {1: 2}]
    keys = [p.hash(v) for v in values]
    assert len(set(keys)) == len(values)
    assert p.hash(OrderedDict(a=1, b=2)) != p.hash(OrderedDict(b=2, a=1)), "OrderedDict order is part of its value"


def test_keys_name_their_algorithm():
    key = p.hash("x")
    assert key.startswith(ALGORITHM_ID) and len(key) == len(ALGORITHM_ID) + 32


class Point:
    def __init__(self, x, tags):
        self.x = x
        self.tags = tags


def test_objects_hash_by_their_state_in_canonical_order():
    assert p.hash(Point(1, {"b", "a", "c"})) == p.hash(Point(1, {"c", "a", "b"}))
    assert p.hash(Point(1, {"a"})) != p.hash(Point(2, {"a"}))
    assert p.hash(datetime(2026, 1, 1, tzinfo=timezone.utc)) != p.hash(datetime(2026, 1, 2, tzinfo=timezone.utc))


def test_object_with_set_state_is_stable_across_hash_seeds():
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2]);"
        "import provkit as p; from test_hashing import Point; print(p.hash(Point(1, {'pear', 'apple', 'fig', 'kiwi'})))"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", script, SRC, HERE],
            env={**os.environ, "PYTHONHASHSEED": s},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for s in ("1", "2", "3")
    }
    assert len(outs) == 1


def test_numpy_and_pandas():
    x = np.arange(10.0)
    assert p.hash(x) == p.hash(x.copy())
    assert p.hash(x) != p.hash(x.astype("float32"))
    assert p.hash(x) != p.hash(x.reshape(2, 5))
    assert p.hash(x[::2]) == p.hash(x[::2].copy())
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}, index=[10, 20])
    assert p.hash(df) == p.hash(df.copy())
    assert p.hash(df) != p.hash(df.set_axis([10, 21]))
    assert p.hash(df) != p.hash(df.rename(columns={"a": "A"}))
    assert p.hash(df["a"]) != p.hash(df["a"].rename("z"))
    assert p.hash(np.array([1, "a"], dtype=object)) == p.hash(np.array([1, "a"], dtype=object))


def test_bytes_like_hash_by_content():
    data = os.urandom(1000)
    assert p.hash(data) == p.hash(bytes(data))
    assert p.hash(memoryview(data)) == p.hash(memoryview(bytes(data)))
    assert p.hash(data) != p.hash(data[:-1])


def test_lambdas_and_closures_are_hashable():
    def make(k):
        return lambda x: x + k

    assert p.hash(make(1)) != p.hash(make(2))
    assert p.hash(make(1)) == p.hash(make(1))


def test_unhashable_values_raise_a_clear_error():
    with pytest.raises(p.HashingError, match="lock"):
        p.hash(threading.Lock())
    cyclic: list = []
    cyclic.append(cyclic)
    with pytest.raises(p.HashingError):
        p.hash(cyclic)


def test_proxies_hash_like_their_values_anywhere(memory_repo):
    @p.provenance()
    def make(n):
        return list(range(n))

    proxy = make(3)
    assert p.hash(proxy) == p.hash([0, 1, 2])
    assert p.hash([proxy, 1]) == p.hash([[0, 1, 2], 1])
    assert p.hash({"k": (proxy,)}) == p.hash({"k": ([0, 1, 2],)})
    key, found = hash_with_proxies({"k": [proxy, {"x": proxy}]})
    assert [f.artifact.id for f in found] == [proxy.artifact.id] * 2
    assert key == p.hash({"k": [[0, 1, 2], {"x": [0, 1, 2]}]})


def test_large_array_is_hashed_without_copying_it():
    big = np.ones(32 * 2**20 // 8)  # 32 MiB
    tracemalloc.start()
    try:
        p.hash(big)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.1 * big.nbytes


_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
_values = st.recursive(_scalars, lambda kids: st.lists(kids) | st.dictionaries(st.text(), kids), max_leaves=20)


@given(_values)
def test_equal_values_have_equal_keys(value):
    import copy

    assert p.hash(value) == p.hash(copy.deepcopy(value))


@given(st.dictionaries(st.text(), st.integers(), min_size=2))
def test_dict_insertion_order_never_matters(d):
    assert p.hash(d) == p.hash(dict(reversed(list(d.items()))))


_flat_values = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.binary(max_size=8)
)


def _python_flat_key(d: dict) -> str:
    """The pure-Python path for a flat dict, bypassing the C accelerator."""
    from provkit.core.hashing import _DICT, _hexkey

    return _hexkey((_DICT, sorted(d.items())))


def test_c_accelerator_is_built():
    from provkit import hashing

    assert hashing._flat_dict_stream is not None, "provkit.core._speedups did not build (is a C compiler installed?)"


@given(st.dictionaries(st.text(), _flat_values, max_size=30))
def test_c_accelerator_writes_the_python_bytes(d):
    assert p.hash(d) == _python_flat_key(d)


@pytest.mark.parametrize(
    "d",
    [
        {},
        {"only": 1},
        {"big": 2**31 - 1, "small": -(2**31), "over": 2**31, "under": -(2**31) - 1, "huge": 10**30},
        {"k" * 300: "v" * 70000},  # beyond one pickle frame
        {f"key{i:05d}": i for i in range(2500)},  # several APPENDS batches
        {"nan": float("nan"), "neg0": -0.0, "inf": float("-inf")},
        {"surrogate\ud800": "\udfff"},
        {"t": True, "f": False, "n": None, "i1": 255, "i2": 256, "i3": 65535, "i4": 65536, "neg": -1},
    ],
)
def test_c_accelerator_edge_cases(d):
    assert p.hash(d) == _python_flat_key(d)
