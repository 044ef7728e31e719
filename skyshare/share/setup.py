"""Lay out a federation on disk: NATS servers, credentials, keys and node configurations.

``skyshare federation init DIR --agreements A.yaml`` writes, for every partner the
agreements name::

    DIR/federation.yaml          what was asked (agreements, servers): `serve` reads it
    DIR/nats/                    nats-server configs, TLS (pki/), credentials (creds/)
    DIR/keys/<partner>.key       the partner's signing key (private: hand it over, then
                                 delete it here; or let each node create its own and
                                 collect the .pub files)
    DIR/keys/public/<partner>.pub
    DIR/<partner>/node.yaml      a node configuration with the federation section filled

NATS permissions are derived from the agreements: a partner may subscribe to another's
tracks only while an agreement (not revoked) lets it receive them, and to alerts only
where the agreement lets alerts or hand-overs travel.  Rewriting the files keeps the
passwords, certificates and keys; ``serve`` rewrites them when the agreements change
and reloads the servers, so a revocation closes the server-side wall too.

Cross-border alerts and audit heads travel through JetStream: ``serve`` (and the demo)
create each partner's alerts stream and the shared audit stream as the operator
(:meth:`Layout.ensure_streams`) once the servers run; a node waits for its stream
before it reads alerts or heads.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TextIO

import yaml

from skyshare.errors import ConfigError, SkyshareError
from skyshare.share.agreements import AgreementFiles, AgreementSet, load_agreements
from skyshare.share.keys import NodeKey
from skyshare.share.natsbus import NatsBus
from skyshare.share.natsconf import (
    ADMIN_USER,
    FederationAuth,
    NatsCredentials,
    ServerSpec,
    alert_streams,
    audit_stream,
    write_federation,
)
from skyshare.share.natsserver import NatsCluster, NatsServer

log = logging.getLogger("skyshare.share")

MANIFEST: Final = "federation.yaml"
DEFAULT_NATS_PORT: Final = 4222
DEFAULT_CLUSTER_PORT: Final = 6222


def federation_auth(agreements: AgreementSet) -> FederationAuth:
    """Who may receive what from whom, as the agreements (not revoked) say."""
    grants: dict[str, list[tuple[str, str]]] = {p: [] for p in agreements.partners}
    for a in agreements:
        if a.revoked:
            continue
        grants[a.receiver].append((a.giver, "tracks"))
        if a.alerts or a.handover:
            grants[a.receiver].append((a.giver, "alerts"))
    return FederationAuth.from_grants(grants, agreements.partners)


@dataclass(frozen=True)
class NodeExtras:
    """What a generated node.yaml holds beyond the federation section (the demo's)."""

    http_port: int = 8081
    synthetic: dict[str, Any] | None = None
    airspace: dict[str, Any] | None = None


@dataclass(frozen=True)
class Layout:
    """A federation's folder (see the module docstring)."""

    root: Path
    agreements: tuple[Path, ...]
    servers: tuple[ServerSpec, ...]
    partners: tuple[str, ...] = field(default=())

    @property
    def nats_dir(self) -> Path:
        return self.root / "nats"

    def node_config(self, partner: str) -> Path:
        return self.root / partner / "node.yaml"

    @classmethod
    def load(cls, root: str | Path) -> Layout:
        root = Path(root)
        path = root / MANIFEST
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
            servers = tuple(ServerSpec(name=str(s["name"]), port=int(s["port"]),
                                       cluster_port=s.get("cluster_port"),
                                       store_dir=root / "nats" / "js" / str(s["name"]))
                            for s in doc["servers"])
            return cls(root, tuple(root / str(p) for p in doc["agreements"]), servers,
                       tuple(doc.get("partners", ())))
        except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"not a federation folder ({exc}); create one with "
                              "skyshare federation init", where=str(path)) from exc

    def save(self) -> None:
        doc = {"agreements": [str(p.resolve()) for p in self.agreements],
               "partners": list(self.partners),
               "servers": [{"name": s.name, "port": s.port, "cluster_port": s.cluster_port}
                           for s in self.servers]}
        (self.root / MANIFEST).write_text(yaml.safe_dump(doc, sort_keys=False),
                                          encoding="utf-8")

    def write_nats(self) -> AgreementSet:
        """(Re)write the servers' configuration from the agreements; returns them."""
        agreements = load_agreements(self.agreements)
        write_federation(self.nats_dir, federation_auth(agreements), self.servers)
        return agreements

    def cluster(self) -> NatsCluster:
        return NatsCluster([NatsServer.from_spec(self.nats_dir / f"{s.name}.conf", s)
                            for s in self.servers])

    def ensure_streams(self) -> tuple[str, ...]:
        """Create (or update) every partner's alerts stream and the audit heads stream,
        as the operator, on the running servers: replicated on all three servers of a
        cluster, so an acknowledged alert or head survives the loss of one.  Returns
        the stream names."""
        auth = federation_auth(load_agreements(self.agreements))
        replicas = 3 if len(self.servers) >= 3 else 1
        specs = (*alert_streams(auth, replicas=replicas), audit_stream(auth, replicas=replicas))
        creds = NatsCredentials.load(self.nats_dir / "creds" / f"{ADMIN_USER}.json")

        async def create() -> None:
            bus = NatsBus.from_credentials(creds, name="skyshare:operator")
            await bus.connect()
            try:
                for spec in specs:
                    await bus.ensure_stream(spec)
            finally:
                await bus.close()
        asyncio.run(create())
        return tuple(spec.name for spec in specs)


def server_specs(root: Path, count: int, port: int = DEFAULT_NATS_PORT,
                 cluster_port: int = DEFAULT_CLUSTER_PORT) -> tuple[ServerSpec, ...]:
    if count not in (1, 3):
        raise ConfigError("a federation runs 1 NATS server or a cluster of 3",
                          where="--servers")
    return tuple(ServerSpec(name=f"nats-{i + 1}", port=port + i,
                            cluster_port=cluster_port + i if count > 1 else None,
                            store_dir=root / "nats" / "js" / f"nats-{i + 1}")
                 for i in range(count))


def init_federation(root: str | Path, agreements: Sequence[str | Path], *, servers: int = 1,
                    port: int = DEFAULT_NATS_PORT, cluster_port: int = DEFAULT_CLUSTER_PORT,
                    extras: dict[str, NodeExtras] | None = None) -> Layout:
    """Write (or refresh) a federation folder; see the module docstring."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    paths = tuple(Path(p).resolve() for p in agreements)
    agreement_set = load_agreements(paths)  # all or nothing, before writing anything
    layout = Layout(root, paths, server_specs(root, servers, port, cluster_port),
                    agreement_set.partners)
    layout.save()
    layout.write_nats()
    for i, partner in enumerate(agreement_set.partners):
        key = NodeKey.load_or_create(root / "keys" / f"{partner}.key")
        key.write_public(root / "keys" / "public", partner)
        extra = (extras or {}).get(partner, NodeExtras(http_port=8081 + i))
        _write_node_config(layout, partner, extra)
    return layout


def _write_node_config(layout: Layout, partner: str, extra: NodeExtras) -> None:
    path = layout.node_config(partner)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = {
        "node": {"name": partner, "partner": partner, "http": f"127.0.0.1:{extra.http_port}",
                 "data_dir": str((path.parent / "data").resolve())},
        "federation": {
            "agreements": [str(p) for p in layout.agreements],
            "credentials": str((layout.nats_dir / "creds" / f"{partner}.json").resolve()),
            "public_keys": str((layout.root / "keys" / "public").resolve()),
            "key": str((layout.root / "keys" / f"{partner}.key").resolve()),
        },
    }
    if extra.synthetic is not None:
        doc["synthetic"] = extra.synthetic
    if extra.airspace is not None:
        doc["airspace"] = extra.airspace
    header = (f"# skyshare node of partner {partner}, written by skyshare federation init.\n"
              "# Add its sensors under 'sensors:' (see skyshare run --help).\n")
    path.write_text(header + yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def follow_agreements(layout: Layout, cluster: NatsCluster, seen: AgreementFiles,
                      out: TextIO) -> AgreementFiles:
    """If the agreement files changed since ``seen``, rewrite the servers' permissions
    and reload them (the server-side wall follows a revocation); returns the files now."""
    fresh = AgreementFiles.of(layout.agreements)
    if fresh == seen:
        return seen
    try:
        layout.write_nats()
        cluster.reload()
        print("agreements changed: NATS permissions rewritten and reloaded", file=out,
              flush=True)
    except SkyshareError as exc:
        print(f"agreements not applied to the NATS servers (the previous ones stay): {exc}",
              file=out, flush=True)
    return fresh
