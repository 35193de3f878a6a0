"""SHA-256 digests remembered across scans by stat stamp, so large files are hashed once.

Kept apart from the artifact readers so that the pipeline can open a book without importing them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class DigestStore(Protocol):
    """Where digests outlive the process (the scan store's ``file_digests`` table)."""

    def get_digests(self, stat_keys: Sequence[str]) -> Mapping[str, str]: ...


@dataclass
class Sha256Book:
    """SHA-256 digests remembered across scans by each file's stat stamp, as git's index does.

    The pipeline opens one per scan (:data:`SHA256_BOOK`) over its store and saves ``learned``
    afterwards, so that a multi-gigabyte file (the weights a signature covers) is hashed once, not
    on every scan. Only files of :data:`MIN_BYTES` or more are looked up and remembered. A file
    modified after ``racy_after_ns`` (shortly before the scan began) is hashed but not remembered:
    it could change again within the clock's resolution, its stamp unchanged.
    """

    store: DigestStore
    racy_after_ns: int
    learned: dict[str, str] = field(default_factory=dict)

    def lookup(self, key: str) -> str | None:
        if key in self.learned:
            return self.learned[key]
        return self.store.get_digests([key]).get(key)

    def remember(self, key: str, st: os.stat_result, value: str) -> None:
        if st.st_mtime_ns < self.racy_after_ns:
            self.learned[key] = value


#: Files smaller than this are hashed rather than looked up: hashing a few hundred KiB costs less
#: than a query to the store.
MIN_BYTES = 1 << 20

#: The book of the scan in progress, if any (set by the pipeline around collection).
SHA256_BOOK: ContextVar[Sha256Book | None] = ContextVar("SHA256_BOOK", default=None)


def sha256_stamp_key(path: Path | str, st: os.stat_result) -> str:
    """The key a file's SHA-256 is remembered under: its absolute path and full stat stamp."""
    raw = f"sha256\x1f{os.path.abspath(path)}\x1f{st.st_size}\x1f{st.st_mtime_ns}\x1f{st.st_ctime_ns}"
    raw += f"\x1f{st.st_ino}\x1f{st.st_dev}"
    return hashlib.blake2b(raw.encode(), digest_size=20).hexdigest()
