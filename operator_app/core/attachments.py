"""Attachment files on disk: downloaded once through the API into a per-cache directory.

The UI asks for a local path (a thumbnail, "open", "save as"); this module downloads through
the service's ``ApiClient`` (bearer token, same-origin URLs only, size-capped) and keeps the
file next to the cache, so a second look costs nothing. Concurrent requests for the same
attachment share one download.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from weakref import WeakKeyDictionary

from operator_app.protocol.models import Attachment

from .errors import guarded

if TYPE_CHECKING:
    from .service import DeskService


class Downloader(Protocol):
    async def download(self, attachment: Attachment, dest: Path) -> Path: ...


# The files kept beside one cache: past this, the least recently looked at go first.
MAX_BYTES = 1024**3
STALE_PART_SECONDS = 3600  # a ".part" this old is a download that died, not one running


class AttachmentFiles:
    def __init__(self, api: Downloader, directory: Path, max_bytes: int = MAX_BYTES) -> None:
        self.api = api
        self.directory = directory
        self.max_bytes = max_bytes
        self._running: dict[int, asyncio.Future[Path]] = {}

    @classmethod
    def beside_cache(cls, api: Downloader, cache_path: Path) -> AttachmentFiles:
        """The files of one cache live in ``<cache name>.files/`` next to it."""
        return cls(api, cache_path.with_name(cache_path.name + ".files"))

    def cached(self, attachment: Attachment) -> Path | None:
        path = self._path_for(attachment)
        try:
            os.utime(path)  # looked at now: the last to go when the directory is trimmed
        except OSError:
            return None
        return path

    async def local_path(self, attachment: Attachment) -> Path:
        """The attachment's file on disk, downloaded first if needed.

        Raises ``ActionError`` / ``OfflineError`` like every other core action.
        """
        found = self.cached(attachment)
        if found is not None:
            return found
        running = self._running.get(attachment.id)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[Path] = asyncio.get_running_loop().create_future()
        self._running[attachment.id] = future
        try:
            path = await self._download(attachment)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it, nobody else must log it
            raise
        finally:
            del self._running[attachment.id]
        future.set_result(path)
        return path

    async def save_copy(self, attachment: Attachment, target: Path) -> Path:
        """Download (or reuse) the file and copy it to where the operator chose."""
        source = await self.local_path(attachment)
        await asyncio.to_thread(shutil.copyfile, source, target)
        return target

    async def _download(self, attachment: Attachment) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = await guarded(self.api.download(attachment, self._path_for(attachment)))
        await asyncio.to_thread(trim, self.directory, self.max_bytes)
        return path

    def _path_for(self, attachment: Attachment) -> Path:
        from operator_app.net.api import safe_filename  # httpx: not on the start path

        return self.directory / f"{attachment.id}-{safe_filename(attachment.name, attachment.id)}"


def trim(directory: Path, max_bytes: int) -> int:
    """Delete the least recently used files until ``directory`` holds at most ``max_bytes``
    (downloads still running are left alone); returns how many went. Only downloads grow it,
    so each download trims it: the files of a cache never pile up without bound."""
    try:
        entries = [(path, path.stat()) for path in directory.iterdir() if path.is_file()]
    except FileNotFoundError:
        return 0
    total = sum(stat.st_size for _path, stat in entries)
    removed = 0
    now = time.time()
    for path, stat in sorted(entries, key=lambda entry: entry[1].st_mtime):
        if total <= max_bytes:
            break
        if path.suffix == ".part" and now - stat.st_mtime < STALE_PART_SECONDS:
            continue
        path.unlink(missing_ok=True)
        total -= stat.st_size
        removed += 1
    return removed


_per_service: WeakKeyDictionary[DeskService, AttachmentFiles] = WeakKeyDictionary()


def files_for(service: DeskService) -> AttachmentFiles:
    """One AttachmentFiles per service, beside its cache, shared by every chat tab."""
    files = _per_service.get(service)
    if files is None:
        files = AttachmentFiles.beside_cache(service.api, service.cache.path)
        _per_service[service] = files
    return files
