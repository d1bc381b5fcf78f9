package main

import rego.v1

deprecated := {
	"extensions/v1beta1": "apps/v1 or networking.k8s.io/v1",
	"apps/v1beta1": "apps/v1",
	"apps/v1beta2": "apps/v1",
	"policy/v1beta1": "policy/v1",
	"batch/v1beta1": "batch/v1",
}

# METADATA
# title: Objects must not use removed API versions
# custom:
#   id: ACME-020
#   severity: medium
deny_deprecated_api contains msg if {
	replacement := deprecated[input.apiVersion]
	msg := {"msg": sprintf("%s %s uses %s, removed from Kubernetes; use %s", [input.kind, input.metadata.name, input.apiVersion, replacement]), "path": "apiVersion"}
}
