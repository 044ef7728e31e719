"""Sources: the framing of each receiver wire format, and the readers that move bytes.

Codecs (bytes in, batch out, and back; no I/O): :mod:`~skyshare.sources.beast`,
:mod:`~skyshare.sources.avr`, :mod:`~skyshare.sources.sbs` (lines; the reports come
from :mod:`skyshare.decode.sbs`), :mod:`~skyshare.sources.jsonl`; format recognition
in :mod:`~skyshare.sources.detect`.  Readers (transport): TCP client and server in
:mod:`~skyshare.sources.net`, recordings in :mod:`~skyshare.sources.files`.  Every
reader emits :class:`~skyshare.sources.base.SourceOutput` batches and keeps a
:class:`~skyshare.sources.base.SensorStatus`.  No Mode S decoding happens here.

Import the submodules (``from skyshare.sources.beast import BeastFramer``); this
package imports nothing itself, so the light codec modules can be used (e.g. by
:mod:`skyshare.decode.sbs`) without pulling in the readers.
"""
