package main

import rego.v1

# METADATA
# title: Ingress hosts must be in an owned domain
# custom:
#   id: ACME-015
#   severity: medium
deny_foreign_ingress_host contains msg if {
	input.kind == "Ingress"
	some i, rule in input.spec.rules
	not glob.match("*.example.com", ["."], rule.host)
	msg := {
		"msg": sprintf("Ingress %s routes host %v outside *.example.com", [input.metadata.name, object.get(rule, "host", "<any>")]),
		"path": ["spec", "rules", i],
	}
}
