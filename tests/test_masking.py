"""Secrets are never printed: ``provkit config`` and error messages show ``***`` (issue 11)."""

from __future__ import annotations

import json

import yaml

from provkit.core.masking import mask, mask_text


def test_provkit_config_masks_passwords_secrets_tokens_and_keys(request, tmp_path, postgres_url, monkeypatch):
    user, rest = postgres_url.split("://", 1)[1].split("@", 1)
    url = postgres_url.split("://", 1)[0] + "://" + user.split(":")[0] + ":hunter2-db-pass@" + rest
    config = {
        "blobstores": {
            "disk": {"type": "disk", "cachedir": str(tmp_path / "blobs")},
            "s3": {
                "type": "s3",
                "basepath": "bucket/x",
                "endpoint_url": "http://127.0.0.1:1",
                "s3_config": {"key": "AKIA-ACCESS-ID", "secret": "s3-secret-value", "token": "sts-token-value"},
            },
        },
        "artifact_repos": {
            "local": {
                "type": "sqlite",
                "db": f"sqlite:///{tmp_path / 'db.sqlite'}",
                "store": "disk",
                "sign_key_env": "PROVKIT_TEST_KEY",
            },
            "team": {"type": "postgres", "db": url, "store": "disk"},
        },
        "default_repo": "local",
        "use_cache": True,
    }
    path = tmp_path / "provkit.yaml"
    path.write_text(yaml.safe_dump(config))
    env_key = "the-signing-key-itself"
    monkeypatch.setenv("PROVKIT_TEST_KEY", env_key)
    cli = request.getfixturevalue("cli")  # after the variable is set: the subprocess inherits it
    out = cli("--config", str(path), "config").stdout
    for secret in ("s3-secret-value", "sts-token-value", "AKIA-ACCESS-ID", env_key, "hunter2-db-pass"):
        assert secret not in out
    shown = json.loads(out)["config"]
    assert shown["blobstores"]["s3"]["s3_config"] == {"key": "***", "secret": "***", "token": "***"}
    assert shown["artifact_repos"]["local"]["sign_key_env"] == "PROVKIT_TEST_KEY", "the variable's name is shown"
    assert ":***@" in shown["artifact_repos"]["team"]["db"]


def test_urls_and_nested_options_are_masked():
    cfg = {
        "db": "postgresql+psycopg://me:p%40ss@db.example:5432/prov",
        "ssh_config": {"hostname": "h", "username": "u", "password": "pw", "passphrase": "pp"},
        "gcs_config": {"token": "anon", "endpoint_url": "http://x"},
        "aws_secret_access_key": "k",
        "list": [{"password": "x"}],
    }
    masked = mask(cfg)
    assert masked["db"] == "postgresql+psycopg://me:***@db.example:5432/prov"
    assert masked["ssh_config"] == {"hostname": "h", "username": "u", "password": "***", "passphrase": "***"}
    assert masked["gcs_config"]["token"] == "***" and masked["gcs_config"]["endpoint_url"] == "http://x"
    assert masked["aws_secret_access_key"] == "***" and masked["list"] == [{"password": "***"}]
    assert mask_text("cannot reach sftp://u:pw@h/x") == "cannot reach sftp://u:***@h/x"
