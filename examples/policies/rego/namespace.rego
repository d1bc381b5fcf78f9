package main

import rego.v1

# METADATA
# title: Workloads must not live in the default namespace
# custom:
#   id: ACME-018
#   severity: low
deny_default_namespace contains msg if {
	input.kind in {"Deployment", "StatefulSet", "DaemonSet", "Pod", "Service"}
	object.get(input.metadata, "namespace", "default") == "default"
	msg := sprintf("%s %s is in the default namespace", [input.kind, input.metadata.name])
}
