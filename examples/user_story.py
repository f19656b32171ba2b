"""The file-artifact user story, in provkit's API.

Andy uploads two annotation files with labels; Brenda finds them by query (who, what,
when, which files), gets them by id, checks Andy's package versions, trains a model and
saves it; Andy finds what was built on his data. Lineage is recorded without bookkeeping.
Run: python examples/user_story.py    (uses $PROVKIT_HOME, default ~/.local/share/provkit)
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd

import provkit as p


class DummyModel:
    def train(self, train_path: str) -> None:
        self.rows = len(pd.read_csv(train_path))

    def save(self, path: str) -> None:
        Path(path).write_text(f"dummy model trained on {self.rows} rows")


def main() -> None:
    pd.set_option("display.max_colwidth", 60)
    workdir = Path(tempfile.mkdtemp(prefix="provkit-story-"))
    (workdir / "train.txt").write_text("path,class\n/path/to/image0.png,0\n/path/to/image2.png,0\n")
    (workdir / "test.txt").write_text("path,class\n/path/to/image1.png,1\n")

    print("## Andy saves his newly stratified files (provkit picks the destination)")
    andy = p.Files()
    with p.as_user("andy"):
        uploaded = andy.upload(
            [workdir / "train.txt", workdir / "test.txt"],
            labels=p.Labels(
                ticket="AB-123",
                project="awesome-project",
                datatype="annotation_file",
                infos={"stratification": "new special method"},
            ),
        )
    print(f"uploaded {uploaded.artifact.id}: {sorted(uploaded.files)}\n")

    print("## Brenda searches: by Andy, annotation files, last 7 days, containing .txt files")
    brenda = p.Files()
    df = brenda.find(
        query={
            "username": "andy",
            "labels.datatype": "annotation_file",
            "creation_time": {"$gte": datetime.now(tz=timezone.utc) - timedelta(days=7)},
            "file_relpaths": {"$regex": r"\.txt$"},
        },
        limit=1,
    )
    print(df[["creation_time", "username", "file_relpaths", "hostname", "labels"]].to_string(), "\n")

    artifact_id = df.index[0]
    artifact = brenda.get(artifact_id)  # joins brenda's based_on
    print(pd.read_csv(artifact.files["test.txt"].local_path).to_string(), "\n")
    packages = artifact.artifact.run_info["packages"]
    print(f"Andy's pandas: {packages.get('pandas')}; git: {artifact.artifact.run_info['git']}\n")

    print("## Brenda trains a model and saves it")
    with p.as_user("brenda"):
        model = DummyModel()
        model.train(artifact.files["train.txt"].local_path)
        with brenda.new(["model.pt"], labels={"datatype": "model"}) as new:
            model.save(new.path("model.pt"))
    print(f"model artifact {new.artifact.id} based on {new.artifact.input_artifact_ids}\n")

    print("## Back from Antarctica, Andy asks who built on his data")
    children = andy.find({"based_on": artifact_id})
    print(children[["creation_time", "username", "file_relpaths", "based_on"]].to_string())
    print(f"\nthe model reads: {p.Files().get(children.index[0]).files['model.pt'].read_text()!r}")


if __name__ == "__main__":
    main()
