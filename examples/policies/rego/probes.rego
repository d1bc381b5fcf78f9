package main

import data.lib.kubernetes
import rego.v1

# METADATA
# title: Long-running containers should have probes
# custom:
#   id: ACME-016
#   severity: low
warn_missing_probes contains msg if {
	input.kind in {"Deployment", "StatefulSet", "DaemonSet"}
	some c in kubernetes.containers
	c.path[count(c.path) - 2] == "containers"
	some probe in ["livenessProbe", "readinessProbe"]
	not c.container[probe]
	msg := sprintf("%s %s: container %s has no %s", [kubernetes.kind, kubernetes.name, c.container.name, probe])
}
