# Uses `data.services.forbidden_ports` from --data examples/policies/data/services.yaml.
package main

import rego.v1

# METADATA
# title: Services must not expose administrative ports
# custom:
#   id: ACME-013
#   severity: high
deny_forbidden_port contains msg if {
	input.kind == "Service"
	some i, port in input.spec.ports
	port.port in data.services.forbidden_ports
	msg := {
		"msg": sprintf("Service %s exposes port %d", [input.metadata.name, port.port]),
		"path": ["spec", "ports", i, "port"],
	}
}
