#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine: installs what is missing,
# builds, then runs the service or the tests.
#   scripts/setup.sh run     install, build, start gradingd on ./data with a shipped policy
#   scripts/setup.sh test    install, build, run every test (ctest)
#   scripts/setup.sh build   install and build only
# Environment: BUILD_DIR (default ./build), CMAKE_ARGS (extra -D flags),
# POLICY (default policies/kakaostyle.yaml), LISTEN (default 127.0.0.1:50051).
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
PACKAGES=(build-essential cmake pkg-config
          libgrpc-dev protobuf-compiler protobuf-c-compiler libprotobuf-c-dev libprotobuf-dev
          libuv1-dev liblmdb-dev libcmocka-dev libyaml-dev libjansson-dev tzdata)
PACKAGES+=(libssl-dev openssl)   # TLS checks, token hashes; certificates in the e2e tests
# The request fuzz target (tests/fuzz/fuzz_request.c) runs under ctest with libFuzzer.
PACKAGES+=(clang libclang-rt-14-dev)

# The edge (deploy/haproxy) and its e2e tests: HAProxy, Debian's python3-h2
# (raw HTTP/2 clients), openssl (test certificates).
PACKAGES+=(haproxy python3-h2 openssl)
PACKAGES+=(libmicrohttpd-dev)   # the admin HTTP server: /metrics, /healthz, /readyz, /backup
PACKAGES+=(unzip)               # scripts/ci-checks.sh: helm comes inside a zip
PACKAGES+=(librdkafka-dev)      # Kafka replicas (issue 11): src/kafka/, tests/kafka/kafka_mock_cluster

install_missing() {
    local missing=()
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "setup: installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() {
    # shellcheck disable=SC2086 # CMAKE_ARGS is a list of flags on purpose
    cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo ${CMAKE_ARGS:-}
    cmake --build "$BUILD_DIR" -j "$(nproc)"
}

case "${1:-}" in
run)
    install_missing
    build
    exec "$BUILD_DIR/gradingd" --listen "${LISTEN:-127.0.0.1:50051}" --data-dir ./data \
        --policy "${POLICY:-policies/kakaostyle.yaml}"
    ;;
test)
    install_missing
    build
    ctest --test-dir "$BUILD_DIR" --output-on-failure
    ;;
build)
    install_missing
    build
    ;;
*)
    echo "usage: scripts/setup.sh run|test|build" >&2
    exit 2
    ;;
esac
