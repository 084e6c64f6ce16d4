"""Image attachment thumbnails: downloaded through the core, decoded off the GUI thread.

Images come from customers, so decoding is bounded (allocation limit, scaled read) and a file
that does not decode is shown as unavailable instead of failing anything.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QImage, QImageReader, QPixmap

from operator_app.core.attachments import AttachmentFiles
from operator_app.core.service import ActionError, OfflineError
from operator_app.protocol.models import Attachment

from .tasks import TaskRunner

log = logging.getLogger(__name__)

THUMB_SIZE = QSize(240, 160)
IMAGE_MIMES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp"})
MAX_DECODE_MB = 64
MAX_KEPT = 200


def is_image(attachment: Attachment) -> bool:
    return attachment.mime.lower() in IMAGE_MIMES


def read_thumbnail(path: Path, box: QSize = THUMB_SIZE) -> QImage:
    """Decode ``path`` scaled into ``box`` (aspect kept); a null image when it cannot."""
    reader = QImageReader(str(path))
    reader.setAllocationLimit(MAX_DECODE_MB)
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid() and (size.width() > box.width() or size.height() > box.height()):
        reader.setScaledSize(size.scaled(box, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        return image
    if image.width() > box.width() or image.height() > box.height():
        image = image.scaled(box, Qt.AspectRatioMode.KeepAspectRatio)
    return image


class ThumbnailStore(QObject):
    """Pixmaps by attachment id; ``ready`` fires when one loads (or turns out unavailable)."""

    ready = Signal(int)

    def __init__(self, files: AttachmentFiles, runner: TaskRunner, parent: QObject | None = None):
        super().__init__(parent)
        self.files = files
        self.runner = runner
        self._pixmaps: OrderedDict[int, QPixmap] = OrderedDict()
        self._loading: set[int] = set()
        self._failed: set[int] = set()

    def pixmap(self, attachment: Attachment) -> QPixmap | None:
        found = self._pixmaps.get(attachment.id)
        if found is not None:
            self._pixmaps.move_to_end(attachment.id)
        return found

    def unavailable(self, attachment: Attachment) -> bool:
        return attachment.id in self._failed

    def request(self, attachment: Attachment) -> None:
        """Start loading unless it is loaded, loading or known to fail."""
        known = self._pixmaps.keys() | self._loading | self._failed
        if attachment.id in known:
            return
        self._loading.add(attachment.id)
        self.runner.start(self._load(attachment), key=f"thumbnail:{attachment.id}")

    async def _load(self, attachment: Attachment) -> None:
        try:
            path = await self.files.local_path(attachment)
            image = await asyncio.to_thread(read_thumbnail, path)
        except (ActionError, OfflineError, OSError) as exc:
            log.info("thumbnail %d unavailable: %s", attachment.id, exc)
            image = QImage()
        finally:
            self._loading.discard(attachment.id)
        if image.isNull():
            self._failed.add(attachment.id)
        else:
            self._pixmaps[attachment.id] = QPixmap.fromImage(image)
            while len(self._pixmaps) > MAX_KEPT:
                self._pixmaps.popitem(last=False)
        self.ready.emit(attachment.id)
