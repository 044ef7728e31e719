"""The ``federation:`` section of a node's configuration.

Example (paths relative to the node's YAML file)::

    federation:
      agreements: [agreements/]          # files or folders of agreement YAML (all partners')
      nats: [tls://127.0.0.1:4222]       # the federation's NATS servers
      credentials: creds/central.json    # this partner's NATS user, password and CA
      public_keys: keys/                 # <partner>.pub: the partners' signing keys
      key: keys/central.key              # signing key (default <data_dir>/federation.key)

``skyshare federation init`` writes all of these for a set of agreements.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

from skyshare.config_fields import PATH, PATHS, require_positive
from skyshare.errors import ConfigError


@dataclass(frozen=True)
class FederationConfig:
    """How a node joins a federation; every interval has a working default."""

    agreements: tuple[Path, ...] = field(default=(), metadata=PATHS)
    nats: tuple[str, ...] = ()
    credentials: Path | None = field(default=None, metadata=PATH)
    public_keys: Path | None = field(default=None, metadata=PATH)
    key: Path | None = field(default=None, metadata=PATH)
    status_interval_s: float = 1.0
    """How often the node tells each partner it is alive (and what it sent and got)."""
    lagging_after_s: float = 3.0
    """A partner heard from less recently than this, or this far behind, is lagging."""
    down_after_s: float = 10.0
    """A partner heard from less recently than this is down."""
    partner_timeout_s: float = 60.0
    """A partner's track not updated for this long leaves the picture."""
    reload_every_s: float = 1.0
    """How often the agreement files are checked for changes (revocation takes effect)."""

    def __post_init__(self) -> None:
        require_positive(self, "federation",
                         tuple(f.name for f in fields(self) if f.name.endswith("_s")),
                         "number of seconds")
        if not self.lagging_after_s < self.down_after_s:
            raise ConfigError("lagging_after_s must be shorter than down_after_s",
                              where="federation")
        for url in self.nats:
            if not url.startswith(("tls://", "nats://")):
                raise ConfigError(f"NATS server {url!r} must be tls://HOST:PORT (or nats:// "
                                  "behind a TLS-terminating tunnel)", where="federation.nats")
