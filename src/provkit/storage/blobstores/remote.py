"""Blob stores on fsspec filesystems: S3, SFTP, GCS (and any fsspec URL), with an
optional local disk cache in front.

Writes are atomic: object stores (S3, GCS) publish an object only when its upload
completes; on SFTP a blob is uploaded under a temporary name and renamed. Reads go
through ``cachedir`` when set: a blob is downloaded once, then served from local disk.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from typing import IO, Any

from provkit.core.errors import ConfigError, StoreError
from provkit.storage.blobstores.base import TREE_FOLDER, BlobStore, check_key
from provkit.storage.blobstores.disk import DiskStore, _fanout

_NOT_FOUND = (FileNotFoundError,)


def _require(module: str, extra: str, store: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(f"the {store} blob store needs {module}: pip install 'provkit[{extra}]'") from exc


class FsspecStore(BlobStore):
    """Blobs under ``basepath`` of an fsspec filesystem (fanned out into 256 folders on
    file systems such as SFTP; flat keys on object stores)."""

    type_name = "fsspec"

    def __init__(
        self,
        fs: Any,
        basepath: str,
        *,
        cachedir: str | os.PathLike | None = None,
        rename_to_publish: bool = False,
        fan_out: bool = False,
        **flags: Any,
    ) -> None:
        super().__init__(**flags)
        self.fan_out = fan_out  # folders of 256 for file systems; object stores need none
        if not isinstance(basepath, str) or not basepath.strip("/"):
            raise ConfigError(f"basepath must name a folder (bucket/prefix), got {basepath!r}")
        self.fs = fs
        self.basepath = basepath.rstrip("/")
        self.rename_to_publish = rename_to_publish
        self.cache = DiskStore(cachedir, delete=True) if cachedir else None

    def _path(self, key: str) -> str:
        if self.fan_out:
            return f"{self.basepath}/{_fanout(key)}/{key}"
        return f"{self.basepath}/{key}"

    def _exists(self, key: str) -> bool:
        if self.cache is not None and self.cache._exists(key):
            return True
        return self._remote_exists(key)

    def _remote_exists(self, key: str) -> bool:
        try:
            return bool(self.fs.exists(self._path(key)))
        except _NOT_FOUND:
            return False

    def _publish(self, key: str, upload: Any) -> None:
        """Run ``upload(remote_path)`` so the blob appears under its final name at once."""
        final = self._path(key)
        if not self.rename_to_publish:
            upload(final)
            return
        parent = final.rsplit("/", 1)[0]
        tmp = f"{parent}/.tmp-{uuid.uuid4().hex}"
        with contextlib.suppress(FileExistsError):
            self.fs.makedirs(parent, exist_ok=True)
        try:
            upload(tmp)
            self.fs.mv(tmp, final)
        except BaseException:
            with contextlib.suppress(Exception):
                self.fs.rm(tmp)
            raise

    def _write_file(self, key: str, path: str, *, move: bool) -> None:
        self._publish(key, lambda remote: self.fs.put_file(path, remote))
        if self.cache is not None:  # the store already decided to write: the cache follows
            self.cache._write_file(key, path, move=move)
        elif move:
            os.unlink(path)

    def _write_bytes(self, key: str, data: bytes) -> None:
        self._publish(key, lambda remote: self.fs.pipe_file(remote, data))
        if self.cache is not None:
            self.cache._write_bytes(key, data)

    def _source(self, key: str) -> str | IO[bytes]:
        if self.cache is None:
            try:
                return self.fs.open(self._path(key), "rb")
            except _NOT_FOUND:
                raise self.missing(key) from None
        if not self.cache._exists(key):
            self._download(key)
        return self.cache._source(key)

    def get_bytes(self, key: str) -> bytes:
        """One GET for the whole blob when there is no cache (no ranged reads)."""
        if self.cache is not None:
            return super().get_bytes(key)
        self._check(self.read, "reading", key)
        try:
            return self.fs.cat_file(self._path(check_key(key)))
        except _NOT_FOUND:
            raise self.missing(key) from None

    def _download(self, key: str) -> None:
        assert self.cache is not None
        with self.cache.staged(key) as tmp:
            try:
                self.fs.get_file(self._path(key), tmp)
            except _NOT_FOUND:
                raise self.missing(key) from None

    def _delete(self, key: str) -> None:
        cached = self.cache is not None and self.cache._exists(key)
        if cached:
            self.cache._delete(key)  # type: ignore[union-attr]
        if not self._remote_exists(key):  # S3 deletes of absent keys succeed silently
            if cached:
                return
            raise self.missing(key)
        self.fs.rm(self._path(key))

    def _keys(self) -> Iterator[str]:
        try:
            paths = self.fs.find(self.basepath)
        except _NOT_FOUND:
            return iter(())
        tree = f"{self.basepath}/{TREE_FOLDER}/"
        return (
            p.rsplit("/", 1)[-1]
            for p in paths
            if not p.rsplit("/", 1)[-1].startswith(".tmp-") and not p.startswith(tree)
        )

    def url(self, key: str) -> str:
        return self.fs.unstrip_protocol(self._path(key))

    def tree(self) -> tuple[Any, str]:
        return self.fs, f"{self.basepath}/{TREE_FOLDER}"

    def evict(self, key: str) -> None:
        """Drop the local cached copy (the remote blob stays)."""
        if self.cache is not None and self.cache._exists(key):
            self.cache._delete(key)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.basepath}>"


class S3Store(FsspecStore):
    """S3 (or any S3-compatible server): ``basepath`` is ``bucket/prefix``."""

    type_name = "s3"

    def __init__(
        self,
        basepath: str,
        *,
        cachedir: str | None = None,
        s3_config: dict | None = None,
        endpoint_url: str | None = None,
        create_bucket: bool = False,
        **flags: Any,
    ) -> None:
        s3fs = _require("s3fs", "s3", "s3")
        options = dict(s3_config or {})
        if endpoint_url:
            options["endpoint_url"] = endpoint_url
        options.setdefault("skip_instance_cache", True)
        fs = s3fs.S3FileSystem(**options)
        super().__init__(fs, basepath, cachedir=cachedir, **flags)
        if create_bucket:
            bucket = self.basepath.split("/", 1)[0]
            if not fs.exists(bucket):
                with contextlib.suppress(FileExistsError):
                    fs.mkdir(bucket)


class SFTPStore(FsspecStore):
    """An SFTP server; uploads land under a temporary name, then are renamed."""

    type_name = "sftp"

    def __init__(self, basepath: str, ssh_config: dict, *, cachedir: str | None = None, **flags: Any) -> None:
        sshfs = _require("sshfs", "sftp", "sftp")
        if not isinstance(ssh_config, dict) or "hostname" not in ssh_config:
            raise ConfigError("ssh_config needs at least 'hostname' (and usually port, username, key_filename)")
        allowed = {"hostname", "port", "username", "password", "key_filename", "known_hosts", "timeout"}
        unknown = sorted(set(ssh_config) - allowed)
        if unknown:
            raise ConfigError(f"unknown ssh_config key(s) {unknown}; allowed: {sorted(allowed)}")
        options: dict[str, Any] = {"port": int(ssh_config.get("port", 22))}
        if ssh_config.get("username"):
            options["username"] = ssh_config["username"]
        if ssh_config.get("password"):
            options["password"] = ssh_config["password"]
        key = ssh_config.get("key_filename")
        if key:
            options["client_keys"] = [os.path.expanduser(k) for k in ([key] if isinstance(key, str) else key)]
        options["known_hosts"] = ssh_config.get("known_hosts")
        if "timeout" in ssh_config:
            options["connect_timeout"] = ssh_config["timeout"]
        try:
            fs = sshfs.SSHFileSystem(ssh_config["hostname"], skip_instance_cache=True, **options)
        except OSError as exc:
            raise StoreError(f"cannot connect to sftp://{ssh_config['hostname']}:{options['port']}: {exc}") from exc
        super().__init__(fs, basepath, cachedir=cachedir, rename_to_publish=True, fan_out=True, **flags)
        fs.makedirs(self.basepath, exist_ok=True)

    def __getstate__(self) -> dict:  # pragma: no cover - live SSH sessions cannot be pickled
        raise TypeError("an SFTPStore holds a live SSH connection and cannot be pickled")


class GSStore(FsspecStore):
    """Google Cloud Storage: ``bucket`` plus ``basepath`` inside it."""

    type_name = "gs"

    def __init__(
        self,
        bucket: str,
        basepath: str = "provkit",
        *,
        project: str | None = None,
        cachedir: str | None = None,
        gcs_config: dict | None = None,
        create_bucket: bool = False,
        **flags: Any,
    ) -> None:
        gcsfs = _require("gcsfs", "gs", "gs")
        options = dict(gcs_config or {})
        if project:
            options["project"] = project
        options.setdefault("skip_instance_cache", True)
        fs = gcsfs.GCSFileSystem(**options)
        super().__init__(fs, f"{bucket}/{basepath.strip('/')}", cachedir=cachedir, **flags)
        self.bucket = bucket
        if create_bucket and not fs.exists(bucket):
            with contextlib.suppress(FileExistsError):
                fs.mkdir(bucket)
