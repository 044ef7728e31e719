"""The injector against real sockets: each sensor's frames arrive where its node would
listen, a failed receiver drops its connection and sends nothing, a degraded one loses
frames and mixes noise into its stream (which the Beast framer counts as bad input)."""

from __future__ import annotations

import asyncio
import socket
import time

from exercise.scenes import scene
from skyshare.badinput import BadInput
from skyshare.exercise.inject import Injector, warm_up
from skyshare.exercise.traffic import ScenarioTraffic
from skyshare.sources.beast import BeastFramer


def test_fail_and_degrade_windows_reach_the_wire() -> None:
    sc = scene(duration_s=12, traffic={"aircraft": 30, "region": [47, 3, 52, 11]},
               sensors=[{"name": "w", "partner": "west", "type": "adsb",
                         "position": [49.3, 5.2, 100]},
                        {"name": "r", "partner": "east", "type": "radar",
                         "position": [49.5, 7.6, 300], "radar": {"range_m": 222000}}],
               events=[{"at_s": 3, "sensor": "w", "fail": {"duration_s": 3}},
                       {"at_s": 7, "sensor": "w", "degrade": {"duration_s": 3, "loss": 0.5,
                                                              "garbage": 1.0}}])
    received: list[tuple[float, int, bytes]] = []  # (exercise s, connection, bytes)
    grams: list[float] = []

    warm_up(sc)  # as a run does: no kernel compiles while the loop should be sending

    async def main() -> None:
        connections = 0

        async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                            ) -> None:
            nonlocal connections
            connections += 1
            mine = connections
            while data := await reader.read(65536):
                received.append((time.time() - start, mine, data))
            writer.close()

        server = await asyncio.start_server(on_client, "127.0.0.1", 0)
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        udp.setblocking(False)
        loop = asyncio.get_running_loop()

        async def radar() -> None:
            while True:
                await loop.sock_recv(udp, 65536)
                grams.append(time.time() - start)

        listening = asyncio.create_task(radar())
        start = time.time() + 0.2
        injector = Injector(sc, ScenarioTraffic(sc, start), {
            "w": ("127.0.0.1", server.sockets[0].getsockname()[1]),
            "r": ("127.0.0.1", udp.getsockname()[1])})
        await injector.run(asyncio.Event())
        await asyncio.sleep(0.3)
        listening.cancel()
        server.close()
        await server.wait_closed()
        udp.close()
        assert injector.logs[0].messages > 100 and injector.logs[1].messages > 0

    asyncio.run(main())
    before = [d for t, c, d in received if t < 2.9]
    during_fail = [d for t, _, d in received if 3.3 < t < 5.9]
    assert before and not during_fail
    assert {c for t, c, _ in received if t < 2.9} == {1}
    assert {c for t, c, _ in received if t > 6.2} == {2}  # reconnected after the failure

    def counted(chunks: list[bytes]) -> tuple[int, int]:
        bad = BadInput(quiet=True)
        framer = BeastFramer(0, bad)
        frames = sum(len(framer.feed(d, 0.0)) for d in chunks)
        return frames, bad.total

    # healthy after the degradation: the first seconds may go to compiling the encoders
    healthy = counted([d for t, _, d in received if 10.2 < t < 12.0])  # 1.8 s
    degraded = counted([d for t, _, d in received if 7.2 < t < 9.8])  # 2.6 s
    assert healthy[1] == 0 and degraded[1] > 0  # noise shows up as bad input
    assert degraded[0] / 2.6 < 0.8 * healthy[0] / 1.8  # and frames went missing
    assert grams and max(grams) > 10  # the radar kept sending throughout
