"""The tokens of questionnaire links (pure): made, hashed, and the per-address limit on guesses.

A token is 32 bytes from ``secrets`` (256 bits, URL-safe base64: 43 characters), so guessing
one is hopeless; it is stored only as its SHA-256, and a link is found by looking that hash up
(an index on a hash of the guess: how long the look-up takes says nothing about any real
token). ``Guesses`` limits how many unknown links one address may try in an hour all the same,
so a script hammering ``/q/...`` is refused (429) early.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections import OrderedDict, deque

TOKEN_BYTES = 32
TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # what token_urlsafe(32) makes
MAX_ADDRESSES = 10_000  # addresses remembered; the oldest is forgotten first
WINDOW_S = 3600.0


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token: str) -> bool:
    return TOKEN.fullmatch(token) is not None


class Guesses:
    """Unknown links opened per address in the last hour: ``limit`` at most (0: no limit)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, address: str, now: float) -> deque[float]:
        times = self._seen.get(address)
        if times is None:
            times = self._seen[address] = deque()
            if len(self._seen) > MAX_ADDRESSES:
                self._seen.popitem(last=False)
        self._seen.move_to_end(address)
        while times and now - times[0] > WINDOW_S:
            times.popleft()
        return times

    def blocked(self, address: str) -> int | None:
        """Seconds to wait when this address has used up its guesses, else None."""
        if not self.limit:
            return None
        now = time.monotonic()
        times = self._recent(address, now)
        if len(times) < self.limit:
            return None
        return max(1, int(WINDOW_S - (now - times[0])) + 1)

    def missed(self, address: str) -> None:
        """Count one unknown link opened from this address."""
        if self.limit:
            self._recent(address, time.monotonic()).append(time.monotonic())
