"""A long-running process's heap and the garbage collector."""

import gc

# Container allocations between young-generation collections (CPython's default is 700).
# A province-wide fan-out allocates hundreds of thousands of rows, tuples and dicts that live
# for the request; at the default, they set off one full collection after another, each
# walking every object in the process (a thousand open event streams among them): hundreds
# of milliseconds per fan-out. Cycles are still collected, just less often.
YOUNG_THRESHOLD = 50_000


def settle_heap() -> None:
    """Tune the collector for a server once it has started: what is alive then (modules, the
    app, its settings and caches) lives as long as the process, so it is put out of the
    collector's reach, and collections are made rarer."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, 20, 20)
