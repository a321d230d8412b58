"""Raw-frame recording and deterministic replay.

- ``Recorder`` writes Connex's own format (gzip JSON lines); the runtime calls it
  through the ``FrameSink`` protocol.
- ``read_connex`` / ``read_cryptofeed`` read recordings back as ``Record`` values.
- ``replay`` drives recorded frames and REST replies through ``FeedCore`` and returns a
  ``ReplayResult`` whose ``summary()`` is what ``connex replay --json`` prints.
"""

from .cryptofeed import read_cryptofeed
from .format import FrameSink, Record, Recorder, RecordKind, read_connex
from .replay import ReplayError, ReplayResult, replay

__all__ = [
    "FrameSink",
    "Record",
    "RecordKind",
    "Recorder",
    "ReplayError",
    "ReplayResult",
    "read_connex",
    "read_cryptofeed",
    "replay",
]
