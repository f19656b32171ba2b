"""The seed's ML pipeline on Dask distributed, then the same code against any scheduler.

Every decorated step is an ordinary Dask task (``client.submit`` / ``client.map``);
results travel between workers as references to the shared repository, and the lineage
is the one a local run records. Run:

    python examples/distributed.py                      # a 2-worker LocalCluster
    DASK_SCHEDULER_ADDRESS=tcp://host:8786 python examples/distributed.py   # an existing cluster

Workers get the repository from this process (``provkit.dask.setup``): the embedded
default under $PROVKIT_HOME here, or the config named by $PROVKIT_CONFIG, which on a real
cluster names a shared PostgreSQL + S3 repository every worker can reach. A second run
is all cache hits; two runs at once compute each step once (single-flight).
"""

from __future__ import annotations

import os
import sys
import time
import zlib

# this file is named distributed.py: keep its folder from shadowing the distributed package
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or os.curdir) != _HERE]

import numpy as np  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

import provkit as p  # noqa: E402
from provkit import dask as pdask  # noqa: E402

FEATURE_SECONDS = 0.5  # stands for real work


@p.provenance()
def load_data(query):
    rng = np.random.default_rng(zlib.crc32(query.encode()))
    return rng.uniform(0, 10, 10)


@p.provenance()
def extract_features_a(data, hyperparam_a=5):
    time.sleep(FEATURE_SECONDS)
    rng = np.random.default_rng(hyperparam_a)
    return data[0:5] + 1 + rng.random(5)


@p.provenance()
def extract_features_b(data, hyperparam_x=10):
    time.sleep(FEATURE_SECONDS)
    rng = np.random.default_rng(hyperparam_x)
    return data[5:] + 1 + rng.random(5)


@p.provenance()
def build_model(data, features_a, features_b, num_trees=100):
    return {"kind": "special model", "trees": num_trees, "weights": np.concatenate([features_a, features_b])}


@p.provenance()
def evaluate(model, data):
    return {"some_metric": float(np.abs(model["weights"] - data).mean()), "another_metric": 0.4}


def run_pipeline(client: Client, hyperparams: list[int]) -> list:
    """One model per hyperparameter, all as Dask tasks; futures flow into later steps."""
    data = client.submit(load_data, "some query")
    features_b = client.submit(extract_features_b, data)
    features_a = client.map(extract_features_a, [data] * len(hyperparams), hyperparams)
    models = client.map(build_model, [data] * len(hyperparams), features_a, [features_b] * len(hyperparams))
    evaluations = client.map(evaluate, models, [data] * len(hyperparams))
    return client.gather(evaluations)


def main() -> None:
    address = os.environ.get("DASK_SCHEDULER_ADDRESS")
    cluster = None if address else LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None)
    with Client(address or cluster) as client:
        pdask.setup(client)  # the workers use this process's repository config
        print(f"repository: {p.get_default_repo()!r}; workers: {len(client.scheduler_info()['workers'])}")
        t0 = time.perf_counter()
        evaluations = run_pipeline(client, [3, 5, 7, 9])
        print(f"4 models trained and evaluated in {time.perf_counter() - t0:.2f} s")
        best = min(evaluations, key=lambda e: e["some_metric"])
        model_id = best.artifact.input_artifact_ids[0]
        run = best.artifact.run_info
        print(f"best: {dict(best)} (model {model_id})")
        print(f"computed on {run['dask']['worker']} ({run['dask']['host']}) as task {run['dask']['key']}")
        print(f"its lineage: {sorted(p.get_default_repo().ancestors(best.artifact.id))}")
    if cluster is not None:
        cluster.close()


if __name__ == "__main__":
    main()
