package main

import data.lib.kubernetes
import rego.v1

# METADATA
# title: Images must be pinned to a version
# custom:
#   id: ACME-003
#   severity: medium
warn_latest_tag contains msg if {
	some c in kubernetes.containers
	image := c.container.image
	untagged_or_latest(image)
	msg := {
		"msg": sprintf("%s %s: container %s uses image %s without a fixed tag", [kubernetes.kind, kubernetes.name, c.container.name, image]),
		"field": concat(".", [to_string(p) | some p in array.concat(c.path, ["image"])]),
	}
}

to_string(p) := sprintf("%v", [p])

untagged_or_latest(image) if endswith(image, ":latest")

untagged_or_latest(image) if {
	not contains(image, "@")
	parts := split(image, "/")
	not contains(parts[count(parts) - 1], ":")
}
