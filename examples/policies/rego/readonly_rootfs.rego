package main

import data.lib.kubernetes
import rego.v1

# METADATA
# title: Containers should use a read-only root filesystem
# custom:
#   id: ACME-019
#   severity: low
warn_writable_rootfs contains msg if {
	some c in kubernetes.containers
	not c.container.securityContext.readOnlyRootFilesystem
	msg := sprintf("%s %s: container %s has a writable root filesystem", [kubernetes.kind, kubernetes.name, c.container.name])
}
