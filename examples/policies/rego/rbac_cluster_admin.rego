package main

import rego.v1

# METADATA
# title: Only platform groups may be bound to cluster-admin
# custom:
#   id: ACME-010
#   severity: critical
deny_cluster_admin_binding contains msg if {
	input.kind == "ClusterRoleBinding"
	input.roleRef.name == "cluster-admin"
	some subject in input.subjects
	not startswith(subject.name, "system:")
	msg := sprintf("ClusterRoleBinding %s gives cluster-admin to %s %s", [input.metadata.name, subject.kind, subject.name])
}
