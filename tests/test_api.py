"""The public API: one place, complete, and cheap to import."""

from __future__ import annotations

import subprocess
import sys

import provkit as p

DOCUMENTED = [
    "provenance",
    "load_artifact",
    "load_proxy",
    "ensure_proxies",
    "hash",
    "is_proxy",
    "lazy_dict",
    "lazy_proxy_dict",
    "register_serializer",
    "load_config",
    "load_yaml_config",
    "from_config",
    "current_config",
    "get_repo_by_name",
    "set_default_repo",
    "get_default_repo",
    "using_repo",
    "set_run_info_fn",
    "get_use_cache",
    "set_use_cache",
    "get_check_mutations",
    "set_check_mutations",
    "get_read_only",
    "set_read_only",
    "ImpureFunctionError",
    "MutatedArtifactValueError",
    "archive_file",
    "promote",
    "capture_set",
    "provenance_set",
    "create_set",
    "load_set_by_id",
    "load_set_by_name",
    "load_set_by_labels",
]


def test_documented_names_are_exported():
    missing = [name for name in DOCUMENTED if name not in p.__all__ or not hasattr(p, name)]
    assert not missing


def test_all_is_exactly_the_public_surface():
    assert all(hasattr(p, name) for name in p.__all__)
    public = {n for n in vars(p) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(p, n)).__name__ == "module"}
    assert public - modules - {"__version__"} == set(p.__all__)


def test_vis_module_exists():
    import provkit.interfaces.vis as vis

    assert callable(vis.visualize_lineage)


def test_import_is_cheap():
    heavy = ("pandas", "pyarrow", "sqlalchemy", "numpy", "alembic", "joblib")
    code = f"import sys, provkit; print(','.join(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"heavy modules imported by `import provkit`: {out}"


def test_errors_share_one_base():
    for name in (
        "ConfigError",
        "HashingError",
        "ImpureFunctionError",
        "MutatedArtifactValueError",
        "SchemaVersionError",
    ):
        assert issubclass(getattr(p, name), p.ProvkitError)
