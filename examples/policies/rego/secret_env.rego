package main

import data.lib.kubernetes
import rego.v1

# METADATA
# title: Credentials must come from Secrets, not literal env values
# custom:
#   id: ACME-021
#   severity: high
deny_literal_credentials contains msg if {
	some c in kubernetes.containers
	some i, env in c.container.env
	regex.match(`(?i)(password|secret|token|api_?key)`, env.name)
	env.value != ""
	msg := {
		"msg": sprintf("%s %s: container %s sets %s to a literal value", [kubernetes.kind, kubernetes.name, c.container.name, env.name]),
		"path": array.concat(c.path, ["env", i, "value"]),
	}
}
