"""Ed25519 node keys: each node signs what it sends, receivers verify against a table.

Why signatures on top of NATS authentication: the NATS server proves which *user*
published a message to the servers' operators, but a receiving node must not have to
trust every server of a shared cluster.  The envelope signature (see
:mod:`skyshare.share.wire`) lets the receiver check the origin itself.

Files:

* the node's private key: PKCS#8 PEM, unencrypted, mode 0600, created on first use;
  a key file readable by group or others is refused (like ssh does);
* public keys of partners: either one mapping file (YAML or JSON:
  ``{partner: base64 of the raw 32-byte key}``) or a directory of ``<partner>.pub``
  files each holding that base64 text.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from skyshare.errors import ConfigError
from skyshare.share.agreements import PARTNER_NAME

SIGNATURE_BYTES = 64
"""Length of an Ed25519 signature."""



def write_private_file(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file that only its owner can read (0600), atomically.

    The file is created with mode 0600 from the start (never world-readable, even
    briefly) and renamed into place, so a crash leaves either no file or a whole one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def check_private_file(path: Path) -> None:
    """Refuse a secret file that group or others may read: say how to fix it."""
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"secret file is readable by others (mode {stat.S_IMODE(mode):o}); "
            f"run: chmod 600 {path}", where=str(path))


@dataclass(frozen=True)
class NodeKey:
    """This node's Ed25519 signing key."""

    private: Ed25519PrivateKey
    path: Path | None = None

    @classmethod
    def generate(cls) -> NodeKey:
        """A fresh key kept in memory only (tests, one-off tools)."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load_or_create(cls, path: str | Path) -> NodeKey:
        """Load the key at ``path``, creating it (mode 0600) on first use."""
        path = Path(path)
        if not path.exists():
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
            write_private_file(path, pem)
            return cls(key, path)
        check_private_file(path)
        try:
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"not an unencrypted PEM private key ({exc}); move it away "
                              "to have a new key created", where=str(path)) from exc
        if not isinstance(loaded, Ed25519PrivateKey):
            raise ConfigError("the node key must be an Ed25519 key; move it away to have "
                              "a new key created", where=str(path))
        return cls(loaded, path)

    def sign(self, data: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``data``."""
        return self.private.sign(data)

    def public_key(self) -> Ed25519PublicKey:
        return self.private.public_key()

    def public_b64(self) -> str:
        """The raw 32-byte public key in base64: what partners put in their key table."""
        raw = self.public_key().public_bytes(serialization.Encoding.Raw,
                                             serialization.PublicFormat.Raw)
        return base64.b64encode(raw).decode("ascii")

    def write_public(self, directory: str | Path, name: str) -> Path:
        """Write ``<directory>/<name>.pub`` (for :meth:`PublicKeys.from_dir`)."""
        out = Path(directory) / f"{name}.pub"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(self.public_b64() + "\n", encoding="ascii")
        return out


def _public_from_b64(text: str, where: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as exc:
        raise ConfigError("expected the base64 of a raw 32-byte Ed25519 public key "
                          "(NodeKey.public_b64())", where=where) from exc


class PublicKeys(Mapping[str, Ed25519PublicKey]):
    """Partner name -> Ed25519 public key: whose signatures this node accepts."""

    def __init__(self, keys: Mapping[str, Ed25519PublicKey]) -> None:
        for name in keys:
            if not PARTNER_NAME.fullmatch(name):
                raise ConfigError(f"bad partner name {name!r}: use lower-case letters, "
                                  "digits and '-' (up to 32), starting with a letter")
        self._keys = dict(keys)

    def __getitem__(self, name: str) -> Ed25519PublicKey:
        return self._keys[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    @classmethod
    def from_b64(cls, mapping: Mapping[str, str], *, where: str = "") -> PublicKeys:
        """From ``{partner: base64 public key}``."""
        return cls({name: _public_from_b64(text, f"{where}:{name}" if where else name)
                    for name, text in mapping.items()})

    @classmethod
    def from_file(cls, path: str | Path) -> PublicKeys:
        """From a YAML or JSON mapping file ``{partner: base64 public key}``."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
            data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        except (OSError, ValueError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read the public-key table: {exc}",
                              where=str(path)) from exc
        if not isinstance(data, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
            raise ConfigError("expected a mapping of partner name to base64 public key",
                              where=str(path))
        return cls.from_b64(data, where=str(path))

    @classmethod
    def from_dir(cls, directory: str | Path) -> PublicKeys:
        """From a directory of ``<partner>.pub`` files (other files are ignored)."""
        directory = Path(directory)
        if not directory.is_dir():
            raise ConfigError("public-key directory not found", where=str(directory))
        return cls({p.stem: _public_from_b64(p.read_text(encoding="ascii"), str(p))
                    for p in sorted(directory.glob("*.pub"))})

    def verify(self, origin: str, signature: bytes, data: bytes) -> bool:
        """True when ``signature`` is ``origin``'s signature of ``data``."""
        key = self._keys.get(origin)
        if key is None:
            return False
        try:
            key.verify(signature, data)
        except InvalidSignature:
            return False
        return True
