package main

import rego.v1

# METADATA
# title: Deployments should run more than one replica
# custom:
#   id: ACME-017
warn_single_replica contains msg if {
	input.kind == "Deployment"
	object.get(input.spec, "replicas", 1) < 2
	msg := {"msg": sprintf("Deployment %s runs a single replica", [input.metadata.name]), "field": "/spec/replicas"}
}
