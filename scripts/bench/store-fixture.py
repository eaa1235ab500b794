#!/usr/bin/env python3
"""store-fixture.py TEMPLATE_STATE OUT_STATE N [DUE_EVERY]

Helper of scripts/bench/store.sh: makes a state directory with N stored
certificate sets for timing `certo list` and a `certo renew` pass over many
sets. TEMPLATE_STATE is a state directory holding one set that certo issued
from a real CA (Pebble): its accounts/, directories/ (the CA's directory,
fresh for a day) and its set's certo.json are copied; every set gets its own
names (s<i>.store.test), its own P-256 key and a certificate for exactly those
names signed by one throw-away CA made here (python3-cryptography), valid for
5 years from yesterday: not due. With DUE_EVERY k > 0, every k-th set is
instead valid from 4 days ago to tomorrow (due by certo's lifetime rule).
Writes nothing outside OUT_STATE; OUT_STATE must not exist.
"""
import datetime
import json
import os
import shutil
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def make_ca():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench store CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=30))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256()))
    return key, cert


def make_leaf(ca_key, ca_cert, names, due):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    if due:
        nb, na = now - datetime.timedelta(days=3), now + datetime.timedelta(days=1)
    else:
        nb, na = now - datetime.timedelta(days=1), now + datetime.timedelta(days=1825)
    ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (x509.CertificateBuilder().subject_name(x509.Name([]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(nb).not_valid_after(na)
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName(n) for n in names]), True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), False)
            .sign(ca_key, hashes.SHA256()))
    keypem = key.private_bytes(serialization.Encoding.PEM,
                               serialization.PrivateFormat.PKCS8,
                               serialization.NoEncryption()).decode()
    return keypem, pem(cert)


def write(path, text, mode):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    tmpl, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    due_every = int(sys.argv[4]) if len(sys.argv) == 5 else 0
    sets = sorted(os.listdir(os.path.join(tmpl, "live")))
    if not sets:
        sys.exit("store-fixture.py: no set in %s/live" % tmpl)
    with open(os.path.join(tmpl, "live", sets[0], "certo.json")) as f:
        config = json.load(f)
    os.makedirs(os.path.join(out, "live"), mode=0o700)
    os.chmod(out, 0o700)
    for sub in ("accounts", "directories"):
        if os.path.isdir(os.path.join(tmpl, sub)):
            shutil.copytree(os.path.join(tmpl, sub), os.path.join(out, sub))
    ca_key, ca_cert = make_ca()
    chain = pem(ca_cert)
    for i in range(n):
        names = ["s%d.store.test" % i, "www.s%d.store.test" % i]
        keypem, leaf = make_leaf(ca_key, ca_cert, names,
                                 due_every > 0 and i % due_every == 0)
        d = os.path.join(out, "live", names[0])
        os.mkdir(d, 0o700)
        config["names"] = names
        write(os.path.join(d, "privkey.pem"), keypem, 0o600)
        write(os.path.join(d, "cert.pem"), leaf, 0o644)
        write(os.path.join(d, "chain.pem"), chain, 0o644)
        write(os.path.join(d, "fullchain.pem"), leaf + chain, 0o644)
        write(os.path.join(d, "certo.json"), json.dumps(config, indent=2), 0o600)


if __name__ == "__main__":
    main()
