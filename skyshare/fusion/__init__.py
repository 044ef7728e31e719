"""Fusion: reports of many receivers -> address-keyed system tracks, in batches.

Stages, one module each (the tracker only wires them, in :mod:`~skyshare.fusion.fuse`):

========================  ===========================================================
:mod:`.dedup`             one measurement per transmission heard by several receivers
:mod:`.keymap`            association: address (+ exercise, non-ICAO) -> track slot
:mod:`.lifecycle`         initiate, confirm, coast, drop position, delete
:mod:`.measurements`      validated measurements and their noise (NACp, NACv)
:mod:`.gate`              plausibility of positions and altitudes; recovery
:mod:`.kalman`            predict/update kernels (horizontal CV, altitude)
:mod:`.geo`               tangent planes around each track
:mod:`.output`            the published TRACK_DTYPE row, snapshot prediction
:mod:`.state`             the arrays all of the above share
:mod:`.tracker`           :class:`Tracker` and :class:`TrackerConfig`
========================  ===========================================================

The kernels are compiled with ``cache=True``.  Numba's cache only notices edits to the
file of the cached function itself, not to the modules it calls or the constants it
imports (state.py columns): after editing a fusion module, delete
``skyshare/fusion/__pycache__`` (``make clean``).
"""

from __future__ import annotations

from skyshare.fusion.tracker import Tracker, TrackerConfig

__all__ = ["Tracker", "TrackerConfig"]
