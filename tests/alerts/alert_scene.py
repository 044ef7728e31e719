"""The alert tests' world: two partners' regions around a node of partner "home", and
an officer of each kind."""

from __future__ import annotations

from shapely.geometry import box

from skyshare.airspace import Region, Regions
from skyshare.auth import Actor, Role

T0 = 1_790_000_000.0
# partner "west" answers for lon 0..10, "east" for lon 10..20; the node itself is "home"
REGIONS = Regions([Region("west", "West FIR", box(0, 40, 10, 50)),
                   Region("east", "East FIR", box(10, 40, 20, 50))])
WEST_DUTY = Actor("wanda", "west", Role.DUTY_OFFICER)
WEST_SUP = Actor("walt", "west", Role.SUPERVISOR)
WEST_RO = Actor("wes", "west", Role.READ_ONLY)
EAST_DUTY = Actor("erin", "east", Role.DUTY_OFFICER)
HOME_DUTY = Actor("hal", "home", Role.DUTY_OFFICER)
