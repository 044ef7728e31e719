"""What ``skyshare demo`` adds to a bare node so that every feature has something to
show: fictional responsibility regions of three partners and restricted volumes under
busy synthetic routes (both shipped in ``skyshare/data``), a simulated radar near
Frankfurt (ASTERIX over UDP), an emergency squawk or a transponder switched off now and
then, and log-ins for each partner's duty officer."""

from __future__ import annotations

import os
import secrets
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Final

from skyshare.auth import USERS_FILE, Role, UserStore
from skyshare.config import AirspaceConfig, NodeConfig, SyntheticConfig

PARTNER: Final = "central"  # the demo node's own partner
RADAR: Final = (50.03, 8.57, 150.0)  # lat, lon, antenna height (m): near Frankfurt
LOGINS_FILE: Final = "demo-logins.txt"
DEMO_USERS: Final = (
    ("west-duty", "west", Role.DUTY_OFFICER),
    ("central-duty", "central", Role.DUTY_OFFICER),
    ("central-super", "central", Role.SUPERVISOR),
    ("east-duty", "east", Role.DUTY_OFFICER),
    ("viewer", "central", Role.READ_ONLY),
)


def _data(name: str) -> Path:
    return Path(str(resources.files("skyshare") / "data" / name))


def demo_config(config: NodeConfig, *, incident_every_s: float = 60.0) -> NodeConfig:
    """``config`` with the demo's partner, airspace and incidents."""
    synthetic = config.synthetic or SyntheticConfig()
    return replace(
        config, partner=PARTNER,
        airspace=AirspaceConfig(volumes=(_data("demo-airspace.openair"),),
                                regions=(_data("demo-regions.geojson"),)),
        synthetic=replace(synthetic, incident_every_s=incident_every_s,
                          transponder_incidents=(*RADAR[:2], 80.0),
                          radar=synthetic.radar if synthetic.radar is not None else RADAR))


def ensure_demo_users(data_dir: Path) -> tuple[Path, bool]:
    """Create the demo users with random passwords (once) and write them to
    ``<data_dir>/demo-logins.txt`` (readable by the owner only).  Returns the file and
    whether it was created now."""
    data_dir.mkdir(parents=True, exist_ok=True)
    logins = data_dir / LOGINS_FILE
    store = UserStore(data_dir / USERS_FILE)
    existing = {u.user for u in store.users()}
    if logins.exists() and existing >= {u for u, _, _ in DEMO_USERS}:
        return logins, False
    lines = ["# skyshare demo log-ins (user  password  partner  role)"]
    for user, partner, role in DEMO_USERS:
        password = secrets.token_urlsafe(12)
        if user in existing:
            store.set_password(user, password)
        else:
            store.add(user, partner, role, password)
        lines.append(f"{user:14} {password}  {partner:8} {role.value}")
    fd = os.open(logins, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return logins, True
