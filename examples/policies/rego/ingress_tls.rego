package main

import rego.v1

# METADATA
# title: Ingresses must terminate TLS
# custom:
#   id: ACME-014
#   severity: medium
deny_ingress_without_tls contains msg if {
	input.kind == "Ingress"
	count(object.get(input.spec, "tls", [])) == 0
	msg := sprintf("Ingress %s has no TLS section", [input.metadata.name])
}
