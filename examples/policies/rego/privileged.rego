# Conftest v0 syntax (deny_x[msg] { ... }), as most existing policies are written.
package main

import data.lib.kubernetes

# METADATA
# title: Privileged containers are not allowed
# description: A privileged container has every capability of the host and can escape to the node.
# related_resources:
# - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/
# custom:
#   id: ACME-001
#   severity: critical
#   recommended_action: Remove securityContext.privileged or set it to false.
deny_privileged[msg] {
	c := kubernetes.containers[_]
	c.container.securityContext.privileged == true
	msg := {
		"msg": sprintf("%s %s: container %s is privileged", [kubernetes.kind, kubernetes.name, c.container.name]),
		"path": array.concat(c.path, ["securityContext", "privileged"]),
	}
}
