"""Who may do what: the roles of a node's users and the :class:`Actor` code acts for."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """What a user may do; the value is how the store, the CLI and the API spell it."""

    READ_ONLY = "read_only"  # sees the picture and alerts, cannot act
    DUTY_OFFICER = "duty_officer"  # acknowledges, resolves, hands over, accepts alerts
    SUPERVISOR = "supervisor"  # also reopens resolved alerts; receives escalations

    def can_act(self) -> bool:
        """True for roles that may change an alert (duty officer, supervisor)."""
        return self is not Role.READ_ONLY


@dataclass(frozen=True)
class Actor:
    """Who is acting: a logged-in user with the partner and role it had at login."""

    user: str
    partner: str
    role: Role

    def can_act_for(self, partner: str) -> bool:
        """True when this actor may act on an alert of ``partner``: its own partner only."""
        return self.role.can_act() and self.partner == partner
