"""provkit on Dask distributed (``provkit.dask``; install ``provkit[dask]``).

Decorated functions are ordinary Dask tasks: ``client.submit(fn, *args)``,
``client.map(fn, ...)`` and ``dask.delayed(fn)`` work as they are, futures of earlier
decorated results included. What makes that work:

- decorated functions pickle (cloudpickle) with their options, a repository by name;
- results (``ArtifactProxy``) pickle as references (artifact id + repository name), so
  a result moving between workers, or to the client, crosses the network as ~100 bytes;
  the proxy it becomes is lazy: the value is loaded from the shared repository only when
  touched (a downstream hit, hashing or passing it on never loads it);
- ``setup(client)`` installs the client's provkit config on every worker (now and on
  workers that join later), so workers never need hard-coded paths;
- on workers, run info records the worker (address, host): one run record per worker
  process, shared by its tasks; each artifact keeps the Dask task key that computed it
  (``Artifact.task_key``, shown as ``run_info["dask"]["key"]``); a miss computed on any
  worker is single-flight across the cluster.

Lineage is that of a local run: the same artifact ids and ``input_artifact_ids``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from typing import Any

from provkit.core.artifacts import Artifact, ArtifactProxy
from provkit.core.errors import ConfigError
from provkit.core.lazy_proxies import proxy_is_loaded
from provkit.core.runs import set_run_context_fn, set_task_key_fn
from provkit.storage import settings
from provkit.storage.config import Config, load_yaml

try:
    import dask.base
    import dask.sizeof
    from distributed import Client, get_worker
    from distributed.diagnostics.plugin import WorkerPlugin
    from distributed.utils import thread_state
except ImportError as exc:  # pragma: no cover - the extra is missing
    raise ImportError(
        "provkit.dask needs Dask distributed: pip install 'provkit[dask]' (or pip install distributed)"
    ) from exc

__all__ = ["ProvkitWorkerPlugin", "setup", "config_for_workers", "task_context", "task_key"]

PLUGIN_NAME = "provkit"


def config_for_workers(config: Config | Mapping | str | os.PathLike | None = None) -> dict:
    """The config dict workers install: ``config`` (a Config, a dict or a YAML path), or
    the client's current config (explicitly loaded, ``$PROVKIT_CONFIG`` or embedded)."""
    if config is None:
        return dict(settings.current_config().raw)
    if isinstance(config, Config):
        return dict(config.raw)
    if isinstance(config, Mapping):
        return dict(config)
    if isinstance(config, (str, os.PathLike)):
        return load_yaml(config, origin="provkit.dask.setup(config=...)")
    kind = type(config).__name__
    raise ConfigError(f"provkit.dask.setup: config must be a Config, a dict or a YAML path, not {kind}")


class ProvkitWorkerPlugin(WorkerPlugin):
    """Installs a provkit config on a worker and records Dask task keys in run info."""

    name = PLUGIN_NAME

    def __init__(self, config: dict) -> None:
        self.config = config

    def setup(self, worker: Any) -> None:
        settings.load_config(self.config)
        set_run_context_fn(task_context)
        set_task_key_fn(task_key)


def setup(client: Client, config: Config | Mapping | str | os.PathLike | None = None) -> dict:
    """Make every worker of ``client`` (and those joining later) use ``config`` (the
    client's current config by default); returns the config dict sent."""
    if not isinstance(client, Client):
        raise TypeError(f"provkit.dask.setup needs a distributed.Client, got {type(client).__name__}")
    raw = config_for_workers(config)
    settings.from_config(raw)  # validate here: a bad config fails on the client, not on each worker
    client.register_plugin(ProvkitWorkerPlugin(raw), name=PLUGIN_NAME)
    return raw


def task_context() -> dict | None:
    """``{"dask": {"worker", "host"}}`` inside a Dask task on a worker, else None: the same
    for every task of a worker process, so its tasks share one run record."""
    if getattr(thread_state, "key", None) is None:
        return None
    try:
        address = get_worker().address
    except ValueError:  # a task run outside a worker (dask's local schedulers)
        address = None
    return {"dask": {"worker": address, "host": socket.gethostname()}}


def task_key() -> str | None:
    """The key of the Dask task being run (None outside one): stored with each artifact it
    computes (``Artifact.task_key``) and shown as ``run_info["dask"]["key"]``."""
    key = getattr(thread_state, "key", None)
    return None if key is None else str(key)


@dask.base.normalize_token.register(ArtifactProxy)
def _token_of_proxy(proxy: ArtifactProxy) -> tuple:
    """Dask keys of calls on artifacts: by artifact id (never by hashing the value)."""
    return ("provkit.artifact", proxy.artifact.id)


@dask.base.normalize_token.register(Artifact)
def _token_of_artifact(artifact: Artifact) -> tuple:
    return ("provkit.artifact", artifact.id)


@dask.sizeof.sizeof.register(ArtifactProxy)
def _sizeof_proxy(proxy: ArtifactProxy) -> int:
    """What a proxy holds in a worker's memory (its value once loaded), for Dask's memory
    management; moving or spilling it costs only its reference. Never loads the value."""
    if not proxy_is_loaded(proxy):
        return 200
    return int(dask.sizeof.sizeof(proxy.__wrapped__)) + 200
