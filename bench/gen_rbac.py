#!/usr/bin/env python3
"""Generates a synthetic cluster's RBAC for bench/rbac.sh: ROLES roles,
BINDINGS bindings and SAS service accounts across NAMESPACES namespaces,
plus one Deployment per service account, as one multi-document YAML file.
Deterministic (seeded), realistic rule shapes: read-only viewers,
deployers, operators with CRD groups, a few wildcard and secrets grants.

usage: gen_rbac.py OUT.yaml [ROLES BINDINGS SAS NAMESPACES]
"""
import random
import sys

out = sys.argv[1]
roles_n, bindings_n, sas_n, ns_n = (int(x) for x in (sys.argv[2:6] or [5000, 20000, 2000, 100]))
rnd = random.Random(42)
namespaces = [f"team-{i:03d}" for i in range(ns_n)]
verbs_read = ["get", "list", "watch"]
verbs_write = ["create", "update", "patch", "delete"]
pools = [
    ([""], ["pods", "pods/log", "services", "endpoints", "configmaps"], verbs_read),
    (["apps"], ["deployments", "statefulsets", "daemonsets", "replicasets"], verbs_read + verbs_write),
    ([""], ["secrets"], ["get", "list"]),
    ([""], ["pods/exec", "pods/portforward"], ["create", "get"]),
    (["batch"], ["jobs", "cronjobs"], verbs_read + ["create", "delete"]),
    (["networking.k8s.io"], ["ingresses", "networkpolicies"], verbs_read + verbs_write),
    (["coordination.k8s.io"], ["leases"], ["get", "create", "update"]),
    (["example.com"], ["widgets", "widgets/status", "gadgets"], verbs_read + verbs_write),
    ([""], ["events"], ["create", "patch"]),
    (["*"], ["*"], ["get", "list"]),
    ([""], ["serviceaccounts/token"], ["create"]),
]
docs = []


def q(xs):
    return "[" + ", ".join(f'"{x}"' for x in xs) + "]"


def rules_yaml():
    lines = []
    for _ in range(rnd.randint(1, 6)):
        groups, resources, verbs = rnd.choice(pools)
        res = rnd.sample(resources, rnd.randint(1, len(resources)))
        vs = rnd.sample(verbs, rnd.randint(1, len(verbs)))
        lines.append(f"  - apiGroups: {q(groups)}\n    resources: {q(res)}\n    verbs: {q(vs)}")
        if rnd.random() < 0.05:
            lines[-1] += f"\n    resourceNames: {q(['name-' + str(rnd.randint(0, 9))])}"
    return "rules:\n" + "\n".join(lines)


cluster_roles = []
roles = []
for i in range(roles_n):
    if i % 5 == 0:
        name = f"cr-{i:05d}"
        labels = f"\n  labels:\n    example.com/aggregate-to-tier: \"{i % 7}\"" if i % 3 == 0 else ""
        agg = ""
        if i % 97 == 0:
            agg = f"\naggregationRule:\n  clusterRoleSelectors:\n    - matchLabels: {{example.com/aggregate-to-tier: \"{i % 7}\"}}"
        docs.append(f"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: {name}{labels}{agg}\n{rules_yaml()}")
        cluster_roles.append(name)
    else:
        ns = rnd.choice(namespaces)
        name = f"role-{i:05d}"
        docs.append(f"apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: {name}\n  namespace: {ns}\n{rules_yaml()}")
        roles.append((ns, name))

sas = []
for i in range(sas_n):
    ns = namespaces[i % ns_n]
    name = f"sa-{i:04d}"
    sas.append((ns, name))
    docs.append(f"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}\n  namespace: {ns}")
    docs.append(
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i:04d}\n  namespace: {ns}\nspec:\n"
        f"  selector:\n    matchLabels: {{app: app-{i:04d}}}\n  template:\n    metadata:\n      labels: {{app: app-{i:04d}}}\n"
        f"    spec:\n      serviceAccountName: {name}\n      containers:\n        - name: app\n          image: registry.example.com/app:{i % 50}.0"
    )


def subject():
    r = rnd.random()
    if r < 0.6:
        ns, name = rnd.choice(sas)
        return f"  - kind: ServiceAccount\n    name: {name}\n    namespace: {ns}"
    if r < 0.85:
        return f"  - apiGroup: rbac.authorization.k8s.io\n    kind: User\n    name: user-{rnd.randint(0, 999):03d}@example.com"
    return f"  - apiGroup: rbac.authorization.k8s.io\n    kind: Group\n    name: group-{rnd.randint(0, 99):02d}"


for i in range(bindings_n):
    subjects = "\n".join(subject() for _ in range(rnd.randint(1, 3)))
    if i % 10 == 0:
        docs.append(
            f"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: crb-{i:05d}\n"
            f"roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {rnd.choice(cluster_roles)}}}\nsubjects:\n{subjects}"
        )
    elif rnd.random() < 0.5:
        ns, role = rnd.choice(roles)
        docs.append(
            f"apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: rb-{i:05d}\n  namespace: {ns}\n"
            f"roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: {role}}}\nsubjects:\n{subjects}"
        )
    else:
        ns = rnd.choice(namespaces)
        docs.append(
            f"apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: rb-{i:05d}\n  namespace: {ns}\n"
            f"roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {rnd.choice(cluster_roles)}}}\nsubjects:\n{subjects}"
        )

with open(out, "w") as f:
    f.write("\n---\n".join(docs) + "\n")
print(f"{out}: {roles_n} roles, {bindings_n} bindings, {sas_n} service accounts, {len(docs)} documents", file=sys.stderr)
