#!/usr/bin/env python3
"""An independent reader of cosign's encrypted private key format, for tests.

Written from the algorithms' specifications (scrypt: RFC 7914 via Python's
hashlib; XSalsa20: Bernstein's "Extending the Salsa20 nonce"; secretbox:
NaCl's tag-then-ciphertext layout; Poly1305 and PKCS#8 from the
`cryptography` package), so it shares no code with shipgate's TypeScript.

usage: decrypt_cosign_key.py KEYFILE PASSWORD
prints the PKIX public key PEM of the decrypted key; exits 1 on a bad tag.
"""
import base64
import hashlib
import json
import re
import struct
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.poly1305 import Poly1305

MASK = 0xFFFFFFFF
SIGMA = struct.unpack("<4I", b"expand 32-byte k")


def rotl(v, c):
    return ((v << c) & MASK) | (v >> (32 - c))


def rounds(x):
    def qr(a, b, c, d):
        x[b] ^= rotl((x[a] + x[d]) & MASK, 7)
        x[c] ^= rotl((x[b] + x[a]) & MASK, 9)
        x[d] ^= rotl((x[c] + x[b]) & MASK, 13)
        x[a] ^= rotl((x[d] + x[c]) & MASK, 18)

    for _ in range(10):
        qr(0, 4, 8, 12); qr(5, 9, 13, 1); qr(10, 14, 2, 6); qr(15, 3, 7, 11)
        qr(0, 1, 2, 3); qr(5, 6, 7, 4); qr(10, 11, 8, 9); qr(15, 12, 13, 14)


def state(key, words4):
    k = struct.unpack("<8I", key)
    return [SIGMA[0], k[0], k[1], k[2], k[3], SIGMA[1], words4[0], words4[1],
            words4[2], words4[3], SIGMA[2], k[4], k[5], k[6], k[7], SIGMA[3]]


def hsalsa20(key, nonce16):
    x = state(key, struct.unpack("<4I", nonce16))
    rounds(x)
    return struct.pack("<8I", *(x[i] for i in (0, 5, 10, 15, 6, 7, 8, 9)))


def salsa20_stream(key, nonce8, length):
    n = struct.unpack("<2I", nonce8)
    out = bytearray()
    counter = 0
    while len(out) < length:
        inp = state(key, (n[0], n[1], counter & MASK, counter >> 32))
        x = list(inp)
        rounds(x)
        out += struct.pack("<16I", *((x[i] + inp[i]) & MASK for i in range(16)))
        counter += 1
    return bytes(out[:length])


def secretbox_open(sealed, nonce, key):
    subkey = hsalsa20(key, nonce[:16])
    tag, body = sealed[:16], sealed[16:]
    stream = salsa20_stream(subkey, nonce[16:], 32 + len(body))
    Poly1305.verify_tag(stream[:32], body, tag)  # raises InvalidSignature
    return bytes(a ^ b for a, b in zip(body, stream[32:]))


def main():
    text = open(sys.argv[1]).read()
    m = re.search(r"-----BEGIN (ENCRYPTED (?:SIGSTORE|COSIGN) PRIVATE KEY)-----(.*?)-----END \1-----", text, re.S)
    envelope = json.loads(base64.b64decode("".join(m.group(2).split())))
    assert envelope["kdf"]["name"] == "scrypt" and envelope["cipher"]["name"] == "nacl/secretbox"
    p = envelope["kdf"]["params"]
    salt = base64.b64decode(envelope["kdf"]["salt"])
    key = hashlib.scrypt(sys.argv[2].encode(), salt=salt, n=p["N"], r=p["r"], p=p["p"],
                         maxmem=256 * p["N"] * p["r"], dklen=32)
    try:
        der = secretbox_open(base64.b64decode(envelope["ciphertext"]),
                             base64.b64decode(envelope["cipher"]["nonce"]), key)
    except Exception:
        print("bad password", file=sys.stderr)
        sys.exit(1)
    private = serialization.load_der_private_key(der, password=None)
    print(json.dumps({"salt_bytes": len(salt), "nonce_bytes": len(base64.b64decode(envelope["cipher"]["nonce"])),
                      "params": p, "curve": private.curve.name}))
    sys.stdout.write(private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode())


if __name__ == "__main__":
    main()
