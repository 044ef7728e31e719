"""What every reader shares: the sensor's configuration, its live status, what it
emits, and a codec for any wire format so that readers never branch on format."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Literal, Protocol

import numpy as np

from skyshare.badinput import BadInput
from skyshare.decode.sbs import SbsDecoder
from skyshare.errors import InputFormatError
from skyshare.model import (
    FrameBatch,
    FrameFlag,
    PlotBatch,
    ReportBatch,
    ReportFlag,
    empty_frames,
    empty_plots,
    empty_reports,
)
from skyshare.sources.avr import AvrFramer
from skyshare.sources.beast import BeastFramer
from skyshare.sources.detect import FORMATS, Format
from skyshare.sources.jsonl import JsonlFramer
from skyshare.sources.sbs import SbsFramer

if TYPE_CHECKING:
    from skyshare.radar.plots import RadarSite

Mode = Literal["connect", "listen", "file", "udp"]
RATE_WINDOW_S: Final = 10


@dataclass(frozen=True)
class SensorSpec:
    """One configured sensor: its wire format and where its bytes come from.

    ``connect``: we connect to ``host:port`` (a receiver serving its feed);
    ``listen``: receivers connect to us on ``host:port`` and push; ``udp``: datagrams
    to ``host:port`` (ASTERIX); ``file``: ``path``.  ``index`` is the sensor's number
    in frames and reports (``sensor`` column).  ``radar``: an ASTERIX radar's site
    and noise (its position is ``lat``, ``lon``, ``alt_m``).  ``exercise``: the sensor
    is an exercise injector's: everything read from it is marked EXERCISE at once (a
    Beast or AVR feed cannot say so itself; ASTERIX records may, by their SIM bit).
    """

    name: str
    index: int
    format: Format
    mode: Mode
    host: str = "127.0.0.1"
    port: int = 0
    path: str | None = None
    lat: float | None = None
    lon: float | None = None
    alt_m: float | None = None
    radar: RadarSite | None = None
    exercise: bool = False

    @property
    def address(self) -> str:
        """``host:port`` (IPv6 in brackets) or the path, for display."""
        if self.mode == "file":
            return self.path or ""
        return format_address(self.host, self.port)


def format_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass
class SourceOutput:
    """What a reader emits for one read: frames, reports (SBS) or radar plots
    (ASTERIX); the others empty."""

    frames: FrameBatch
    reports: ReportBatch
    plots: PlotBatch = field(default_factory=empty_plots)

    @classmethod
    def of_frames(cls, frames: FrameBatch) -> SourceOutput:
        return cls(frames, empty_reports())

    @classmethod
    def of_reports(cls, reports: ReportBatch) -> SourceOutput:
        return cls(empty_frames(), reports)

    @property
    def messages(self) -> int:
        return len(self.frames) + len(self.reports) + len(self.plots)


@dataclass
class SensorStatus:
    """Live status of one sensor, updated by its reader and read by readiness/web.

    ``connected``: a connection is up (for ``listen``: at least one);
    ``connections``: connections made or accepted; ``reconnects``: attempts to
    connect again after a failure or a lost connection; ``frames``: messages
    received (frames, or reports for SBS); ``good_bytes``: the bytes of them that
    framed as good frames, lines or records (the rest was garbage);
    ``last_message``: UNIX s, NaN never.
    """

    name: str
    index: int
    format: str
    mode: str
    address: str
    lat: float | None = None  # where the sensor is, when configured
    lon: float | None = None
    alt_m: float | None = None
    exercise: bool = False  # an exercise injector's sensor
    connected: bool = False
    connections: int = 0
    reconnects: int = 0
    bytes: int = 0
    good_bytes: int = 0
    frames: int = 0
    last_message: float = math.nan
    bad: BadInput = field(default_factory=BadInput)
    _counts: list[int] = field(default_factory=lambda: [0] * RATE_WINDOW_S, repr=False)
    _seconds: list[int] = field(default_factory=lambda: [-1] * RATE_WINDOW_S, repr=False)
    _first: float = field(default=math.nan, repr=False)

    @classmethod
    def for_spec(cls, spec: SensorSpec, bad: BadInput | None = None) -> SensorStatus:
        return cls(name=spec.name, index=spec.index, format=spec.format, mode=spec.mode,
                   address=spec.address, lat=spec.lat, lon=spec.lon, alt_m=spec.alt_m,
                   exercise=spec.exercise, bad=bad if bad is not None else BadInput(spec.name))

    def record(self, messages: int, now: float) -> None:
        """``messages`` received at ``now`` (UNIX s)."""
        if messages <= 0:
            return
        second = int(now)
        slot = second % RATE_WINDOW_S
        if self._seconds[slot] != second:
            self._seconds[slot] = second
            self._counts[slot] = 0
        self._counts[slot] += messages
        self.frames += messages
        self.last_message = now
        if math.isnan(self._first):
            self._first = now

    def rate(self, now: float) -> float:
        """Messages per second over the last ~10 s (whole seconds plus this one)."""
        second = int(now)
        total = sum(c for c, s in zip(self._counts, self._seconds, strict=True)
                    if second - RATE_WINDOW_S < s <= second)
        if total == 0:
            return 0.0
        span = (RATE_WINDOW_S - 1) + (now - second)
        if now - self._first < span:  # a young feed: divide by how long it has run
            span = now - self._first
        return total / max(span, 1.0)


class Framer(Protocol):
    """Bytes -> frames, keeping an incomplete tail between reads."""

    @property
    def good_bytes(self) -> int: ...

    def feed(self, chunk: bytes, recv_time: float) -> FrameBatch: ...

    def finish(self, recv_time: float) -> FrameBatch: ...


class Codec(Protocol):
    """Bytes of any format -> :class:`SourceOutput`.

    ``good_bytes`` counts the bytes that ended up in good frames or lines, so a
    reader can tell a feed in the wrong format (or garbage) from a working one.
    ``finish`` ends the stream (a file's last line without newline is read).
    """

    @property
    def good_bytes(self) -> int: ...

    def feed(self, chunk: bytes, recv_time: float) -> SourceOutput: ...

    def finish(self, recv_time: float) -> SourceOutput: ...


class FrameCodec:
    """A :class:`Codec` over a frame format (Beast, AVR, JSON lines)."""

    def __init__(self, framer: Framer) -> None:
        self.framer = framer

    @property
    def good_bytes(self) -> int:
        return self.framer.good_bytes

    def feed(self, chunk: bytes, recv_time: float) -> SourceOutput:
        return SourceOutput.of_frames(self.framer.feed(chunk, recv_time))

    def finish(self, recv_time: float) -> SourceOutput:
        return SourceOutput.of_frames(self.framer.finish(recv_time))


class SbsCodec:
    """A :class:`Codec` for SBS: lines framed here, decoded to reports."""

    def __init__(self, sensor: int, bad: BadInput, use_message_time: bool) -> None:
        self.framer = SbsFramer(bad)
        self.decoder = SbsDecoder(sensor, bad, use_message_time)

    @property
    def good_bytes(self) -> int:
        return self.decoder.good_bytes

    def feed(self, chunk: bytes, recv_time: float) -> SourceOutput:
        lines = self.framer.feed(chunk)
        return SourceOutput.of_reports(self.decoder.decode(lines, recv_time) if lines
                                       else empty_reports())

    def finish(self, recv_time: float) -> SourceOutput:
        rest = self.framer.finish()
        return SourceOutput.of_reports(self.decoder.decode(rest, recv_time) if rest
                                       else empty_reports())


def codec_for(fmt: str, sensor: int, bad: BadInput, *, clock_epoch: float | None = None,
              message_time: bool = False, radar: RadarSite | None = None) -> Codec:
    """A codec for ``fmt``.

    ``clock_epoch`` (Beast, AVR): derive frame times from the receiver clock, for
    recordings; None: the time of each read.  ``message_time`` (SBS): take each
    line's own date and time, for recordings; False: the time of each read.
    """
    if fmt == "beast":
        return FrameCodec(BeastFramer(sensor, bad, clock_epoch))
    if fmt == "avr":
        return FrameCodec(AvrFramer(sensor, bad, clock_epoch))
    if fmt == "jsonl":
        return FrameCodec(JsonlFramer(sensor, bad))
    if fmt == "sbs":
        return SbsCodec(sensor, bad, message_time)
    if fmt == "asterix":
        from skyshare.decode.asterix.codec import AsterixCodec  # it builds on this module
        return AsterixCodec(sensor, bad, radar)
    raise InputFormatError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def make_codec(spec: SensorSpec, bad: BadInput, clock_epoch: float | None = None) -> Codec:
    """The codec for a sensor; a ``file`` sensor's SBS lines keep their own times; an
    ``exercise`` sensor's output is marked EXERCISE."""
    codec = codec_for(spec.format, spec.index, bad, clock_epoch=clock_epoch,
                      message_time=spec.mode == "file", radar=spec.radar)
    return ExerciseCodec(codec) if spec.exercise else codec


def mark_exercise(output: SourceOutput) -> SourceOutput:
    """``output`` with every frame, report and plot marked EXERCISE (in place)."""
    output.frames["flags"] |= np.uint8(FrameFlag.EXERCISE)
    output.reports["flags"] |= np.uint16(ReportFlag.EXERCISE)
    output.plots["flags"] |= np.uint16(ReportFlag.EXERCISE)
    return output


class ExerciseCodec:
    """A codec whose every output is exercise traffic (an exercise sensor's)."""

    def __init__(self, codec: Codec) -> None:
        self.codec = codec

    @property
    def good_bytes(self) -> int:
        return self.codec.good_bytes

    def feed(self, chunk: bytes, recv_time: float) -> SourceOutput:
        return mark_exercise(self.codec.feed(chunk, recv_time))

    def finish(self, recv_time: float) -> SourceOutput:
        return mark_exercise(self.codec.finish(recv_time))
