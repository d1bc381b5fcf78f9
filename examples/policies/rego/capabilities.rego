package main

import data.lib.kubernetes
import rego.v1

dangerous := {"SYS_ADMIN", "NET_ADMIN", "SYS_MODULE", "SYS_PTRACE", "ALL"}

# METADATA
# title: Containers must not add dangerous capabilities
# custom:
#   id: ACME-008
#   severity: high
deny_dangerous_capabilities contains msg if {
	some c in kubernetes.containers
	added := {upper(cap) | some cap in c.container.securityContext.capabilities.add}
	bad := added & dangerous
	count(bad) > 0
	msg := sprintf("%s %s: container %s adds %s", [kubernetes.kind, kubernetes.name, c.container.name, concat(", ", sort(bad))])
}
