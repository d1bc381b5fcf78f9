package main

import rego.v1

# METADATA
# title: Services must not be exposed through node ports
# custom:
#   id: ACME-011
#   severity: medium
deny_nodeport contains msg if {
	input.kind == "Service"
	input.spec.type == "NodePort"
	msg := {"msg": sprintf("Service %s is of type NodePort", [input.metadata.name]), "path": "spec.type"}
}

# METADATA
# title: LoadBalancer Services should restrict their source ranges
# custom:
#   id: ACME-012
warn_open_load_balancer contains msg if {
	input.kind == "Service"
	input.spec.type == "LoadBalancer"
	count(object.get(input.spec, "loadBalancerSourceRanges", [])) == 0
	msg := sprintf("Service %s is a LoadBalancer open to the internet", [input.metadata.name])
}
