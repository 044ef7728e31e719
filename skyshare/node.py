"""A running node: sensor readers, the pipeline loop, the picture, alerts and the web API.

Threads: the asyncio loop reads sockets and serves HTTP; decoding and fusion run in a
worker thread (numba kernels release the GIL), one batch at a time, so reading never
waits for fusion and fusion never races with itself.  The alert rules run in their own
worker thread on the latest published picture, once per ``alerts.interval_s``: an alert
storm (thousands of audit entries to commit) delays the next evaluation, never the
picture.  The web layer only reads the published :class:`~skyshare.picture.Picture`
and acts on alerts through :class:`~skyshare.alerts.service.AlertService`.
A federated node also runs an :class:`~skyshare.share.alertlink.AlertLink`: after each
evaluation, and at once after an action, it tells partners of the cases routed to them
and forwards actions on their cases to their nodes; and an
:class:`~skyshare.share.auditshare.AuditShare`: each audit head it publishes goes to its
partners, whose heads it records in its own log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import socket
import time
from collections.abc import Coroutine, Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import uvicorn

from skyshare.airspace import Regions, VolumeSet, load_region_files, load_volumes
from skyshare.alerts.restore import case_entries
from skyshare.alerts.rules import M_TO_FT, SensorRangeCoverage
from skyshare.alerts.service import AlertService
from skyshare.auth import USERS_FILE, Sessions, UserStore
from skyshare.cadence import Cadence
from skyshare.config import AirspaceConfig, NodeConfig, SyntheticConfig
from skyshare.errors import ConfigError, SkyshareError
from skyshare.latency import LatencyWindow
from skyshare.node_audit import ChangeWatch
from skyshare.outputs import serve_cat062
from skyshare.picture import Picture
from skyshare.pipeline import Pipeline, warm_up
from skyshare.radar.plots import RadarSite
from skyshare.radar.sim import RadarSimulator, RadarSpec
from skyshare.radar.sim_output import serve_udp
from skyshare.readiness.coverage import warm_up as warm_up_readiness
from skyshare.readiness.monitor import Readiness
from skyshare.share.alertlink import AlertLink
from skyshare.share.auditshare import STOP_FLUSH_S, AuditShare
from skyshare.share.federation import Federation
from skyshare.share.federation import warm_up as warm_up_federation
from skyshare.sources.base import SensorSpec, SensorStatus, SourceOutput
from skyshare.sources.net import run_client, run_server
from skyshare.sources.udp import run_udp
from skyshare.store.audit import AUDIT_FILE, AuditLog
from skyshare.synth.feed import SyntheticFeed, serve_beast
from skyshare.synth.incidents import run_incidents
from skyshare.synth.traffic import Traffic
from skyshare.web.app import PipelineStats, create_app

log = logging.getLogger("skyshare.node")

HEAD_EVERY_S = 60.0  # how often the audit log's head is published to its heads file
READINESS_EVERY_S = 1.0  # how often readiness samples the sensors' counters
COVERAGE_SAVE_EVERY_S = 60.0  # how often the coverage outlines are written to disk
RETRY_CONNECT_S = 2.0  # between attempts to reach the federation's NATS servers


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handlers: the node decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind_http(host: str, port: int) -> socket.socket:
    """The listening socket of the web server, or a ConfigError saying what to change."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot serve HTTP on {host}:{port} ({exc.strerror}); choose "
                          "another address with --http HOST:PORT (skyshare demo: --port)",
                          where="http") from exc
    return sock


def load_airspace_config(config: AirspaceConfig) -> tuple[VolumeSet | None, Regions | None]:
    """The configured volumes and regions, or None where none are configured."""
    volumes = load_volumes(config.volumes)  # ids unique across the files
    return (VolumeSet(volumes) if volumes else None,
            load_region_files(config.regions) if config.regions else None)


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port that is free right now on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def synthetic_radar_spec(cfg: SyntheticConfig) -> RadarSpec | None:
    """The simulated radar of ``cfg`` (a Mode S radar with a primary channel)."""
    if cfg.radar is None:
        return None
    lat, lon, alt_m = cfg.radar
    return RadarSpec(name="synthetic-radar", sac=0, sic=1, lat=lat, lon=lon, alt_m=alt_m)


def with_synthetic_sensor(config: NodeConfig, port: int, radar_port: int) -> NodeConfig:
    """``config`` plus a Beast client sensor reading the built-in synthetic feed, and an
    ASTERIX UDP sensor for its radar when it has one."""
    receiver = config.synthetic.receiver if config.synthetic is not None else None
    spec = SensorSpec(name="synthetic", index=len(config.sensors), format="beast",
                      mode="connect", host="127.0.0.1", port=port,
                      lat=receiver[0] if receiver else None,
                      lon=receiver[1] if receiver else None)
    sensors = (*config.sensors, spec)
    radar = synthetic_radar_spec(config.synthetic) if config.synthetic is not None else None
    if radar is not None:
        site = RadarSite(radar.lat, radar.lon, radar.alt_m, radar.range_sigma_m,
                         radar.azimuth_sigma_deg, radar.rotation_s)
        sensors += (SensorSpec(name=radar.name, index=len(sensors), format="asterix",
                               mode="udp", host="127.0.0.1", port=radar_port, lat=radar.lat,
                               lon=radar.lon, alt_m=radar.alt_m, radar=site),)
    return replace(config, sensors=sensors)


class Node:
    """One skyshare node, configured by a :class:`NodeConfig`."""

    def __init__(self, config: NodeConfig) -> None:
        for spec in config.sensors:
            if spec.mode == "file":
                raise ConfigError("a recording is read with 'skyshare decode' or 'skyshare "
                                  "track'; a live node takes connect: or listen: sensors",
                                  where=f"sensor {spec.name}")
        self._synthetic_port = free_port() if config.synthetic is not None else 0
        self._radar_port = (free_udp_port() if config.synthetic is not None
                            and config.synthetic.radar is not None else 0)
        if config.synthetic is not None:
            config = with_synthetic_sensor(config, self._synthetic_port, self._radar_port)
        self.config = config
        self._statuses = [SensorStatus.for_spec(s) for s in config.sensors]
        self.readiness = Readiness(config.readiness, config.sensors, self._statuses,
                                   config.data_dir, time.time(), self.partner)
        self.pipeline = Pipeline(config.sensors, [s.bad for s in self._statuses],
                                 config.tracker, config.reference, config.radar_tracker)
        self._picture = Picture()
        self._stats = PipelineStats()
        self._latency = LatencyWindow()
        self._pending: list[SourceOutput] = []
        self.http_port = config.http_port
        self.ready = asyncio.Event()
        self.volumes, self.owners = load_airspace_config(config.airspace)  # fail fast
        self.federation = (Federation(self.partner, config.name, config.federation,
                                      config.data_dir)
                           if config.federation is not None else None)
        self.alerts: AlertService | None = None  # from run(): it needs the audit log open
        self.alert_link: AlertLink | None = None  # federated: cases to and from partners
        self.audit_share: AuditShare | None = None  # federated: audit heads, both ways
        self.sessions: Sessions | None = None
        self.audit: AuditLog | None = None  # open while run() runs

    @property
    def anonymous_read(self) -> bool:
        return self.config.auth.anonymous_read

    @property
    def partner(self) -> str:
        """The partner this node belongs to (answers for alerts outside every region)."""
        return self.config.partner or self.config.name

    # -- NodeState for the web layer
    @property
    def name(self) -> str:
        return self.config.name

    @property
    def picture(self) -> Picture:
        return self._picture

    @property
    def statuses(self) -> list[SensorStatus]:
        return self._statuses

    @property
    def stats(self) -> PipelineStats:
        return self._stats

    @property
    def stream_interval_s(self) -> float:
        return self.config.picture_interval_s

    @property
    def reference(self) -> tuple[float, float] | None:
        """The node's position: its configured reference, else its first placed sensor."""
        if self.config.reference is not None:
            return self.config.reference
        for s in self.config.sensors:
            if s.lat is not None and s.lon is not None:
                return s.lat, s.lon
        return None

    @property
    def url(self) -> str:
        host = self.config.http_host
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
        return f"http://{shown}:{self.http_port}/"

    # -- pipeline
    def emit(self, output: SourceOutput) -> None:
        """Called by readers with what a sensor delivered; cheap, never blocks."""
        self._pending.append(output)

    def take_pending(self) -> list[SourceOutput]:
        """What the readers delivered since the last call (on the event loop thread, the
        one ``emit`` runs on, so no delivery can slip between read and reset)."""
        outputs, self._pending = self._pending, []
        return outputs

    def step(self, outputs: list[SourceOutput], now: float | None = None) -> int:
        """Decode and fuse ``outputs``, then publish the picture (worker thread)."""
        now = time.time() if now is None else now
        reports = self.pipeline.decode(outputs)
        self.readiness.observe(outputs, reports, now)
        updates = self.pipeline.fuse(reports)
        self.pipeline.expire(now)
        own = self.pipeline.snapshot(now)
        fed = self.federation
        if fed is not None:  # what needs no partner data leaves before the merge
            fed.outgoing(own, own, now, "own")
            fed.send_soon()
        common = own if fed is None else fed.merge(own, now)
        self._picture.publish(common, now)
        published = time.time()
        if fed is not None:
            fed.published(published)
            fed.outgoing(own, common, now, "all")
        self._record_latency(outputs, published)
        st = self._stats
        st.frames, st.reports = self.pipeline.frames, self.pipeline.reports
        st.batches += 1
        st.decode_counts = dict(self.pipeline.decoder.counts)
        st.tracker_counts = self.pipeline.counts
        return len(updates)

    def _timed_step(self, outputs: list[SourceOutput]) -> float:
        """:meth:`step`; the CPU time it took (worker thread)."""
        cpu = time.thread_time()
        self.step(outputs)
        return time.thread_time() - cpu

    def _record_latency(self, outputs: list[SourceOutput], published: float) -> None:
        times = [o.frames["time"] for o in outputs if len(o.frames)]
        times += [o.reports["time"] for o in outputs if len(o.reports)]
        if times:
            self._latency.add(published, published - np.concatenate(times))
            self._stats.latency_p50_s, self._stats.latency_p99_s = self._latency.quantiles()

    async def _pipeline_loop(self, stop: asyncio.Event) -> None:
        cadence = Cadence(self.config.pipeline_interval_s, self.config.pipeline_max_interval_s)
        while not stop.is_set():
            started, cpu_s = time.monotonic(), math.nan  # NaN: the step failed, unknown
            try:
                cpu_s = await asyncio.to_thread(self._timed_step, self.take_pending())
                if self.federation is not None:
                    await self.federation.send_pending()
            except Exception:  # a bug in a stage must not take the node down
                log.exception("pipeline step failed; the batch was dropped")
            rest = cadence.rest(time.monotonic() - started, cpu_s)
            self._stats.interval_s = cadence.interval_s
            await asyncio.sleep(rest)

    # -- running
    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set."""
        http_socket = bind_http(self.config.http_host, self.config.http_port)  # fail fast
        self.http_port = int(http_socket.getsockname()[1])
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        # compile the kernels before the first frame arrives, so it does not wait for it
        await asyncio.to_thread(warm_up)
        await asyncio.to_thread(warm_up_readiness)
        if self.federation is not None:
            await asyncio.to_thread(warm_up_federation)
        watch = await asyncio.to_thread(self._open_alerts)
        await asyncio.to_thread(self.readiness.load, time.time())
        self.readiness.begin(time.time())  # sensors are waited for from now
        tasks = [asyncio.create_task(self._pipeline_loop(stop), name="pipeline"),
                 asyncio.create_task(self._readiness_loop(stop), name="readiness"),
                 asyncio.create_task(self._alerts_loop(stop, watch), name="alerts")]
        if self.config.synthetic is not None:
            tasks.append(asyncio.create_task(
                serve_synthetic(self.config.synthetic, self._synthetic_port, stop,
                                self._radar_port),
                name="synthetic"))
            await wait_listening(self._synthetic_port)  # spare the sensor a failed connect
        if self.federation is not None:
            tasks.append(asyncio.create_task(self._federation_loop(self.federation, stop),
                                             name="federation"))
        for spec, status in zip(self.config.sensors, self._statuses, strict=True):
            tasks.append(asyncio.create_task(self._run_sensor(spec, status, stop),
                                             name=f"sensor:{spec.name}"))
        for out in self.config.outputs:
            tasks.append(asyncio.create_task(serve_cat062(self._picture, out, stop),
                                             name=f"cat062:{out.host}:{out.port}"))
        server = _EmbeddedServer(uvicorn.Config(
            create_app(self, self.config.map), host=self.config.http_host,
            port=self.config.http_port,
            log_level="warning", lifespan="off", ws="websockets-sansio"))
        serve = asyncio.create_task(server.serve(sockets=[http_socket]), name="http")
        while not server.started and not serve.done():
            await asyncio.sleep(0.02)
        if serve.done():
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            serve.result()
        self.ready.set()
        await stop.wait()
        server.should_exit = True
        await asyncio.gather(serve, *tasks, return_exceptions=True)
        if self.audit is not None:
            await asyncio.to_thread(self._close_audit)

    # -- alerts
    def _open_alerts(self) -> ChangeWatch:
        """Open the audit log and users, record the configuration, start the alerting
        with the cases rebuilt from the log (see :mod:`skyshare.alerts.restore`)."""
        cfg = self.config
        self.audit = AuditLog(cfg.data_dir / AUDIT_FILE, cfg.name)
        users = UserStore(cfg.auth.users or cfg.data_dir / USERS_FILE)
        self.sessions = Sessions(users)
        placed = tuple((s.lat, s.lon) for s in cfg.sensors
                       if s.lat is not None and s.lon is not None)
        placed_specs = [s for s in cfg.sensors if s.lat is not None and s.lon is not None]
        antennas = tuple((s.alt_m or 0.0) * M_TO_FT for s in placed_specs)
        readiness = self.readiness
        alerts = replace(cfg.alerts, workflow=replace(cfg.alerts.workflow, partner=self.partner))
        self.alerts = AlertService(
            cfg.name, alerts, self.audit, airspace=self.volumes,
            volumes=self.volumes.volumes if self.volumes is not None else (),
            owners=self.owners,
            coverage=(SensorRangeCoverage(
                placed, alerts.coverage_nm, antennas, readiness.working,
                indices=tuple(s.index for s in placed_specs),
                observed=lambda i, lat, lon, alt: readiness.coverage.reach_nm(
                    i, lat, lon, alt, time.time())) if placed else None),
            sensors=readiness,
            first_serial=self.audit.head()[0] + 1)  # ids never repeat within one log
        self.alerts.restore(case_entries(self.audit))  # the cases shown before a restart
        if self.federation is not None:
            self.alert_link = AlertLink(self.alerts, self.federation)
            self.alerts.forward = self.alert_link.forward
            self.alerts.notify = self.alert_link.wake
            self.alerts.resend_pending()  # those lost with the outbox; the origin dedups
        watch = ChangeWatch(cfg, users, self.audit)
        self.audit.append_many(watch.changes())
        self.audit.publish_head()
        return watch

    def evaluate_alerts(self, now: float | None = None) -> int:
        """Run the rules on the current picture (worker thread); returns events recorded."""
        assert self.alerts is not None, "alerts start with run()"
        return len(self.alerts.update(self._picture.tracks, now))

    async def _alerts_loop(self, stop: asyncio.Event, watch: ChangeWatch) -> None:
        assert self.audit is not None
        interval = self.config.alerts.interval_s
        last_head = time.monotonic()
        while not stop.is_set():
            started = time.monotonic()
            try:
                await asyncio.to_thread(self.evaluate_alerts)
                if self.alert_link is not None:
                    self.alert_link.wake()  # partners hear of what changed at once
                changes = await asyncio.to_thread(watch.changes)
                if changes:
                    await asyncio.to_thread(self.audit.append_many, changes)
                if started - last_head >= HEAD_EVERY_S:
                    head = await asyncio.to_thread(self.audit.publish_head)
                    if self.audit_share is not None:  # kept where our operator cannot edit
                        self.audit_share.publish(head)
                    last_head = started
            except Exception:  # the picture must go on; the failure is logged loudly
                log.exception("alert evaluation failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, interval - (time.monotonic()
                                                                          - started)))

    async def _readiness_loop(self, stop: asyncio.Event) -> None:
        """Sample the sensors' counters every second (on the loop: the readers update
        them here); keep the coverage outlines on disk every minute and at stop."""
        saved = time.monotonic()
        try:
            while not stop.is_set():
                try:
                    self.readiness.sample(time.time())
                    if time.monotonic() - saved >= COVERAGE_SAVE_EVERY_S:
                        saved = time.monotonic()
                        await asyncio.to_thread(self.readiness.save)
                except Exception:  # readiness must never stop the node
                    log.exception("readiness sample failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), READINESS_EVERY_S)
        finally:
            try:
                await asyncio.to_thread(self.readiness.save)
            except Exception:
                log.exception("could not save the coverage outlines")

    def _close_audit(self) -> None:
        assert self.audit is not None
        try:
            self.audit.publish_head()
        finally:
            self.audit.close()

    async def _federation_loop(self, fed: Federation, stop: asyncio.Event) -> None:
        """Connect to the federation (retrying until it answers), then say we are alive
        every ``status_interval_s``; the bus reconnects by itself after that."""
        interval = fed.config.status_interval_s
        while not stop.is_set():
            try:
                await fed.start()
                break
            except SkyshareError as exc:
                log.warning("federation: %s; retrying in %.0f s", exc, RETRY_CONNECT_S)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), RETRY_CONNECT_S)
        link = (asyncio.create_task(self.alert_link.run(stop), name="alert-link")
                if self.alert_link is not None and not stop.is_set() else None)
        if self.audit is not None and not stop.is_set():
            self.audit_share = AuditShare(fed, self.audit)
            fed.audit_share = self.audit_share  # partners' heads show in their status
        heads = (asyncio.create_task(self.audit_share.run(stop), name="audit-share")
                 if self.audit_share is not None else None)
        try:
            while not stop.is_set():
                try:
                    await fed.send_status()
                    await fed.subscribe()  # givers added by a reload of the agreements
                except SkyshareError as exc:
                    log.warning("federation: %s", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), interval)
        finally:
            if link is not None:  # it may be waiting on JetStream: do not wait for it
                link.cancel()
                await asyncio.gather(link, return_exceptions=True)
            if heads is not None:  # its last head goes out before the bus closes, briefly
                await asyncio.wait({heads}, timeout=STOP_FLUSH_S + 1.0)
                heads.cancel()
                await asyncio.gather(heads, return_exceptions=True)
            await fed.bus.close()

    async def _run_sensor(self, spec: SensorSpec, status: SensorStatus,
                          stop: asyncio.Event) -> None:
        if spec.mode == "connect":
            await run_client(spec, status, self.emit, stop=stop)
        elif spec.mode == "udp":
            await run_udp(spec, status, self.emit, stop=stop)
        else:
            await run_server(spec, status, self.emit, stop=stop)


async def wait_listening(port: int, timeout_s: float = 5.0) -> None:
    """Return once something accepts connections on loopback ``port`` (or on timeout)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return


async def serve_synthetic(cfg: SyntheticConfig, port: int, stop: asyncio.Event,
                          radar_port: int = 0) -> None:
    """The built-in synthetic receiver: a Beast server on loopback the node connects to,
    and its radar (CAT048/CAT034 to ``radar_port``) when ``cfg`` has one."""
    start = time.time() if cfg.start_time is None else cfg.start_time
    traffic = Traffic(cfg.aircraft, seed=cfg.seed, region=cfg.region, start_time=start)
    jobs: list[Coroutine[Any, Any, object]] = [
        serve_beast(SyntheticFeed(traffic, receiver=cfg.receiver), "127.0.0.1", port,
                    stop=stop)]
    radar = synthetic_radar_spec(cfg)
    if radar is not None:
        simulator = RadarSimulator(traffic, [radar], seed=cfg.seed)
        jobs.append(serve_udp(simulator, {0: ("127.0.0.1", radar_port)}, stop))
    if cfg.incident_every_s > 0:
        jobs.append(run_incidents(traffic, cfg.incident_every_s, cfg.incident_duration_s,
                                  cfg.seed, stop, transponder=cfg.transponder_incidents))
    await asyncio.gather(*jobs)
