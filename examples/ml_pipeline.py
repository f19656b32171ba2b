"""The provenance library's machine-learning pipeline guide, end to end, on provkit.

Load data, extract two feature sets, build and evaluate a model; capture everything one
production run made in an artifact set; get the model back through the set's
``proxy_dict`` (grouping the two ``load_data`` results); one set per experiment with
``provenance_set``; a decision that points at its model; and ``promote`` of the model
with its whole lineage into a team repository.

Run: python examples/ml_pipeline.py [--team DIR]
Artifacts go to $PROVKIT_HOME (default ~/.local/share/provkit); the team repository to
DIR (default: a temporary folder). A second run is all cache hits.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import zlib

import numpy as np

import provkit as p

FEATURE_SECONDS = 0.5  # stands for real work; the second run never waits for it


@p.provenance()
def load_data(query):
    # fetch something from a database in real life...
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


@p.provenance()
def make_decision(model, request):
    # a prediction made with the model, traceable back to it
    return {"prediction": float(model["weights"].mean() * request), "model": model.artifact.id}


def pipeline(train_query="some query", valid_query="another query", hyperparam_a=5, hyperparam_x=10):
    data = load_data(train_query)
    features_a = extract_features_a(data, hyperparam_a)
    features_b = extract_features_b(data, hyperparam_x)
    model = build_model(data, features_a, features_b)
    evaluation = evaluate(model, load_data(valid_query))
    return {"features_a": features_a, "features_b": features_b, "model": model, "evaluation": evaluation}


def run_production_pipeline():
    with p.capture_set("production"):
        return pipeline()


def experiment_labels(train_query, valid_query, hyperparam_a, hyperparam_x):
    return {"name": "experiment", "hyperparam_a": hyperparam_a, "hyperparam_x": hyperparam_x}


@p.provenance_set(set_labels_fn=experiment_labels)
def experiment(train_query="some query", valid_query="another query", hyperparam_a=5, hyperparam_x=10):
    pipeline(train_query, valid_query, hyperparam_a, hyperparam_x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--team", default=None, help="folder of the team repository to promote into")
    args = parser.parse_args()
    team_dir = args.team or tempfile.mkdtemp(prefix="provkit-team-")

    t0 = time.perf_counter()
    run_production_pipeline()
    print(f"production pipeline ran in {time.perf_counter() - t0:.2f} s")

    production = p.load_set_by_name("production")
    print(f"production set: {len(production)} artifacts, labels {production.labels}")
    build_artifacts = production.proxy_dict(group_artifacts_of_same_name=True)
    print("names in the set:", sorted(name.rsplit(".", 1)[-1] for name in build_artifacts))
    model = build_artifacts[build_model.__module__ + ".build_model"]
    print(f"model: {model['kind']} with {model['trees']} trees, artifact {model.artifact.id}")
    loads = build_artifacts[load_data.__module__ + ".load_data"]
    print(f"load_data appears {len(loads)} times (grouped into a list)")

    decision = make_decision(model, 2.0)
    print(f"decision: prediction {decision['prediction']:.3f}, made with model {decision['model']}")
    assert decision["model"] == model.artifact.id

    for a in (5, 7):
        run = experiment(hyperparam_a=a)
        print(f"experiment set {run.labels['hyperparam_a']}: {len(run)} artifacts, labels {run.labels}")
    by_label = p.load_set_by_labels({"name": "experiment", "hyperparam_a": 7, "hyperparam_x": 10})
    print(f"found by labels: {len(by_label)} artifacts")

    chosen = p.lazy_proxy_dict({"model": model.artifact.id, "decision": decision.artifact})
    print(f"lazy_proxy_dict by key: {sorted(chosen)}; decision -> {chosen['decision']['prediction']:.3f}")

    team = p.from_config(
        {
            "blobstores": {"team_disk": {"type": "disk", "cachedir": f"{team_dir}/blobs"}},
            "artifact_repos": {"team": {"type": "sqlite", "db": f"sqlite:///{team_dir}/team.db", "store": "team_disk"}},
        }
    ).repo("team")
    p.promote(decision.artifact.id, team)
    promoted = team.get_artifact(decision.artifact.id)
    upstream = team.ancestors(decision.artifact.id)
    assert all(team.lookup(artifact_id) is not None for artifact_id in upstream)
    print(f"promoted the decision with {len(upstream)} upstream artifacts into the team repository")
    print(f"read back from the team repository: {promoted.value['prediction']:.3f}")


if __name__ == "__main__":
    main()
