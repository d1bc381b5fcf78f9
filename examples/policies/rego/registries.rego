# Uses `data.registries.allowed` from --data examples/policies/data/registries.json.
package main

import data.lib.kubernetes
import rego.v1

# METADATA
# title: Images must come from an approved registry
# custom:
#   id: ACME-006
#   severity: high
deny_untrusted_registry contains msg if {
	some c in kubernetes.containers
	not approved(c.container.image)
	msg := sprintf("%s %s: image %s is not from an approved registry (%s)", [kubernetes.kind, kubernetes.name, c.container.image, concat(", ", data.registries.allowed)])
}

approved(image) if {
	some prefix in data.registries.allowed
	startswith(image, concat("", [prefix, "/"]))
}
