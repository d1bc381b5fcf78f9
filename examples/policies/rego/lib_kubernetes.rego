# Helpers shared by the policies, in the style of Conftest's
# examples/kubernetes/lib/kubernetes.rego.
package lib.kubernetes

import rego.v1

default is_workload := false

workload_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"}

is_workload if input.kind in workload_kinds

name := input.metadata.name

kind := input.kind

pod_spec := input.spec if input.kind == "Pod"

pod_spec := input.spec.template.spec if input.kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}

pod_spec := input.spec.jobTemplate.spec.template.spec if input.kind == "CronJob"

spec_path := ["spec"] if input.kind == "Pod"

spec_path := ["spec", "template", "spec"] if input.kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}

spec_path := ["spec", "jobTemplate", "spec", "template", "spec"] if input.kind == "CronJob"

# Every container with the path to it, so messages can point at fields.
containers contains {"container": c, "path": array.concat(spec_path, ["containers", i])} if {
	some i
	c := pod_spec.containers[i]
}

containers contains {"container": c, "path": array.concat(spec_path, ["initContainers", i])} if {
	some i
	c := pod_spec.initContainers[i]
}
