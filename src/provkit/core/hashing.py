"""Value hashing: value-based, canonical, and at memory speed.

A key is ``ALGORITHM_ID`` followed by 32 hex digits of xxh3-128 over a canonical
pickle stream (protocol 5, memo off, so ``[a, a]`` hashes like ``[[1,2,3],[1,2,3]]``):

* dicts are written with their items sorted and sets with their elements sorted, so
  insertion order and ``PYTHONHASHSEED`` never change a key (also inside objects);
* numpy arrays, pandas objects and bytes-likes are hashed over their raw buffers
  without a copy; only ``(dtype, shape, digest)`` enters the stream;
* an ``ArtifactProxy`` hashes exactly like the value it wraps, wherever it sits.

The C pickler handles builtin containers before any hook, so a pre-pass (``_canon``)
rewrites dicts and sets into sorted tuples; it checks whole levels at C speed with
``map(type, ...)`` and only descends where something needs rewriting.
The algorithm id is part of every key: a change of canonical form means a new id.
"""

from __future__ import annotations

import importlib
import io
import pickle
import sys
import threading
import types
from collections import OrderedDict
from itertools import chain
from typing import Any

import xxhash

from provkit.core.errors import HashingError
from provkit.core.hash_frames import reduce_numpy, reduce_pandas
from provkit.core.hash_markers import (  # noqa: F401 - pickle finds every marker here (KEY_MODULE)
    KEY_MODULE,
    _buffer,
    _code,
    _hooked,
    _objarray,
    _pandas,
    _typeref,
)

__all__ = ["ALGORITHM_ID", "hash", "hash_bytes", "hash_with_proxies", "is_proxy"]

#: Names the hash function and the canonical form; every key starts with it.
ALGORITHM_ID = "x1"

try:  # optional C accelerator: the same bytes as the Python path, for flat dicts
    # (by name: a compiled module, which import graphs built from sources cannot see)
    _flat_dict_stream = importlib.import_module("provkit.core._speedups").flat_dict_stream
except ImportError:  # pragma: no cover - no compiler at install time
    _flat_dict_stream = None

_digest = xxhash.xxh3_128_digest
_hexdigest = xxhash.xxh3_128_hexdigest

_SCALARS = frozenset({int, float, str, bytes, bool, type(None), complex})
_SEQUENCES = frozenset({list, tuple})
_PLAIN_KINDS = _SCALARS | _SEQUENCES
_MAX_PLAIN_DEPTH = 32
# Tags of rewritten containers: plain strings pickle fastest.
_DICT, _SET, _FROZENSET = "\x00pk:dict", "\x00pk:set", "\x00pk:frozenset"


def is_proxy(obj: Any) -> bool:
    """True when ``obj`` is an ArtifactProxy (checked on the type, never the value)."""
    return getattr(type(obj), "_provkit_proxy", False) is True


sys.modules.setdefault(KEY_MODULE, sys.modules[__name__])  # where pickle looks the markers up


def _plain(seq: list | tuple) -> bool:
    """True when a list/tuple holds only scalars, at any depth of nested lists/tuples."""
    level: Any = seq
    for _ in range(_MAX_PLAIN_DEPTH):
        kinds = set(map(type, level))
        if kinds <= _SCALARS:
            return True
        if kinds <= _SEQUENCES:
            level = list(chain.from_iterable(level))
        elif kinds <= _PLAIN_KINDS:
            level = list(chain.from_iterable(x for x in level if type(x) is tuple or type(x) is list))
        else:
            return False
    return False  # deeper (or cyclic): let the recursive path decide


def _sort_key(item: Any) -> bytes:
    return _digest(_stream(item))


# Leaf types whose natural order is total (NaN aside): sorting distinct elements made
# of these (or tuples of them) gives one order whatever order they came in, or raises
# TypeError whatever the order (a number beside a str: the two meet as neighbours).
# Anything else (frozensets are only partially ordered, NaN compares false with
# everything, objects may define any order) is sorted by each element's canonical
# digest instead.
_ORDERED = frozenset({int, bool, float, str, bytes})


def _totally_ordered(items: Any) -> bool:
    """True when ``sorted(items)`` is the same (or raises) whatever order the distinct
    items come in."""
    level: Any = items if type(items) is list else list(items)
    for _ in range(_MAX_PLAIN_DEPTH):
        kinds = set(map(type, level))
        if kinds <= _ORDERED:
            return float not in kinds or all(x == x for x in level if type(x) is float)
        if tuple not in kinds or not kinds <= _ORDERED | {tuple}:
            return False
        level = list(chain.from_iterable(x if type(x) is tuple else (x,) for x in level))
    return False


def _natural_or_digest(items: Any, key: Any = None) -> list:
    if _totally_ordered(items if key is None else map(key, items)):
        try:
            return sorted(items, key=key)
        except TypeError:  # numbers beside strings: always raises, whatever the order
            pass
    return sorted(items, key=_sort_key if key is None else lambda item: _sort_key(_canon(key(item), [])))


def _first(item: tuple) -> Any:
    return item[0]


def _sorted(items: list) -> list:
    return _natural_or_digest(items)


def _canon_items(d: dict, proxies: list) -> list:
    """A dict's items, canonicalised and sorted by key (by key digest unless the keys
    are totally ordered)."""
    items = _natural_or_digest(list(d.items()), _first)  # keys are unique: values never compared
    if _SCALARS.issuperset(map(type, chain.from_iterable(items))):
        return items
    return [(_canon(k, proxies), _canon(v, proxies)) for k, v in items]


def _canon(obj: Any, proxies: list) -> Any:
    """Rewrite dicts/sets into sorted tagged tuples and unwrap proxies (recording them)."""
    t = type(obj)
    if t in _SCALARS:
        return obj
    if t is list or t is tuple:
        if _plain(obj):
            return obj
        out = [_canon(x, proxies) for x in obj]
        return out if t is list else tuple(out)
    if t is dict:
        return (_DICT, _canon_items(obj, proxies))
    if t is set or t is frozenset:
        return (_SET if t is set else _FROZENSET, _sorted([_canon(x, proxies) for x in obj]))
    if getattr(t, "_provkit_proxy", False) is True:
        proxies.append(obj)
        return _canon(obj.__wrapped__, proxies)
    if getattr(t, "_provkit_record", False) is True:  # a registry dataset / execution
        proxies.append(obj)
        return _record_key(obj)
    if getattr(t, "_provkit_mapping", False) is True:  # a lazy dict: the dict of its values
        return (_DICT, _canon_items(dict(obj.items()), proxies))
    return obj  # everything else is reduced by the pickler's reducer_override


def _record_key(record: Any) -> tuple:
    """A registry record hashes by identity and content: its id and content hash."""
    return ("provkit.record", record.id, getattr(record, "content_hash", None))


def _reduce_object(obj: Any) -> Any:
    """The object's own reduction with its args and state canonicalised."""
    rv = obj.__reduce_ex__(5)
    if isinstance(rv, str):
        return NotImplemented  # a global, pickled by reference
    rv = list(rv)
    rv[1] = _canon(rv[1], [])
    if len(rv) > 2:
        rv[2] = _canon(rv[2], [])
    if len(rv) > 3 and rv[3] is not None:
        rv[3] = iter(_canon(list(rv[3]), []))
    if len(rv) > 4 and rv[4] is not None:
        if isinstance(obj, OrderedDict):  # its order is part of its value
            rv[4] = iter([(_canon(k, []), _canon(v, [])) for k, v in rv[4]])
        else:
            rv[4] = iter(_canon(dict(rv[4]), [])[1])
    return tuple(rv)


class _CanonicalPickler(pickle.Pickler):
    """Pickler writing the canonical form of everything the pre-pass left alone."""

    def __init__(self, file: io.BytesIO) -> None:
        super().__init__(file, protocol=5)
        self.fast = True  # no memo: value semantics, and cycles raise

    def reducer_override(self, obj: Any) -> Any:
        t = type(obj)
        module = t.__module__
        if module == "numpy":
            reduced = reduce_numpy(obj, _canon)
            if reduced is not None:
                return reduced
        elif module.startswith("pandas"):
            reduced = reduce_pandas(obj)
            if reduced is not None:
                return reduced
        if t is bytearray or t is memoryview:
            view = memoryview(obj)
            digest = _digest(view if view.c_contiguous else view.tobytes())
            return (_buffer, (t.__name__, view.format, view.shape, digest))
        if getattr(t, "_provkit_proxy", False) is True:
            return _canon(obj, [])  # a proxy inside an object's state: hash its value
        hook = getattr(obj, "__provkit_hash__", None)
        if hook is not None and not isinstance(obj, type):
            return (_hooked, (hook(),))
        if isinstance(obj, type):  # by name, so local classes hash too
            return (_typeref, (obj.__module__, obj.__qualname__))
        if t is types.BuiltinFunctionType:
            return NotImplemented
        if t is types.FunctionType:
            if "<lambda>" in obj.__qualname__ or "<locals>" in obj.__qualname__:
                import cloudpickle

                return (_code, (cloudpickle.dumps(obj, protocol=5),))
            return NotImplemented
        return _reduce_object(obj)


class _ListSink:
    """A write-only file collecting a pickler's output chunks without copying them."""

    def __init__(self, chunks: list) -> None:
        self.write = chunks.append


class _Local(threading.local):
    """Per thread: [pickler, its output chunks, busy flag], and a hook-free pickler.

    Both write the same bytes for builtin scalars and containers; the plain one skips
    the reducer_override dispatch and can never be re-entered.
    """

    def __init__(self) -> None:
        chunks: list[bytes] = []
        self.slot = [_CanonicalPickler(_ListSink(chunks)), chunks, False]
        plain_chunks: list[bytes] = []
        plain = pickle.Pickler(_ListSink(plain_chunks), protocol=5)
        plain.fast = True
        self.plain = (plain, plain_chunks)


_local = _Local()


def _hexkey(canonical: Any) -> str:
    """Key of an already canonicalised object.

    One pickler per thread is reused (making one costs more than hashing a small
    dict); a reentrant call (from a user's reduce hook) gets a fresh one.
    """
    slot = _local.slot
    if slot[2]:
        return ALGORITHM_ID + _hexdigest(_stream(canonical))
    pickler, chunks, _ = slot
    slot[2] = True
    try:
        pickler.dump(canonical)
        if len(chunks) == 1:
            return ALGORITHM_ID + _hexdigest(chunks[0])
        hasher = xxhash.xxh3_128()
        for chunk in chunks:
            hasher.update(chunk)
        return ALGORITHM_ID + hasher.hexdigest()
    finally:
        chunks.clear()
        slot[2] = False


def _stream(canonical: Any) -> bytes:
    """The canonical pickle stream, from a fresh pickler (for nested use)."""
    buf = io.BytesIO()
    _CanonicalPickler(buf).dump(canonical)
    return buf.getvalue()


def hash_bytes(data: Any) -> str:
    """Key of a bytes-like object's raw content (files, blobs); no copy is made."""
    return ALGORITHM_ID + _hexdigest(data)


def _hash_buffer(obj: Any) -> str:
    view = memoryview(obj)
    head = _stream((type(obj).__name__, view.format, view.shape))  # before any copy
    if not view.c_contiguous:
        view = memoryview(view.tobytes())
    hasher = xxhash.xxh3_128(head)
    hasher.update(view)
    return ALGORITHM_ID + hasher.hexdigest()


def plain_key(obj: Any) -> str:
    """Key of a value made only of builtin scalars, lists and tuples (no hooks needed):
    the same key as ``hash(obj)``, for callers that know the value is plain."""
    pickler, chunks = _local.plain
    try:
        pickler.dump(obj)
        data = chunks.pop() if len(chunks) == 1 else b"".join(chunks)
    finally:
        chunks.clear()
    return ALGORITHM_ID + _hexdigest(data)


_NO_PROXIES: list[Any] = []  # shared, never mutated: returned when nothing was found


# Keys of small ints and short strs, the commonest arguments (a dict per type: 1 == True).
_KNOWN_INTS: dict[int, str] = {}
_KNOWN_STRS: dict[str, str] = {}
_KNOWN_MAX = 4096


def _remember(known: dict, obj: Any) -> str:
    key = known[obj] = plain_key(obj)
    if len(known) > _KNOWN_MAX:
        known.clear()
    return key


def hash_with_proxies(obj: Any) -> tuple[str, list[Any]]:
    """Hash ``obj`` and return the ArtifactProxies (and registry datasets / executions)
    found inside its builtin containers: the lineage parents of a call."""
    t = type(obj)
    if t is int and -(2**31) <= obj < 2**31:
        key = _KNOWN_INTS.get(obj)
        return key or _remember(_KNOWN_INTS, obj), _NO_PROXIES
    if t is str and len(obj) <= 64:
        key = _KNOWN_STRS.get(obj)
        return key or _remember(_KNOWN_STRS, obj), _NO_PROXIES
    if t in _SCALARS and t is not bytes:
        return plain_key(obj), _NO_PROXIES
    if getattr(t, "_provkit_proxy", False) is True:
        return obj.artifact.value_id, [obj]
    if t is bytes or t is bytearray or t is memoryview:
        return _hash_buffer(obj), _NO_PROXIES
    if getattr(t, "_provkit_record", False) is True:
        return _hexkey(_record_key(obj)), [obj]
    hook = getattr(t, "__provkit_hash__", None)
    if hook is not None and not isinstance(obj, type):  # objects that carry their own key
        return hook(obj), _NO_PROXIES
    proxies: list[Any] = []
    try:
        return _hexkey(_canon(obj, proxies)), proxies
    except HashingError:
        raise
    except (pickle.PicklingError, TypeError, AttributeError, ValueError, RecursionError) as exc:
        raise HashingError(f"cannot hash a value of type {t.__qualname__}: {exc}") from exc


def hash(obj: Any) -> str:  # noqa: A001 - the documented public name
    """Value-based hash of any picklable object, as a string key.

    ``hash([a, a]) == hash([[1, 2, 3], [1, 2, 3]])`` for ``a = [1, 2, 3]``; dict and
    set order never matter; a proxy hashes like its value.
    """
    t = type(obj)
    if t is dict:  # fast path for the commonest argument: a flat dict of scalars
        if _flat_dict_stream is not None:
            data = _flat_dict_stream(obj, _DICT)
            if data is not None:
                return ALGORITHM_ID + _hexdigest(data)
        for v in obj.values():
            if type(v) not in _SCALARS:
                break
        else:
            for k in obj:
                if type(k) not in _SCALARS:
                    break
            else:
                if _totally_ordered(obj.keys()):
                    try:
                        return plain_key((_DICT, sorted(obj.items())))
                    except TypeError:  # numbers beside strings
                        pass
    elif (t in _SCALARS and t is not bytes) or ((t is tuple or t is list) and _plain(obj)):
        return plain_key(obj)
    return hash_with_proxies(obj)[0]
