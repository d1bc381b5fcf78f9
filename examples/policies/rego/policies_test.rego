# Unit tests for the policies: `palisade policy test examples/policies/rego --data examples/policies/data`.
# Conftest convention: tests live in the policies' package.
package main

import rego.v1

privileged_pod := {
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": {"name": "p"},
	"spec": {"containers": [{"name": "c", "image": "registry.example.com/app:1.0", "securityContext": {"privileged": true}}]},
}

test_privileged_pod_is_denied if {
	some msg in deny_privileged with input as privileged_pod
	msg.path == ["spec", "containers", 0, "securityContext", "privileged"]
}

test_unprivileged_pod_is_allowed if {
	count(deny_privileged) == 0 with input as json.patch(privileged_pod, [{"op": "remove", "path": "/spec/containers/0/securityContext"}])
}

test_root_is_denied_unless_legacy if {
	count(deny_run_as_root) == 1 with input as privileged_pod
	exception == {["run_as_root"]} with input as json.patch(privileged_pod, [{"op": "add", "path": "/metadata/labels", "value": {"acme.io/legacy": "true"}}])
}

test_latest_tag_warns if {
	some w in warn_latest_tag with input as json.patch(privileged_pod, [{"op": "replace", "path": "/spec/containers/0/image", "value": "nginx"}])
	w.field == "spec.containers.0.image"
}

test_registry_allow_list if {
	count(deny_untrusted_registry) == 0 with input as privileged_pod
	count(deny_untrusted_registry) == 1 with input as json.patch(privileged_pod, [{"op": "replace", "path": "/spec/containers/0/image", "value": "docker.io/nginx:1.27"}])
}

test_wildcard_role_is_denied if {
	role := {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"}, "rules": [{"apiGroups": [""], "resources": ["*"], "verbs": ["get"]}]}
	count(deny_rbac_wildcard) == 1 with input as role
}

test_ssh_service_port_is_denied if {
	svc := {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": [{"port": 22}]}}
	count(deny_forbidden_port) == 1 with input as svc
}
