"""A federation certificate authority and the TLS certificates of its NATS servers.

Why a private CA: the federation's NATS servers and clients are known in advance, so
they trust one CA created for the federation instead of the public web PKI.  Every
client verifies the server's certificate against ``ca.pem`` (the ``ca_file`` of its
credentials); servers verify each other's route certificates the same way.

Layout written by :func:`make_ca` and :func:`issue` (keys 0600, certificates 0644)::

    <dir>/ca.pem  <dir>/ca.key
    <dir>/<name>.pem  <dir>/<name>.key

Keys are ECDSA P-256 (fast to make, accepted by Go's and Python's TLS).  Leaf
certificates carry both serverAuth and clientAuth so one certificate serves a server
on its client port and on its cluster routes (where it is also the TLS client).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from skyshare.errors import ConfigError
from skyshare.share.keys import check_private_file, write_private_file

_FILE_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class CertificateAuthority:
    """The federation's CA: its certificate and key files."""

    cert_file: Path
    key_file: Path


@dataclass(frozen=True)
class IssuedCert:
    """A certificate and its key, both PEM files."""

    cert_file: Path
    key_file: Path


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def make_ca(directory: str | Path, *, name: str = "skyshare federation CA",
            days: int = 3650) -> CertificateAuthority:
    """Create the CA in ``directory`` unless it exists there already (then load it)."""
    directory = Path(directory)
    ca = CertificateAuthority(directory / "ca.pem", directory / "ca.key")
    if ca.cert_file.exists() and ca.key_file.exists():
        check_private_file(ca.key_file)
        return ca
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, crl_sign=True,
            content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    write_private_file(ca.key_file, _key_pem(key))
    ca.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return ca


def _load_ca(ca: CertificateAuthority) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    try:
        cert = x509.load_pem_x509_certificate(ca.cert_file.read_bytes())
        key = serialization.load_pem_private_key(ca.key_file.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot load the federation CA: {exc}; make it with make_ca()",
                          where=str(ca.cert_file)) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ConfigError("the CA key is not an EC key made by make_ca()",
                          where=str(ca.key_file))
    return cert, key


def issue(ca: CertificateAuthority, name: str, *, dns: Sequence[str] = ("localhost",),
          ips: Sequence[str] = ("127.0.0.1",), days: int = 825,
          directory: str | Path | None = None) -> IssuedCert:
    """Issue ``<directory>/<name>.pem`` + ``.key`` (default: beside the CA), valid for
    the given DNS names and IP addresses.  Issuing again replaces them."""
    if not _FILE_NAME_RE.fullmatch(name):
        raise ConfigError("a certificate name must be letters, digits, '.', '_' or '-'",
                          where=repr(name))
    ca_cert, ca_key = _load_ca(ca)
    out = Path(directory) if directory is not None else ca.cert_file.parent
    key = ec.generate_private_key(ec.SECP256R1())
    try:
        alt_names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
        alt_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    except ValueError as exc:
        raise ConfigError(f"bad certificate name or address: {exc}", where=name) from exc
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                              ExtendedKeyUsageOID.CLIENT_AUTH]),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    issued = IssuedCert(out / f"{name}.pem", out / f"{name}.key")
    write_private_file(issued.key_file, _key_pem(key))
    issued.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return issued
