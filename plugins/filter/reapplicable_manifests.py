# Copyright (c) 2026 RetailOps platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: reapplicable_manifests
short_description: Kubernetes objects as read from the API, cleaned so they re-apply to another cluster
version_added: 0.1.0
description:
  - Takes the C(resources) of C(kubernetes.core.k8s_info) and returns manifests that re-apply to a new or
    another cluster, in the order they are applied (namespace, accounts and roles, configuration, storage,
    services, workloads, policies), each kind's objects by name.
  - Drops what the API server or a controller writes - C(status); the metadata but name, namespace, labels,
    annotations; the annotations C(kubectl.kubernetes.io/last-applied-configuration),
    C(deployment.kubernetes.io/revision), C(pv.kubernetes.io/*), C(volume.kubernetes.io/*),
    C(volume.beta.kubernetes.io/*); a Service's cluster addresses (C(clusterIP), C(clusterIPs), but a headless
    C(None)), node ports and C(healthCheckNodePort); a claim's C(volumeName) when the volume controller
    bound it (a dynamically provisioned volume, the new cluster provisions its own); a pod template's
    empty C(creationTimestamp).
  - Keeps a claim's C(volumeName) that its applier set (a static volume, such as the odoo_kubernetes role's
    C(odoo_kubernetes_volume_name)), as the C(managedFields) name who owns the field. Without it, the claim
    would bind to any free volume of its class and size, another tenant's included, or none.
  - Leaves out what is regenerated - objects a controller owns (C(ownerReferences)), kinds that are runtime
    state (Pod, ReplicaSet, Job, Endpoints, EndpointSlice, Event, ControllerRevision, Lease), the
    C(kube-root-ca.crt) ConfigMap, the C(default) ServiceAccount, service account token Secrets.
author:
  - RetailOps platform engineering (@retailops)
options:
  _input:
    description: Objects as C(k8s_info) returns them (mappings with C(apiVersion), C(kind), C(metadata)).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: A namespace's Deployments, ready to re-apply
  ansible.builtin.debug:
    msg: "{{ deployments.resources | retailops.odoo_platform.reapplicable_manifests }}"
"""

RETURN = r"""
_value:
  description: The cleaned manifests, in apply order.
  type: list
  elements: dict
"""

import copy
from typing import Any, Callable, Dict, List, Mapping, Tuple

from ansible.errors import AnsibleFilterError

RUNTIME_KINDS = frozenset(
    {"Pod", "ReplicaSet", "Job", "Endpoints", "EndpointSlice", "Event", "ControllerRevision", "Lease"}
)
KEPT_METADATA = ("name", "namespace", "labels", "annotations")
DROPPED_ANNOTATIONS = (
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
)
DROPPED_ANNOTATION_PREFIXES = ("pv.kubernetes.io/", "volume.kubernetes.io/", "volume.beta.kubernetes.io/")
# The field manager of the controller that binds a claim to a volume (the PV controller runs in it).
VOLUME_BINDER = "kube-controller-manager"
APPLY_ORDER = (
    "Namespace",
    "ResourceQuota",
    "LimitRange",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ConfigMap",
    "Secret",
    "PersistentVolumeClaim",
    "Service",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "CronJob",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "NetworkPolicy",
    "Ingress",
)


def _skipped(obj: Mapping[str, Any]) -> bool:
    kind = obj.get("kind")
    meta = obj.get("metadata") or {}
    name = meta.get("name")
    return bool(
        kind in RUNTIME_KINDS
        or meta.get("ownerReferences")
        or (kind == "ConfigMap" and name == "kube-root-ca.crt")
        or (kind == "ServiceAccount" and name == "default")
        or (kind == "Secret" and obj.get("type") == "kubernetes.io/service-account-token")
    )


def _metadata(meta: Mapping[str, Any]) -> Dict[str, Any]:
    out = {key: copy.deepcopy(meta[key]) for key in KEPT_METADATA if meta.get(key)}
    annotations = {
        key: value
        for key, value in (out.get("annotations") or {}).items()
        if key not in DROPPED_ANNOTATIONS and not key.startswith(DROPPED_ANNOTATION_PREFIXES)
    }
    if annotations:
        out["annotations"] = annotations
    else:
        out.pop("annotations", None)
    return out


def _clean_service(spec: Dict[str, Any]) -> None:
    if spec.get("clusterIP") != "None":
        spec.pop("clusterIP", None)
        spec.pop("clusterIPs", None)
    else:
        spec.pop("clusterIPs", None)
    spec.pop("healthCheckNodePort", None)
    for port in spec.get("ports") or []:
        port.pop("nodePort", None)


def _volume_name_applied(meta: Mapping[str, Any]) -> bool:
    """Whether a claim's spec.volumeName was set by its applier, not by the volume binder."""
    for entry in meta.get("managedFields") or []:
        if not isinstance(entry, Mapping) or entry.get("manager") == VOLUME_BINDER:
            continue
        spec = (entry.get("fieldsV1") or {}).get("f:spec")
        if isinstance(spec, Mapping) and "f:volumeName" in spec:
            return True
    return False


def _clean_pod_template(spec: Dict[str, Any]) -> None:
    template = spec.get("template")
    if isinstance(template, dict):
        meta = template.get("metadata")
        if isinstance(meta, dict) and meta.get("creationTimestamp") is None:
            meta.pop("creationTimestamp", None)
    job_template = spec.get("jobTemplate")
    if isinstance(job_template, dict):
        meta = job_template.get("metadata")
        if isinstance(meta, dict) and meta.get("creationTimestamp") is None:
            meta.pop("creationTimestamp", None)
        if isinstance(job_template.get("spec"), dict):
            _clean_pod_template(job_template["spec"])


def clean(obj: Mapping[str, Any]) -> Dict[str, Any]:
    """One object as it re-applies: see the module's description."""
    if not isinstance(obj, Mapping) or not obj.get("kind") or not isinstance(obj.get("metadata"), Mapping):
        raise AnsibleFilterError("reapplicable_manifests: %r is not a Kubernetes object" % (obj,))
    out = {key: copy.deepcopy(value) for key, value in obj.items() if key not in ("status", "metadata")}
    out["metadata"] = _metadata(obj["metadata"])
    spec = out.get("spec")
    if isinstance(spec, dict):
        if obj["kind"] == "Service":
            _clean_service(spec)
        elif obj["kind"] == "PersistentVolumeClaim" and not _volume_name_applied(obj["metadata"]):
            spec.pop("volumeName", None)
        _clean_pod_template(spec)
    return out


def _order(obj: Mapping[str, Any]) -> Tuple[int, str, str, str]:
    kind = obj["kind"]
    rank = APPLY_ORDER.index(kind) if kind in APPLY_ORDER else len(APPLY_ORDER)
    return (rank, kind, obj["metadata"].get("namespace", ""), obj["metadata"].get("name", ""))


def reapplicable_manifests(objects: Any) -> List[Dict[str, Any]]:
    """The objects a cluster cannot regenerate, cleaned, in apply order."""
    if not isinstance(objects, list):
        raise AnsibleFilterError("reapplicable_manifests: expects a list of objects, got %r" % (objects,))
    kept = [clean(obj) for obj in objects if not (isinstance(obj, Mapping) and _skipped(obj))]
    return sorted(kept, key=_order)


class FilterModule:
    """Kubernetes manifests for a backup."""

    def filters(self) -> Dict[str, Callable[..., Any]]:
        return {"reapplicable_manifests": reapplicable_manifests}
