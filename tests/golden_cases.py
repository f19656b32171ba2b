"""Values whose keys must never change (any process, any PYTHONHASHSEED, Python 3.10-3.13).

Runs standalone (``python golden_cases.py SRC_DIR``): imports provkit.hashing without
the rest of the package, so an interpreter needs only xxhash and numpy, and prints
``name key`` lines.
"""

import sys
import types

CASES = {
    "int": "42",
    "negative_big_int": "-(2**100)",
    "float": "3.25",
    "str": "'provenance'",
    "unicode": "'naïve ☃'",
    "bytes": "b'\\x00\\x01raw'",
    "none_true": "(None, True, False)",
    "nested_list": "[[1, 2, 3], [1, 2, 3]]",
    "dict": "{'a': 4, 'b': 3}",
    "nested_dict": "{'z': {'y': [1, {'x': 2}]}, 'a': (1, 2)}",
    "mixed_keys": "{1: 'one', 'two': 2}",
    "set_of_str": "{'pear', 'apple', 'fig'}",
    "frozenset": "frozenset({3, 1, 2})",
    "list_of_tuples": "[(i, 'x', 2.0) for i in range(50)]",
    "ndarray_f64": "__import__('numpy').arange(12, dtype='float64').reshape(3, 4)",
    "ndarray_i32": "__import__('numpy').arange(5, dtype='<i4')",
    "ndarray_fortran": "__import__('numpy').asfortranarray(__import__('numpy').arange(12.0).reshape(3, 4))",
    "numpy_scalar": "__import__('numpy').float64(1.5)",
}


def keys(src_dir: str) -> dict[str, str]:
    pkg = types.ModuleType("provkit")
    pkg.__path__ = [src_dir + "/provkit"]
    sys.modules.setdefault("provkit", pkg)
    from provkit.core.hashing import hash as hash_value

    return {name: hash_value(eval(expr)) for name, expr in CASES.items()}


if __name__ == "__main__":
    for name, key in keys(sys.argv[1]).items():
        print(name, key)
