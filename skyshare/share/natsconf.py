"""nats-server configuration for a federation: users, permissions, TLS, cluster, JetStream.

Why the server enforces permissions although the sender filters by agreement: the
NATS permissions are the second lock.  A partner's credentials can only

* publish ``sky.status.<me>.*`` and ``sky.<kind>.<me>.<to>`` for each flow some
  receiver was granted from it (the mirror of the grants: so a stream never holds
  traffic its reader was not granted), and
* subscribe ``sky.<kind>.<giver>.<me>`` for each flow it was granted,
  ``sky.status.*.<me>`` and its own inbox prefix ``_INBOX_<me>.>`` (clients must
  connect with ``inbox_prefix=f"_INBOX_{me}"``: see :class:`NatsCredentials`).

Audit heads (:mod:`~skyshare.share.auditshare`): a partner may publish its own heads
on ``sky.audit.<me>`` and read the one stream ``sky-audit`` (every partner's heads)
through the durable consumer named after itself, and no other.

Everything else is refused by the server (a permissions violation reported to the
client, the message not delivered).  Rewriting the files with fewer grants and sending
SIGHUP (:meth:`NatsServer.reload`) revokes: the server drops subscriptions that are no
longer allowed.  There is no anonymous user (``no_auth_user`` is never set) and client
connections must use TLS with a certificate from the federation CA (:mod:`pki`).

JetStream (durable alerts): one stream per receiving partner, ``sky-alerts-<me>`` over
``sky.alerts.*.<me>`` (see :func:`alert_streams`), created by the federation operator
with the ``_admin`` credentials.  A partner may use the JetStream API only on its own
stream: read its info, create/inspect/delete pull consumers and fetch and ack their
messages.  ``jetstream { sync_interval: always }`` makes a server fsync every write
before it acknowledges it, so an acknowledged alert survives a power cut of that
server (not only a process crash): the cost is write latency, acceptable for the low
rate of alerts.  The audit stream ``sky-audit`` (:func:`audit_stream`) is created the
same way; it keeps heads for :data:`AUDIT_MAX_AGE_S`, the longest a partner's node may be
down and still catch up on every head.

Files written by :func:`write_federation` under its directory::

    pki/ca.pem, pki/ca.key, pki/<server>.pem, pki/<server>.key   (keys 0600)
    creds/<partner>.json, creds/_admin.json                       (0600)
    secrets.json   route password and the partners' passwords     (0600)
    <server>.conf  one per server                                  (0600: holds passwords)

A credentials file is JSON: ``{"user", "password", "urls": [...], "ca_file",
"inbox_prefix"}``; ``ca_file`` is absolute.  Writing again keeps every password and
certificate, so only permissions change on reload.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from skyshare.errors import ConfigError
from skyshare.share.agreements import PARTNER_NAME
from skyshare.share.keys import check_private_file, write_private_file
from skyshare.share.pki import CertificateAuthority, issue, make_ca

ADMIN_USER = "_admin"
"""The operator's user (all permissions); a partner name can never start with '_'."""
ROUTE_USER = "_route"
ACCOUNT = "SKY"
MAX_PAYLOAD = 8 * 1024 * 1024
"""8 MB: a tracks message of 20,000 rows is about 2.2 MB (NATS' default is 1 MB)."""
GRANTABLE_KINDS = frozenset({"tracks", "alerts", "status"})


def inbox_prefix(partner: str) -> str:
    return f"_INBOX_{partner}"


AUDIT_STREAM = "sky-audit"
AUDIT_MAX_AGE_S = 30 * 24 * 3600.0


def alerts_stream_name(partner: str) -> str:
    return f"sky-alerts-{partner}"


def audit_subject(partner: str) -> str:
    """Where ``partner`` publishes its audit heads (one subject per partner, no receiver:
    every partner reads them all)."""
    return f"sky.audit.{partner}"


@dataclass(frozen=True)
class FederationAuth:
    """Who may receive what: ``grants`` holds (giver, receiver, kind) flows."""

    partners: tuple[str, ...]
    grants: frozenset[tuple[str, str, str]]

    def __post_init__(self) -> None:
        for name in self.partners:
            if not PARTNER_NAME.fullmatch(name):
                raise ConfigError(f"bad partner name {name!r}: lower-case letters, digits "
                                  "and '-' (up to 32), starting with a letter")
        for giver, receiver, kind in self.grants:
            if giver not in self.partners or receiver not in self.partners:
                raise ConfigError(f"grant {giver} -> {receiver} names an unknown partner")
            if kind not in GRANTABLE_KINDS or giver == receiver:
                raise ConfigError(f"bad grant {giver} -> {receiver} ({kind})")

    @classmethod
    def from_grants(cls, grants: Mapping[str, Iterable[tuple[str, str]]],
                    partners: Iterable[str] = ()) -> FederationAuth:
        """From ``receiver -> [(giver, kind), ...]``; partners default to those named."""
        flows = frozenset((giver, receiver, kind) for receiver, items in grants.items()
                          for giver, kind in items)
        names = set(partners) | set(grants) | {g for g, _, _ in flows}
        return cls(tuple(sorted(names)), flows)

    def permissions(self, me: str) -> Permissions:
        """The subjects ``me`` may publish to and subscribe to (never empty lists:
        an empty allow list would mean 'allow all' to nats-server)."""
        stream = alerts_stream_name(me)
        js = "$JS.API"
        publish = [f"sky.status.{me}.*"]
        publish += sorted({f"sky.{k}.{me}.{r}" for g, r, k in self.grants
                           if g == me and k != "status"})
        publish += [f"{js}.INFO", f"{js}.STREAM.INFO.{stream}",
                    f"{js}.CONSUMER.CREATE.{stream}", f"{js}.CONSUMER.CREATE.{stream}.>",
                    f"{js}.CONSUMER.DURABLE.CREATE.{stream}.*",
                    f"{js}.CONSUMER.INFO.{stream}.*", f"{js}.CONSUMER.DELETE.{stream}.*",
                    f"{js}.CONSUMER.NAMES.{stream}", f"{js}.CONSUMER.LIST.{stream}",
                    f"{js}.CONSUMER.MSG.NEXT.{stream}.*", f"$JS.ACK.{stream}.>"]
        publish += [audit_subject(me), *_audit_consumer_api(me)]
        subscribe = sorted({f"sky.{k}.{g}.{me}" for g, r, k in self.grants
                            if r == me and k != "status"})
        subscribe += [f"sky.status.*.{me}", f"{inbox_prefix(me)}.>"]
        return Permissions(tuple(publish), tuple(subscribe))


def _audit_consumer_api(me: str) -> list[str]:
    """The JetStream API on ``sky-audit`` for the consumer named ``me`` only: create or
    bind it, pull and acknowledge; no other consumer, no stream management."""
    js, stream = "$JS.API", AUDIT_STREAM
    return [f"{js}.CONSUMER.CREATE.{stream}.{me}", f"{js}.CONSUMER.CREATE.{stream}.{me}.>",
            f"{js}.CONSUMER.DURABLE.CREATE.{stream}.{me}",
            f"{js}.CONSUMER.INFO.{stream}.{me}", f"{js}.CONSUMER.MSG.NEXT.{stream}.{me}",
            f"$JS.ACK.{stream}.{me}.>"]


@dataclass(frozen=True)
class Permissions:
    """NATS subject patterns a user may publish / subscribe to; all else is denied."""

    publish: tuple[str, ...]
    subscribe: tuple[str, ...]


@dataclass(frozen=True)
class StreamSpec:
    """A JetStream stream the operator creates (see NatsBus.ensure_stream)."""

    name: str
    subjects: tuple[str, ...]
    replicas: int = 1
    duplicate_window_s: float = 600.0
    max_age_s: float = 7 * 24 * 3600.0


def alert_streams(auth: FederationAuth, *, replicas: int) -> tuple[StreamSpec, ...]:
    """One durable alerts stream per receiving partner (R3 on a cluster, R1 alone)."""
    return tuple(StreamSpec(alerts_stream_name(p), (f"sky.alerts.*.{p}",), replicas)
                 for p in auth.partners)


def audit_stream(auth: FederationAuth, *, replicas: int) -> StreamSpec:
    """The one stream of every partner's audit heads (R3 on a cluster, R1 alone)."""
    return StreamSpec(AUDIT_STREAM, tuple(audit_subject(p) for p in auth.partners), replicas,
                      max_age_s=AUDIT_MAX_AGE_S)


@dataclass(frozen=True)
class ServerSpec:
    """One nats-server of the federation (all on loopback in tests)."""

    name: str
    port: int
    host: str = "127.0.0.1"
    cluster_port: int | None = None
    http_port: int | None = None
    store_dir: Path | None = None
    """JetStream storage; None: this server runs no JetStream."""

    @property
    def url(self) -> str:
        return f"tls://{self.host}:{self.port}"


@dataclass(frozen=True)
class NatsCredentials:
    """What a node needs to connect: read from ``creds/<partner>.json``."""

    user: str
    password: str
    urls: tuple[str, ...]
    ca_file: Path
    inbox_prefix: str

    @classmethod
    def load(cls, path: str | Path) -> NatsCredentials:
        path = Path(path)
        try:
            check_private_file(path)
            doc = json.loads(path.read_text(encoding="utf-8"))
            creds = cls(str(doc["user"]), str(doc["password"]),
                        tuple(str(u) for u in doc["urls"]),
                        path.parent / str(doc["ca_file"]), str(doc["inbox_prefix"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"cannot read NATS credentials ({exc}); they are written by "
                              "write_federation()", where=str(path)) from exc
        return creds

    def save(self, path: Path) -> None:
        doc = {"user": self.user, "password": self.password, "urls": list(self.urls),
               "ca_file": str(self.ca_file.resolve()), "inbox_prefix": self.inbox_prefix}
        write_private_file(path, json.dumps(doc, indent=2).encode() + b"\n")


@dataclass(frozen=True)
class FederationFiles:
    """What :func:`write_federation` wrote."""

    configs: Mapping[str, Path]
    """server name -> its config file"""
    creds: Mapping[str, Path]
    """user (partner names and ADMIN_USER) -> credentials file"""
    ca: CertificateAuthority


def write_federation(directory: str | Path, auth: FederationAuth,
                     servers: Sequence[ServerSpec], *, cluster: str = "skyshare",
                     sync_always: bool = True) -> FederationFiles:
    """Write (or rewrite, keeping passwords and certificates) every file of a federation.

    With more than one server they form a cluster (each needs a ``cluster_port``).
    Rewrite then :meth:`NatsServer.reload` each server to apply changed grants.
    """
    root = Path(directory)
    if len(servers) > 1 and any(s.cluster_port is None for s in servers):
        raise ConfigError("every server of a cluster needs a cluster_port")
    ca = make_ca(root / "pki")
    for server in servers:
        if not (root / "pki" / f"{server.name}.pem").exists():
            issue(ca, server.name, dns=("localhost",), ips=(server.host,))
    secret = _load_secrets(root / "secrets.json", [*auth.partners, ADMIN_USER, ROUTE_USER])
    urls = tuple(s.url for s in servers)
    creds: dict[str, Path] = {}
    for user in (*auth.partners, ADMIN_USER):
        creds[user] = root / "creds" / f"{user}.json"
        prefix = inbox_prefix(user) if user != ADMIN_USER else "_INBOX"
        NatsCredentials(user, secret[user], urls, ca.cert_file, prefix).save(creds[user])
    configs: dict[str, Path] = {}
    for server in servers:
        text = render_config(server, servers, auth, secret, pki_dir=root / "pki",
                             cluster=cluster, sync_always=sync_always)
        configs[server.name] = root / f"{server.name}.conf"
        write_private_file(configs[server.name], text.encode())
    return FederationFiles(configs, creds, ca)


def _load_secrets(path: Path, users: Sequence[str]) -> dict[str, str]:
    """Passwords by user, kept across rewrites; new users get a new random one."""
    known: dict[str, str] = {}
    if path.exists():
        check_private_file(path)
        try:
            known = {str(k): str(v) for k, v in json.loads(path.read_text()).items()}
        except (ValueError, AttributeError) as exc:
            raise ConfigError(f"unreadable ({exc}); delete it to make new passwords",
                              where=str(path)) from exc
    missing = [u for u in users if u not in known]
    if missing:
        known.update({u: secrets.token_urlsafe(24) for u in missing})
        write_private_file(path, json.dumps(known, indent=2, sort_keys=True).encode())
    return known


def _q(text: str | Path) -> str:
    """A quoted config string: no variable ($...) interpolation, escapes as JSON."""
    return json.dumps(str(text))


def _list(items: Iterable[str]) -> str:
    return "[" + ", ".join(_q(i) for i in items) + "]"


def render_config(server: ServerSpec, servers: Sequence[ServerSpec], auth: FederationAuth,
                  passwords: Mapping[str, str], *, pki_dir: Path, cluster: str = "skyshare",
                  sync_always: bool = True) -> str:
    """The nats-server configuration text of ``server``."""
    tls = (f"  cert_file: {_q(pki_dir / (server.name + '.pem'))}\n"
           f"  key_file: {_q(pki_dir / (server.name + '.key'))}\n"
           f"  ca_file: {_q(pki_dir / 'ca.pem')}\n  timeout: 2\n")
    lines = ["# written by skyshare.share.natsconf; rewrite it with write_federation()",
             f"server_name: {_q(server.name)}", f"listen: {_q(f'{server.host}:{server.port}')}",
             f"max_payload: {MAX_PAYLOAD}", "tls {", tls + "}"]
    if server.http_port is not None:
        lines.append(f"http: {_q(f'{server.host}:{server.http_port}')}")
    users = [f"      {{user: {_q(ADMIN_USER)}, password: {_q(passwords[ADMIN_USER])}}}"]
    for partner in auth.partners:
        perms = auth.permissions(partner)
        users.append(
            f"      {{user: {_q(partner)}, password: {_q(passwords[partner])},\n"
            f"       permissions: {{publish: {{allow: {_list(perms.publish)}}},\n"
            f"                     subscribe: {{allow: {_list(perms.subscribe)}}}}}}}")
    js = " jetstream: enabled," if server.store_dir is not None else ""
    lines += [f"accounts {{\n  {ACCOUNT} {{{js}\n    users: [\n" + ",\n".join(users)
              + "\n    ]\n  }\n}"]
    if server.store_dir is not None:
        sync = "  sync_interval: always\n" if sync_always else ""
        lines.append(f"jetstream {{\n  store_dir: {_q(server.store_dir)}\n{sync}}}")
    if len(servers) > 1:
        lines.append(_cluster_block(server, servers, passwords[ROUTE_USER], cluster, tls))
    return "\n".join(lines) + "\n"


def _cluster_block(server: ServerSpec, servers: Sequence[ServerSpec], password: str,
                   name: str, tls: str) -> str:
    """Routes authenticate with a password and mutual TLS (certificates of the CA)."""
    routes = [f"nats-route://{ROUTE_USER}:{password}@{s.host}:{s.cluster_port}"
              for s in servers if s.name != server.name]
    return (f"cluster {{\n  name: {_q(name)}\n"
            f"  listen: {_q(f'{server.host}:{server.cluster_port}')}\n"
            f"  authorization {{ user: {_q(ROUTE_USER)}, password: {_q(password)}, "
            f"timeout: 2 }}\n  tls {{\n{tls}  verify: true\n  }}\n"
            f"  routes: {_list(routes)}\n}}")
