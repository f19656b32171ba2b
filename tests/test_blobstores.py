"""Blob stores: the conformance suite on disk and memory, plus disk specifics."""

from __future__ import annotations

import os

import pytest

from conformance import BlobStoreConformance
from provkit.storage.blobstores.disk import DiskStore
from provkit.storage.blobstores.memory import MemoryStore


class TestMemoryStore(BlobStoreConformance):
    @pytest.fixture
    def store(self):
        return MemoryStore(delete=True)


class TestDiskStore(BlobStoreConformance):
    @pytest.fixture
    def store(self, tmp_path):
        return DiskStore(tmp_path / "blobs", delete=True)

    def test_blobs_fan_out_and_staging_is_clean(self, store):
        for i in range(20):
            store.put_bytes(f"x1key{i}", b"v")
        dirs = [d for d in os.listdir(store.cachedir) if d != ".staging"]
        assert len(dirs) > 1
        assert os.listdir(os.path.join(store.cachedir, ".staging")) == []

    def test_a_crashed_writer_leaves_no_final_blob(self, store, tmp_path):
        import subprocess
        import sys
        import textwrap

        script = textwrap.dedent(
            f"""
            import os, sys
            sys.path.insert(0, {os.path.dirname(os.path.dirname(__file__))!r} + '/src')
            from provkit.storage.blobstores.disk import DiskStore
            store = DiskStore({store.cachedir!r})
            with store.staged('x1crash') as path:
                with open(path, 'wb') as fh:
                    fh.write(b'partial')
                    fh.flush()
                    os._exit(9)
            """
        )
        proc = subprocess.run([sys.executable, "-c", script], check=False)
        assert proc.returncode == 9
        assert not store.exists("x1crash")


class TestS3Store(BlobStoreConformance):
    """The suite against SeaweedFS, a real S3-compatible server."""

    @pytest.fixture
    def store(self, s3_bucket):
        from provkit.storage.blobstores.remote import S3Store

        return S3Store(
            f"{s3_bucket['bucket']}/blobs",
            s3_config=s3_bucket["s3_config"],
            endpoint_url=s3_bucket["endpoint_url"],
            delete=True,
        )


class TestS3StoreWithCache(BlobStoreConformance):
    @pytest.fixture
    def store(self, s3_bucket, tmp_path):
        from provkit.storage.blobstores.remote import S3Store

        return S3Store(
            f"{s3_bucket['bucket']}/cached",
            cachedir=str(tmp_path / "cache"),
            s3_config=s3_bucket["s3_config"],
            endpoint_url=s3_bucket["endpoint_url"],
            delete=True,
        )

    def test_reads_are_served_from_the_cache_after_one_download(self, store):
        store.put_bytes("x1cached", b"data")
        store.evict("x1cached")
        assert not store.cache.exists("x1cached")
        assert isinstance(store.source("x1cached"), str), "a local path once cached"
        assert store.cache.exists("x1cached")
        store.fs.rm(store._path("x1cached"))  # gone remotely: the cached copy still serves
        assert store.get_bytes("x1cached") == b"data"


class TestSFTPStore(BlobStoreConformance):
    """The suite against a real sshd (internal-sftp)."""

    @pytest.fixture
    def store(self, sshd_server, tmp_path):
        from provkit.storage.blobstores.remote import SFTPStore

        return SFTPStore(str(tmp_path / "remote"), ssh_config=dict(sshd_server.info), delete=True)

    def test_uploads_are_renamed_into_place(self, store, tmp_path):
        store.put_bytes("x1renamed", b"x" * 1000)
        folder = os.path.dirname(store._path("x1renamed"))
        assert os.listdir(folder) == ["x1renamed"], "no temporary names left behind"

    def test_bad_ssh_config_is_a_clear_error(self, sshd_server, tmp_path):
        from provkit.core.errors import ConfigError
        from provkit.storage.blobstores.remote import SFTPStore

        with pytest.raises(ConfigError, match="hostname"):
            SFTPStore(str(tmp_path), ssh_config={"port": 22})
        with pytest.raises(ConfigError, match="unknown ssh_config"):
            SFTPStore(str(tmp_path), ssh_config={"hostname": "127.0.0.1", "pasword": "x"})


class TestGSStore(BlobStoreConformance):
    """The suite against fake-gcs-server."""

    @pytest.fixture
    def store(self, gcs_server):
        import uuid

        from provkit.storage.blobstores.remote import GSStore

        return GSStore(
            "bucket-" + uuid.uuid4().hex[:10],
            "blobs",
            project="provkit-test",
            gcs_config={"endpoint_url": gcs_server.info["endpoint_url"], "token": "anon"},
            create_bucket=True,
            delete=True,
        )


class TestChainedStore(BlobStoreConformance):
    @pytest.fixture
    def store(self, tmp_path):
        from provkit.storage.blobstores.chained import ChainedStore

        return ChainedStore([DiskStore(tmp_path / "near", delete=True), MemoryStore(delete=True)], delete=True)

    def test_read_through_write_copies_back(self, store):
        near, far = store.stores
        far.put_bytes("x1far", b"remote")
        assert not near.exists("x1far")
        assert store.get_bytes("x1far") == b"remote"
        assert near.get_bytes("x1far") == b"remote", "copied into the earlier store on the way back"

    def test_without_read_through_write(self, store):
        store.read_through_write = False
        near, far = store.stores
        far.put_bytes("x1only", b"v")
        assert store.get_bytes("x1only") == b"v"
        assert not near.exists("x1only")

    def test_writes_go_to_every_writable_store(self, store):
        near, far = store.stores
        far.write = False
        store.put_bytes("x1both", b"v")
        assert near.exists("x1both") and not far.exists("x1both")
