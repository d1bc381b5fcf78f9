"""Synthetic secrets: expands the templates of `rulespec.py` with a seeded
random generator. Every value produced is random and was never a real
credential."""
import base64
import json
import random
import re

SETS = {
    "a62": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    "a36l": "abcdefghijklmnopqrstuvwxyz0123456789",
    "a36u": "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    "hex": "0123456789abcdef",
    "HEX": "0123456789ABCDEF",
    "b64": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
    "b64u": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
    "dig": "0123456789",
    "low": "abcdefghijklmnopqrstuvwxyz",
    "up": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "alpha": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "b32": "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
    "b32l": "abcdefghijklmnopqrstuvwxyz234567",
    "bech": "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L",
    "dj": "abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*-_=+",
}
BANNED = ("example", "xxxxxx", "1234567890", "0000000000", "abcdefghij", "sample", "dummy", "redacted")


class Synth:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def s(self, charset, n):
        while True:
            v = "".join(self.r.choice(SETS[charset]) for _ in range(n))
            if not any(b in v.lower() for b in BANNED):
                return v

    def uuid(self):
        h = self.s("hex", 32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def b64url(self, obj):
        raw = json.dumps(obj, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def jwt(self):
        head = self.b64url({"alg": "HS256", "typ": "JWT"})
        body = self.b64url({"sub": self.s("a62", 12), "name": "svc-" + self.s("low", 6), "iat": 1700000000 + self.r.randrange(10**7)})
        return f"{head}.{body}.{self.s('b64u', 43)}"

    def k8sjwt(self):
        head = self.b64url({"alg": "RS256", "kid": self.s("b64u", 43)})
        body = self.b64url({"iss": "kubernetes/serviceaccount", "kubernetes.io/serviceaccount/namespace": "default",
                            "kubernetes.io/serviceaccount/secret.name": "app-token-" + self.s("a36l", 5),
                            "sub": "system:serviceaccount:default:app"})
        return f"{head}.{body}.{self.s('b64u', 342)}"

    def k8sboundjwt(self):
        cores = ("Imt1YmVybmV0ZXMuaW8i", "JrdWJlcm5ldGVzLmlvI", "ia3ViZXJuZXRlcy5pbyI")
        while True:
            head = self.b64url({"alg": "RS256", "kid": self.s("b64u", 43)})
            body = self.b64url({"aud": ["https://kubernetes.default.svc.cluster.local"], "exp": 1700000000 + self.r.randrange(10**7),
                                "iat": 1700000000, "iss": "https://kubernetes.default.svc.cluster.local",
                                "kubernetes.io": {"namespace": "default", "serviceaccount": {"name": "app", "uid": self.uuid()}},
                                "sub": "system:serviceaccount:default:app"})
            if any(c in body for c in cores):
                return f"{head}.{body}.{self.s('b64u', 342)}"

    def pem(self, label):
        body = base64.b64encode(bytes(self.r.randrange(256) for _ in range(600))).decode()
        lines = [body[i:i + 64] for i in range(0, len(body), 64)]
        return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----"

    def expand(self, template):
        def one(m):
            spec = m.group(1)
            if spec == "uuid":
                return self.uuid()
            if spec == "jwt":
                return self.jwt()
            if spec == "k8sjwt":
                return self.k8sjwt()
            if spec == "k8sboundjwt":
                return self.k8sboundjwt()
            if spec == "discord":
                return "M" + self.s("a62", 23) + "." + self.s("b64u", 6) + "." + self.s("b64u", 27)
            if spec == "dockerauth":
                return base64.b64encode(f"deploy:{self.s('a62', 24)}".encode()).decode()
            if spec == "basicauth":
                return base64.b64encode(f"deploy:{self.s('a62', 20)}".encode()).decode()
            if spec == "b64pem":
                return base64.b64encode(self.pem("RSA PRIVATE KEY").encode()).decode()
            if spec == "djsecret":
                return self.s("dj", 50)
            if spec == "wgkey":
                return base64.b64encode(bytes(self.r.randrange(256) for _ in range(32))).decode()
            if spec.startswith("pem:"):
                return self.pem(spec[4:])
            name, _, n = spec.partition(":")
            if name not in SETS or not n.isdigit():
                return m.group(0)
            return self.s(name, int(n))
        # `{{` / `}}` are literal braces, as in str.format.
        parts = re.split(r"(\{\{|\}\})", template)
        out = []
        for p in parts:
            if p == "{{":
                out.append("{")
            elif p == "}}":
                out.append("}")
            else:
                out.append(re.sub(r"\{([A-Za-z0-9]+(?::[^{}]+)?)\}", one, p))
        return "".join(out)
