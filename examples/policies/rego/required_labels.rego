# Uses `data.labels.required` from --data examples/policies/data/labels.yaml.
package main

import rego.v1

# METADATA
# title: Objects must carry the required labels
# custom:
#   id: ACME-005
#   severity: low
violation contains msg if {
	input.kind in {"Deployment", "StatefulSet", "DaemonSet", "Service"}
	some label in data.labels.required
	not input.metadata.labels[label]
	msg := {
		"msg": sprintf("%s %s is missing the required label %s", [input.kind, input.metadata.name, label]),
		"field": "/metadata/labels",
	}
}
