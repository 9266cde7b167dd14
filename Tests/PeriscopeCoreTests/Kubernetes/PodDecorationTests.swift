import Testing
@testable import PeriscopeCore

@Suite struct PodDecorationTests {
    static func pod(
        owner: PodTarget.Owner? = PodTarget.Owner(kind: "Deployment", name: "checkout"),
        labels: [String: String] = [:], annotations: [String: String] = [:]
    ) -> PodTarget {
        PodTarget(
            uid: "u-1", namespace: "shop", name: "checkout-7d9f-abcde", owner: owner, labels: labels, annotations: annotations,
            policy: "all", containers: [.init(name: "app", id: "x")])
    }

    @Test func carriesPodContainerNodeAndOwnerAttributes() {
        let decoration = PodDecoration(pod: Self.pod(), containerName: "app", nodeName: "node-a")
        #expect(decoration.attributes == [
            "k8s.namespace.name": "shop", "k8s.pod.name": "checkout-7d9f-abcde", "k8s.pod.uid": "u-1",
            "k8s.container.name": "app", "k8s.node.name": "node-a", "k8s.deployment.name": "checkout",
            "service.name": "checkout", "service.namespace": "shop",
        ])
    }

    @Test(arguments: [
        ("StatefulSet", "k8s.statefulset.name"), ("DaemonSet", "k8s.daemonset.name"), ("Job", "k8s.job.name"),
        ("CronJob", "k8s.cronjob.name"), ("ReplicaSet", "k8s.replicaset.name"),
    ])
    func namesTheOwnerByItsKind(kind: String, key: String) {
        let decoration = PodDecoration(pod: Self.pod(owner: .init(kind: kind, name: "w")), containerName: "app", nodeName: "n")
        #expect(decoration.attributes[key] == "w")
        #expect(decoration.attributes["k8s.deployment.name"] == nil || kind == "Deployment")
    }

    @Test func unknownOwnerKindsAddNoWorkloadAttributeButNameTheService() {
        let decoration = PodDecoration(pod: Self.pod(owner: .init(kind: "Rollout", name: "r")), containerName: "app", nodeName: "n")
        #expect(decoration.attributes.keys.filter { $0.hasPrefix("k8s.") }.count == 5)
        #expect(decoration.serviceName == "r")
    }

    @Test func serviceNamePrecedenceIsAnnotationThenLabelThenOwnerThenPolicyThenPod() {
        let annotation = ["resource.opentelemetry.io/service.name": "from-annotation"]
        let label = ["app.kubernetes.io/name": "from-label"]
        let policy = ["service.name": "from-policy"]
        #expect(PodDecoration(pod: Self.pod(labels: label, annotations: annotation), containerName: "app", nodeName: "n",
                              resourceAttributes: policy).serviceName == "from-annotation")
        #expect(PodDecoration(pod: Self.pod(labels: label), containerName: "app", nodeName: "n", resourceAttributes: policy)
            .serviceName == "from-label")
        #expect(PodDecoration(pod: Self.pod(), containerName: "app", nodeName: "n", resourceAttributes: policy).serviceName == "checkout")
        #expect(PodDecoration(pod: Self.pod(owner: nil), containerName: "app", nodeName: "n", resourceAttributes: policy)
            .serviceName == "from-policy")
        #expect(PodDecoration(pod: Self.pod(owner: nil), containerName: "app", nodeName: "n").serviceName == "checkout-7d9f-abcde")
        #expect(PodDecoration(pod: Self.pod(labels: ["app.kubernetes.io/name": ""]), containerName: "app", nodeName: "n")
            .serviceName == "checkout")
    }

    @Test func annotationsAndPolicyAttributesAddButNeverOverridePodFacts() {
        let decoration = PodDecoration(
            pod: Self.pod(annotations: [
                "resource.opentelemetry.io/service.namespace": "payments", "resource.opentelemetry.io/team": "core",
                "resource.opentelemetry.io/k8s.pod.name": "spoofed", "other.io/x": "ignored",
            ]),
            containerName: "app", nodeName: "n",
            resourceAttributes: ["deployment.environment": "prod", "k8s.namespace.name": "spoofed", "team": "policy"])
        #expect(decoration.attributes["service.namespace"] == "payments")
        #expect(decoration.attributes["team"] == "core")
        #expect(decoration.attributes["deployment.environment"] == "prod")
        #expect(decoration.attributes["k8s.pod.name"] == "checkout-7d9f-abcde")
        #expect(decoration.attributes["k8s.namespace.name"] == "shop")
        #expect(decoration.attributes["x"] == nil)
    }
}
