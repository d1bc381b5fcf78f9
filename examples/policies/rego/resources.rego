package main

import data.lib.kubernetes
import rego.v1

# METADATA
# title: Containers must set memory and CPU limits
# custom:
#   id: ACME-004
#   severity: medium
deny_missing_limits contains msg if {
	some c in kubernetes.containers
	some resource in ["memory", "cpu"]
	not c.container.resources.limits[resource]
	msg := {
		"msg": sprintf("%s %s: container %s has no %s limit", [kubernetes.kind, kubernetes.name, c.container.name, resource]),
		"path": array.concat(c.path, ["resources", "limits", resource]),
	}
}
