"""``skyshare federation``: set up, serve and demonstrate a federation of nodes."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

EPILOG = """\
examples:
  skyshare federation demo                  three partners on loopback, each with a map
  skyshare federation init fed --agreements agreements/
  skyshare federation serve fed             run the NATS server(s) of folder fed
  skyshare run fed/west/node.yaml           a partner's node (add its sensors first)

The agreements decide everything that flows: 'skyshare agreements check PATH' shows
what each partner receives from each other partner.
"""


def cmd_init(args: argparse.Namespace) -> int:
    from skyshare.share.setup import init_federation

    layout = init_federation(args.dir, args.agreements, servers=args.servers,
                             port=args.nats_port)
    print(f"federation folder {layout.root} written for partners "
          f"{', '.join(layout.partners)}:")
    print(f"  NATS: {', '.join(s.url for s in layout.servers)} "
          f"(start with: skyshare federation serve {layout.root})")
    for p in layout.partners:
        print(f"  {p:10} skyshare run {layout.node_config(p)}")
    print(f"Each node's signing key is in {layout.root / 'keys'}: hand each partner its "
          "own .key and keep only the public/ folder elsewhere.")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from skyshare.share.agreements import AgreementFiles
    from skyshare.share.setup import Layout, follow_agreements

    layout = Layout.load(args.dir)
    layout.write_nats()
    cluster = layout.cluster()
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    cluster.start()
    try:
        streams = layout.ensure_streams()
    except BaseException:
        cluster.stop()
        raise
    print(f"NATS serving {', '.join(cluster.urls)} for {', '.join(layout.partners)} "
          f"(streams: {', '.join(streams)}); agreement edits are applied to the "
          "permissions within seconds. Ctrl-C stops.", flush=True)
    files = AgreementFiles.of(layout.agreements)
    try:
        while not stopping:
            time.sleep(1.0)
            files = follow_agreements(layout, cluster, files, sys.stdout)
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from skyshare.share.demo import DemoOptions, run_demo

    return run_demo(DemoOptions(root=Path(args.dir), aircraft=args.aircraft, seed=args.seed,
                                base_port=args.port, nats_port=args.nats_port,
                                incident_every_s=args.incident_every))


def add_federation_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fed = sub.add_parser("federation", help="set up, serve or demonstrate a federation",
                         description="Partners share their pictures over NATS under "
                                     "bilateral agreements that each sending node enforces.",
                         epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    fsub = fed.add_subparsers(dest="federation_command", required=True, metavar="ACTION")

    demo = fsub.add_parser("demo", help="a NATS server and three partner nodes on loopback",
                           description="Start a NATS server and the nodes of three fictional "
                                       "partners (west, central, east) sharing under different "
                                       "agreements, each with its own map URL, and run until "
                                       "Ctrl-C.")
    demo.add_argument("--dir", default="var/federation", help="default var/federation")
    demo.add_argument("--aircraft", type=int, default=600, help="default 600")
    demo.add_argument("--seed", type=int, default=1, help="traffic seed (default 1)")
    demo.add_argument("--port", type=int, default=8081,
                      help="first HTTP port; the nodes use PORT, PORT+1, PORT+2 (default 8081)")
    demo.add_argument("--nats-port", type=int, default=4222, help="default 4222")
    demo.add_argument("--incident-every", type=float, default=90.0, metavar="S",
                      help="an emergency squawk every S seconds (default 90; 0: none)")
    demo.set_defaults(func=cmd_demo)

    init = fsub.add_parser("init", help="write a federation folder from agreements",
                           description="Write NATS server configuration (TLS, one user per "
                                       "partner, permissions from the agreements), signing "
                                       "keys and a node.yaml per partner into DIR. Running it "
                                       "again keeps passwords, certificates and keys.")
    init.add_argument("dir", help="the federation folder to write")
    init.add_argument("--agreements", nargs="+", required=True, metavar="PATH",
                      help="agreement files or folders")
    init.add_argument("--servers", type=int, choices=(1, 3), default=1,
                      help="one NATS server, or a cluster of three (default 1)")
    init.add_argument("--nats-port", type=int, default=4222,
                      help="client port of the first server (default 4222)")
    init.set_defaults(func=cmd_init)

    serve = fsub.add_parser("serve", help="run the NATS server(s) of a federation folder",
                            description="Start the folder's NATS server(s) and keep their "
                                        "permissions in step with the agreement files.")
    serve.add_argument("dir", help="a folder written by 'skyshare federation init'")
    serve.set_defaults(func=cmd_serve)
