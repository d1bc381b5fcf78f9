package main

import data.lib.kubernetes
import rego.v1

# METADATA
# title: Pods must not share the host's namespaces
# custom:
#   id: ACME-007
#   severity: high
deny_host_namespaces contains msg if {
	some field in ["hostNetwork", "hostPID", "hostIPC"]
	kubernetes.pod_spec[field] == true
	msg := {
		"msg": sprintf("%s %s sets %s: true", [kubernetes.kind, kubernetes.name, field]),
		"path": array.concat(kubernetes.spec_path, [field]),
	}
}
