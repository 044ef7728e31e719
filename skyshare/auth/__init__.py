"""Users, roles, passwords and login sessions of a node.

A node serves the duty officers of one or more partners (air navigation services).
Each user belongs to one partner and has one :class:`Role`; code that acts on an alert
takes an :class:`Actor` and checks ``actor.can_act_for(partner)``, so nobody acts for
another partner.

- :mod:`~skyshare.auth.roles`: :class:`Role`, :class:`Actor`;
- :mod:`~skyshare.auth.passwords`: scrypt hashes that carry their own parameters;
- :mod:`~skyshare.auth.store`: :class:`UserStore`, one SQLite file that the node reads
  while ``skyshare users`` edits it;
- :mod:`~skyshare.auth.sessions`: :class:`Sessions` (tokens in memory) and the
  :class:`LoginThrottle` that slows password guessing.

Log in from the network through :meth:`Sessions.login`: it throttles guessing, and a
failed login gives the same answer (``AuthError`` reason ``bad_credentials``, message
"wrong user name or password") and takes the same time whether or not the name exists.
"""

from skyshare.auth.passwords import MIN_PASSWORD_CHARS, hash_password, verify_password
from skyshare.auth.roles import Actor, Role
from skyshare.auth.sessions import LoginThrottle, Sessions
from skyshare.auth.store import LOGIN_FAILED, USERS_FILE, UserInfo, UserStore, UserStoreError

__all__ = [
    "LOGIN_FAILED",
    "MIN_PASSWORD_CHARS",
    "USERS_FILE",
    "Actor",
    "LoginThrottle",
    "Role",
    "Sessions",
    "UserInfo",
    "UserStore",
    "UserStoreError",
    "hash_password",
    "verify_password",
]
