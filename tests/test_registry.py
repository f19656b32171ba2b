"""The registry suite on every repository and storage kind, against real servers."""

from __future__ import annotations

import uuid

import pytest

from provkit.storage.blobstores.disk import DiskStore
from provkit.storage.repos.memory import MemoryRepo
from provkit.storage.repos.sql import SqlRepo
from registry_suite import RegistryConformance


class TestMemoryRegistry(RegistryConformance):
    @pytest.fixture
    def repo(self):
        return MemoryRepo(delete=True)


class TestSqliteRegistry(RegistryConformance):
    @pytest.fixture
    def repo(self, tmp_path):
        return SqlRepo(f"sqlite:///{tmp_path / 'db.sqlite'}", DiskStore(tmp_path / "blobs", delete=True), delete=True)


class TestPostgresRegistry(RegistryConformance):
    @pytest.fixture
    def repo(self, tmp_path, postgres_url):
        from provkit.storage.repos.sql.postgres import PostgresRepo

        return PostgresRepo(postgres_url, DiskStore(tmp_path / "blobs", delete=True), delete=True)


class TestPostgresS3Registry(RegistryConformance):
    """The team setup: records in PostgreSQL, dataset files on S3 (SeaweedFS)."""

    @pytest.fixture
    def repo(self, postgres_url, s3_bucket):
        from provkit.storage.blobstores.remote import S3Store
        from provkit.storage.repos.sql.postgres import PostgresRepo

        store = S3Store(f"{s3_bucket['bucket']}/team", s3_config=s3_bucket["s3_config"],
                        endpoint_url=s3_bucket["endpoint_url"], delete=True)  # fmt: skip
        return PostgresRepo(postgres_url, store, delete=True)


class TestSftpRegistry(RegistryConformance):
    @pytest.fixture
    def repo(self, tmp_path, sshd_server):
        from provkit.storage.blobstores.remote import SFTPStore

        store = SFTPStore(str(tmp_path / "remote"), ssh_config=dict(sshd_server.info), delete=True)
        return SqlRepo(f"sqlite:///{tmp_path / 'db.sqlite'}", store, delete=True)


class TestGcsRegistry(RegistryConformance):
    @pytest.fixture
    def repo(self, tmp_path, gcs_server):
        from provkit.storage.blobstores.remote import GSStore

        store = GSStore("bucket-" + uuid.uuid4().hex[:10], "blobs", project="provkit-test",
                        gcs_config={"endpoint_url": gcs_server.info["endpoint_url"], "token": "anon"},
                        create_bucket=True, delete=True)  # fmt: skip
        return SqlRepo(f"sqlite:///{tmp_path / 'db.sqlite'}", store, delete=True)
