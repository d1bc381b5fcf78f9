#!/usr/bin/env python3
"""Builds a docker-archive (as `docker save` writes it) from real trees of
this machine, for the image secret-scanning benchmark: layer 1 is the
Python standard library, layer 2 botocore and boto3 from site-packages,
layer 3 deletes botocore's data directory (a whiteout), layer 4 adds an
application with a .env holding synthetic tokens (both tools should find
them). Layers are
uncompressed tars, as in `docker save` output.

With OCI_DIR, the same layers are also written gzip-compressed as an OCI
image layout (as registries serve them).

usage: bench/make_image.py OUT.tar [OCI_DIR]   (PY_TREE: the Python library)
"""
import gzip, hashlib, io, json, os, sys, tarfile

out = sys.argv[1]
oci = sys.argv[2] if len(sys.argv) > 2 else None
py = os.environ.get("PY_TREE", "/root/.pyenv/versions/3.11.7/lib/python3.11")
site = os.path.join(py, "site-packages")
prefix = "usr/lib/python3.11"


def layer(add):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        add(t)
    return buf.getvalue()


def stdlib(t):
    for root, dirs, files in os.walk(py):
        dirs[:] = sorted(d for d in dirs if os.path.join(root, d) != site)
        for f in sorted(files):
            p = os.path.join(root, f)
            if os.path.isfile(p) and not os.path.islink(p):
                t.add(p, arcname=os.path.join(prefix, os.path.relpath(p, py)), recursive=False)


def boto(t):
    for pkg in ("botocore", "boto3"):
        base = os.path.join(site, pkg)
        for root, dirs, files in os.walk(base):
            dirs.sort()
            for f in sorted(files):
                p = os.path.join(root, f)
                if os.path.isfile(p) and not os.path.islink(p):
                    t.add(p, arcname=os.path.join(prefix, "site-packages", os.path.relpath(p, site)), recursive=False)


def whiteout(t):
    info = tarfile.TarInfo(os.path.join(prefix, "site-packages/botocore/.wh.data"))
    t.addfile(info, io.BytesIO(b""))


def app(t):
    env = (b"# synthetic, made up for the benchmark\n"
           b"GITHUB_TOKEN=ghp_Pal1sadeSynthet1cT0kenN0tRea1K3yZq8w\n"
           b"SLACK_BOT_TOKEN=xoxb-2741639802-4917362518342-Pal1sadeFakeT0ken9Zq7XwM\n")
    info = tarfile.TarInfo("srv/app/.env")
    info.size = len(env)
    t.addfile(info, io.BytesIO(env))


layers = [layer(stdlib), layer(boto), layer(whiteout), layer(app)]
diff_ids = ["sha256:" + hashlib.sha256(l).hexdigest() for l in layers]
config = json.dumps({"architecture": "amd64", "os": "linux",
                     "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
config_name = hashlib.sha256(config).hexdigest() + ".json"
names = [d.split(":")[1] + "/layer.tar" for d in diff_ids]
manifest = json.dumps([{"Config": config_name, "RepoTags": ["palisade/bench-python:1"], "Layers": names}]).encode()
with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as t:
    for name, data in [("manifest.json", manifest), (config_name, config)] + list(zip(names, layers)):
        info = tarfile.TarInfo(name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
print(f"{out}: {sum(len(l) for l in layers) / 1e6:.0f} MB in {len(layers)} layers", file=sys.stderr)

if oci:
    os.makedirs(os.path.join(oci, "blobs", "sha256"), exist_ok=True)

    def put(data):
        d = hashlib.sha256(data).hexdigest()
        with open(os.path.join(oci, "blobs", "sha256", d), "wb") as f:
            f.write(data)
        return {"digest": "sha256:" + d, "size": len(data)}

    gz_layers = [dict(mediaType="application/vnd.oci.image.layer.v1.tar+gzip",
                      **put(gzip.compress(l, compresslevel=6, mtime=0))) for l in layers]
    cfg = dict(mediaType="application/vnd.oci.image.config.v1+json", **put(config))
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": cfg, "layers": gz_layers}).encode()
    m = put(manifest)
    with open(os.path.join(oci, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [dict(mediaType="application/vnd.oci.image.manifest.v1+json",
                   platform={"architecture": "amd64", "os": "linux"}, **m)]}, f)
    with open(os.path.join(oci, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion": "1.0.0"}')
    print(f"{oci}: the same layers, gzip, as an OCI layout", file=sys.stderr)
