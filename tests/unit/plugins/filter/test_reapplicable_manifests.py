"""reapplicable_manifests: objects as k8s_info reads them, cleaned so they re-apply to another cluster.

The inputs are shaped as a v1.30 API server returns them (the odoo_kubernetes role's objects after
their controllers ran: status, managedFields, cluster-assigned addresses, owned ReplicaSets and Pods).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.retailops.odoo_platform.plugins.filter import reapplicable_manifests as plugin

SERVER_METADATA = {
    "uid": "4c2f1c7e-2b8a-4b8e-9a57-3f1f7a1d2e10",
    "resourceVersion": "48213",
    "generation": 3,
    "creationTimestamp": "2026-12-07T03:14:25Z",
    "managedFields": [{"manager": "kubectl", "operation": "Apply"}],
    "selfLink": "/apis/apps/v1/namespaces/erp-acme/deployments/odoo-http",
}


def obj(kind: str, name: str, api_version: str = "v1", **fields: Any) -> dict[str, Any]:
    metadata = {"name": name, "namespace": "erp-acme", **copy.deepcopy(SERVER_METADATA)}
    metadata.update(fields.pop("metadata", {}))
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **fields}


DEPLOYMENT = obj(
    "Deployment",
    "odoo-http",
    "apps/v1",
    metadata={
        "labels": {"app.kubernetes.io/name": "odoo"},
        "annotations": {
            "deployment.kubernetes.io/revision": "4",
            "kubectl.kubernetes.io/last-applied-configuration": "{...}",
            "retailops.example/owner": "platform",
        },
    },
    spec={
        "replicas": 3,
        "selector": {"matchLabels": {"app.kubernetes.io/name": "odoo"}},
        "template": {
            "metadata": {"creationTimestamp": None, "labels": {"app.kubernetes.io/name": "odoo"}},
            "spec": {"containers": [{"name": "odoo", "image": "odoo:18.0"}]},
        },
    },
    status={"replicas": 3, "readyReplicas": 3, "observedGeneration": 3},
)
SERVICE = obj(
    "Service",
    "odoo-http",
    spec={
        "type": "LoadBalancer",
        "clusterIP": "10.96.12.7",
        "clusterIPs": ["10.96.12.7"],
        "ipFamilies": ["IPv4"],
        "healthCheckNodePort": 31999,
        "externalTrafficPolicy": "Local",
        "ports": [{"name": "http", "port": 8069, "targetPort": 8069, "nodePort": 30817}],
        "selector": {"app.kubernetes.io/name": "odoo"},
    },
    status={"loadBalancer": {"ingress": [{"ip": "20.1.2.3"}]}},
)
HEADLESS = obj("Service", "odoo-peers", spec={"clusterIP": "None", "clusterIPs": ["None"], "ports": []})
CLAIM = obj(
    "PersistentVolumeClaim",
    "odoo-data",
    metadata={
        "annotations": {
            "pv.kubernetes.io/bind-completed": "yes",
            "volume.kubernetes.io/storage-provisioner": "file.csi.azure.com",
            "volume.beta.kubernetes.io/storage-provisioner": "file.csi.azure.com",
        },
        "finalizers": ["kubernetes.io/pvc-protection"],
        # dynamically provisioned: the volume binder wrote the volume's name
        "managedFields": [
            {
                "manager": "retailops.odoo_platform",
                "operation": "Apply",
                "fieldsV1": {"f:spec": {"f:accessModes": {}, "f:storageClassName": {}}},
            },
            {
                "manager": "kube-controller-manager",
                "operation": "Update",
                "fieldsV1": {"f:spec": {"f:volumeName": {}}},
            },
        ],
    },
    spec={
        "accessModes": ["ReadWriteMany"],
        "storageClassName": "azurefile-csi-premium",
        "resources": {"requests": {"storage": "100Gi"}},
        "volumeName": "pvc-9a1e",
    },
    status={"phase": "Bound"},
)
# A claim on a static volume, as the odoo_kubernetes role applies it with odoo_kubernetes_volume_name
# and as the rig's v1.35 API server returned it: the applier owns spec.volumeName, the binder only
# its annotations.
STATIC_CLAIM = obj(
    "PersistentVolumeClaim",
    "odoo-data",
    metadata={
        "annotations": {"pv.kubernetes.io/bind-completed": "yes"},
        "managedFields": [
            {
                "manager": "retailops.odoo_platform",
                "operation": "Apply",
                "fieldsV1": {
                    "f:spec": {
                        "f:accessModes": {},
                        "f:resources": {"f:requests": {"f:storage": {}}},
                        "f:storageClassName": {},
                        "f:volumeName": {},
                    }
                },
            },
            {
                "manager": "kube-controller-manager",
                "operation": "Update",
                "fieldsV1": {"f:metadata": {"f:annotations": {"f:pv.kubernetes.io/bind-completed": {}}}},
            },
            {"manager": "kube-controller-manager", "operation": "Update", "subresource": "status"},
        ],
    },
    spec={
        "accessModes": ["ReadWriteMany"],
        "storageClassName": "rig-shared",
        "resources": {"requests": {"storage": "20Gi"}},
        "volumeMode": "Filesystem",
        "volumeName": "rig-erp-acme-data",
    },
    status={"phase": "Bound"},
)
OWNED_REPLICASET = obj(
    "ReplicaSet",
    "odoo-http-5d9f",
    "apps/v1",
    metadata={"ownerReferences": [{"kind": "Deployment", "name": "odoo-http"}]},
)
OWNED_CONFIGMAP = obj(
    "ConfigMap", "generated", metadata={"ownerReferences": [{"kind": "Something", "name": "x"}]}
)
CRONJOB = obj(
    "CronJob",
    "odoo-cron-gc",
    "batch/v1",
    spec={
        "schedule": "0 3 * * *",
        "jobTemplate": {
            "metadata": {"creationTimestamp": None},
            "spec": {"template": {"metadata": {"creationTimestamp": None}, "spec": {"containers": []}}},
        },
    },
)
NAMESPACE = {
    "apiVersion": "v1",
    "kind": "Namespace",
    "metadata": {
        "name": "erp-acme",
        "labels": {"pod-security.kubernetes.io/enforce": "restricted"},
        **copy.deepcopy(SERVER_METADATA),
    },
    "spec": {"finalizers": ["kubernetes"]},
    "status": {"phase": "Active"},
}
REGENERATED = [
    OWNED_REPLICASET,
    OWNED_CONFIGMAP,
    obj("Pod", "odoo-http-5d9f-x2k"),
    obj("Job", "odoo-db-init", "batch/v1"),
    obj("EndpointSlice", "odoo-http-abc", "discovery.k8s.io/v1"),
    obj("ConfigMap", "kube-root-ca.crt", data={"ca.crt": "..."}),
    obj("ServiceAccount", "default"),
    obj("Secret", "default-token-abc", type="kubernetes.io/service-account-token"),
]


def test_server_written_fields_are_dropped_and_the_rest_kept() -> None:
    (deployment,) = plugin.reapplicable_manifests([DEPLOYMENT])
    assert deployment == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "odoo-http",
            "namespace": "erp-acme",
            "labels": {"app.kubernetes.io/name": "odoo"},
            "annotations": {"retailops.example/owner": "platform"},
        },
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "odoo"}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": "odoo"}},
                "spec": {"containers": [{"name": "odoo", "image": "odoo:18.0"}]},
            },
        },
    }


def test_the_input_is_not_changed() -> None:
    before = copy.deepcopy(DEPLOYMENT)
    plugin.reapplicable_manifests([DEPLOYMENT, SERVICE, CLAIM])
    assert before == DEPLOYMENT


def test_a_service_loses_its_cluster_addresses_and_node_ports() -> None:
    service, headless = plugin.reapplicable_manifests([SERVICE, HEADLESS])
    assert service["spec"] == {
        "type": "LoadBalancer",
        "ipFamilies": ["IPv4"],
        "externalTrafficPolicy": "Local",
        "ports": [{"name": "http", "port": 8069, "targetPort": 8069}],
        "selector": {"app.kubernetes.io/name": "odoo"},
    }
    assert "status" not in service
    # a headless Service stays headless
    assert headless["spec"] == {"clusterIP": "None", "ports": []}


def test_a_claim_is_no_longer_bound_to_the_old_cluster_s_volume() -> None:
    (claim,) = plugin.reapplicable_manifests([CLAIM])
    assert claim["metadata"] == {"name": "odoo-data", "namespace": "erp-acme"}
    assert claim["spec"] == {
        "accessModes": ["ReadWriteMany"],
        "storageClassName": "azurefile-csi-premium",
        "resources": {"requests": {"storage": "100Gi"}},
    }


def test_a_claim_keeps_the_static_volume_its_applier_named() -> None:
    # Found on the rig: without the name the restored claim binds to any free volume of its class and
    # size (another tenant's) or stays Pending, and does not come back equal to what was applied.
    (claim,) = plugin.reapplicable_manifests([STATIC_CLAIM])
    assert claim["metadata"] == {"name": "odoo-data", "namespace": "erp-acme"}
    assert claim["spec"]["volumeName"] == "rig-erp-acme-data"


def test_a_claim_without_managed_fields_loses_its_volume_name() -> None:
    # who set it cannot be told: a binder's name must not travel to another cluster
    claim = copy.deepcopy(STATIC_CLAIM)
    del claim["metadata"]["managedFields"]
    (cleaned,) = plugin.reapplicable_manifests([claim])
    assert "volumeName" not in cleaned["spec"]


def test_a_cron_job_s_templates_lose_their_empty_timestamps() -> None:
    (cronjob,) = plugin.reapplicable_manifests([CRONJOB])
    job = cronjob["spec"]["jobTemplate"]
    assert job["metadata"] == {}
    assert job["spec"]["template"]["metadata"] == {}


@pytest.mark.parametrize("regenerated", REGENERATED, ids=lambda o: f"{o['kind']}/{o['metadata']['name']}")
def test_what_a_cluster_regenerates_is_left_out(regenerated: dict[str, Any]) -> None:
    assert plugin.reapplicable_manifests([regenerated]) == []


def test_the_manifests_come_in_apply_order() -> None:
    result = plugin.reapplicable_manifests(
        [*REGENERATED, CRONJOB, DEPLOYMENT, SERVICE, CLAIM, NAMESPACE, HEADLESS]
    )
    assert [(o["kind"], o["metadata"]["name"]) for o in result] == [
        ("Namespace", "erp-acme"),
        ("PersistentVolumeClaim", "odoo-data"),
        ("Service", "odoo-http"),
        ("Service", "odoo-peers"),
        ("Deployment", "odoo-http"),
        ("CronJob", "odoo-cron-gc"),
    ]
    namespace = result[0]
    assert namespace["metadata"] == {
        "name": "erp-acme",
        "labels": {"pod-security.kubernetes.io/enforce": "restricted"},
    }


@pytest.mark.parametrize("bad", ["a string", [{"kind": "Deployment"}], [{"metadata": {"name": "x"}}], None])
def test_what_is_not_a_list_of_objects_is_refused(bad: Any) -> None:
    with pytest.raises(AnsibleFilterError, match="reapplicable_manifests"):
        plugin.reapplicable_manifests(bad)
