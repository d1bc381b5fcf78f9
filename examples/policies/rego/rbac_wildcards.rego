package main

import rego.v1

# METADATA
# title: Roles must not grant wildcard access
# custom:
#   id: ACME-009
#   severity: critical
deny_rbac_wildcard contains msg if {
	input.kind in {"Role", "ClusterRole"}
	some i, rule in input.rules
	some field in ["verbs", "resources", "apiGroups"]
	"*" in rule[field]
	msg := {
		"msg": sprintf("%s %s grants * in %s", [input.kind, input.metadata.name, field]),
		"path": ["rules", i, field],
	}
}
