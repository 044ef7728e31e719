"""The numba compilation options of the decoder's hot loop.

:func:`kernel` is ``nb.njit(cache=True, nogil=True)`` without numba's reference
counting (NRT).  The loop threads some 50 column arrays, grouped in named tuples,
through its (inlined) helpers; with reference counting, the atomic increments and
decrements of those arrays' counts cost 80 % of the time (1.5 us a frame instead
of 0.15 us).  Leaving it out is sound for a function that allocates no array and
keeps none beyond the call, the rule for every function so decorated: the caller
owns all the arrays for the whole call.

Caching caveat (a numba limitation): the on-disk cache of a function is keyed on
the contents of that function's own source file only.  The kernel of
:mod:`skyshare.decode.modes` inlines helpers from ``adsb``, ``positions``,
``surveillance`` and ``aircraft`` and links in ``altitude``, ``cpr``, ``crc`` and
``repair``: after editing one of those, delete ``skyshare/decode/__pycache__/*.nb?``
before testing or measuring, or the previous build is used.  (A fresh checkout, as
in CI, has no cache.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba as nb

F = TypeVar("F", bound=Callable[..., Any])


def kernel(fn: F) -> F:
    """Compile ``fn`` with numba, cached, releasing the GIL, without reference counts."""
    options: dict[str, Any] = {"cache": True, "nogil": True, "_nrt": False}
    return cast(F, nb.njit(**options)(fn))
