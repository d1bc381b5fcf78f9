"""Writes rules/builtin.toml from rulespec.py (run once to bootstrap the
file; since then the TOML file is edited by hand)."""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import rulespec  # noqa: E402
from synth import Synth  # noqa: E402

GLOBAL = {
    "stopwords": ["example", "xxxxxx", "placeholder", "changeme", "change_me", "change-me", "redacted", "dummy",
                  "sample", "your_", "your-", "yourkey", "abcdefghij", "1234567890", "0000000000", "********", "..."],
    "regexes": [r"^\$\{?[A-Za-z_][A-Za-z0-9_.]*\}?$", r"^\{\{.*\}\}$", r"^%[A-Za-z_]+%$", r"^<[^>]*>$",
                r"^(?i:true|false|null|none|nil|undefined)$"],
}


def q(s):
    return json.dumps(s, ensure_ascii=True)


def lit(s):
    assert "'''" not in s
    return "'''" + s + "'''"


def main():
    syn = Synth(798)
    out = ["# Palisade's built-in secret rules.",
           "#",
           "# Format: docs/secrets.md. Ids are stable and never reused; retire a rule by",
           "# deleting it, never by giving its id to another. Every rule carries at least",
           "# one positive and one negative example; `cargo test -p palisade-secrets`",
           "# checks them. All example secrets are synthetic (random, never issued).",
           "",
           "version = 1",
           "",
           "# Applies to every rule: placeholders and template references are never secrets.",
           "[allowlist]",
           "stopwords = [" + ", ".join(q(s) for s in GLOBAL["stopwords"]) + "]",
           "regexes = [" + ", ".join(lit(r) for r in GLOBAL["regexes"]) + "]",
           ""]
    for i, r in enumerate(rulespec.R, start=1):
        out.append("[[rule]]")
        out.append(f'id = "SEC{i:03d}"')
        out.append(f"name = {q(r['name'])}")
        out.append(f"description = {q(r['desc'])}")
        out.append(f"severity = {q(r['sev'])}")
        out.append(f"regex = {lit(r['regex'])}")
        out.append("keywords = [" + ", ".join(q(k) for k in r["kw"]) + "]")
        if r["ent"] is not None:
            out.append(f"entropy = {r['ent']}")
        if r["multiline"]:
            out.append("multiline = true")
        if r["generic"]:
            out.append("generic = true")
        if r["allow"]:
            out.append("[rule.allowlist]")
            for k in ("paths", "stopwords", "regexes", "line_regexes"):
                if r["allow"].get(k):
                    vals = r["allow"][k]
                    f = lit if "regexes" in k else q
                    out.append(f"{k.replace('_', '-')} = [" + ", ".join(f(v) for v in vals) + "]")
        out.append("[rule.examples]")
        out.append("positive = [" + ", ".join(q(syn.expand(t)) for t in r["pos"]) + "]")
        out.append("negative = [" + ", ".join(q(syn.expand(t) if not t.startswith("{\"") else t) for t in r["neg"]) + "]")
        out.append("")
    Path(__file__).parent.parent.joinpath("rules/builtin.toml").write_text("\n".join(out))


main()
