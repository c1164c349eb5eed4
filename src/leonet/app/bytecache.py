"""A least-recently-used map kept within a byte budget (the app's caches of chunks and dishes)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, Hashable, TypeVar

V = TypeVar("V")


class ByteBudgetLRU(Generic[V]):
    """Values with an ``nbytes`` attribute, the least recently used dropped while their sum is over
    ``budget_bytes``. The newest entry stays even when it alone is over the budget: its caller holds
    it anyway. Not thread-safe: callers hold their own lock."""

    def __init__(self, budget_bytes: int):
        self.budget_bytes = int(budget_bytes)
        self.nbytes = 0
        self._items: OrderedDict[Hashable, V] = OrderedDict()

    def get(self, key: Hashable) -> V | None:
        """The value of ``key`` (now the most recently used), or None."""
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: Hashable, value: V) -> None:
        """Store ``value`` under ``key`` (replacing any), then drop the least recently used entries
        while over budget."""
        old = self._items.pop(key, None)
        if old is not None:
            self.nbytes -= old.nbytes
        self._items[key] = value
        self.nbytes += value.nbytes
        while self.nbytes > self.budget_bytes and len(self._items) > 1:
            _, dropped = self._items.popitem(last=False)
            self.nbytes -= dropped.nbytes

    def keys(self) -> list:
        """The keys, least recently used first."""
        return list(self._items)

    def values(self) -> list[V]:
        return list(self._items.values())

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)
