package main

import data.lib.kubernetes
import rego.v1

# METADATA
# title: Containers must not run as root
# custom:
#   id: ACME-002
#   severity: high
deny_run_as_root contains msg if {
	kubernetes.is_workload
	some c in kubernetes.containers
	not c.container.securityContext.runAsNonRoot
	not kubernetes.pod_spec.securityContext.runAsNonRoot
	msg := sprintf("%s %s: container %s may run as root (set runAsNonRoot: true)", [kubernetes.kind, kubernetes.name, c.container.name])
}

# Conftest exceptions: legacy workloads are exempt from run_as_root.
exception contains rules if {
	input.metadata.labels["acme.io/legacy"] == "true"
	rules := ["run_as_root"]
}
