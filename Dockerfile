# grading: gradingd (gRPC server), gradectl (CLI) and the edge (HAProxy,
# deploy/haproxy/) on Debian 12.
#
#   docker build -t grading .
#   docker run -d --name grading -p 50051:50051 -v grading-data:/var/lib/grading grading
#   docker run -d --name grading-edge --network container:grading --entrypoint grading-edge grading
#   docker exec grading gradectl health
#
# gradingd listens on 127.0.0.1:50052 only; the edge, a second container in
# the same network namespace (as in the Helm chart's pod), is the way in on
# 50051 (README "Edge": Debian's grpc 1.51 has no rapid-reset mitigation).
#
# Design:
# - Two stages on the same base. The builder has the -dev packages and the
#   compilers; the runtime stage has only the shared libraries the two
#   binaries link (grpc C core 1.51 = libgrpc29, protobuf-c, libuv, LMDB,
#   libyaml, jansson), tzdata (policies name IANA time zones) and
#   ca-certificates.
# - One image for both processes: the edge is Debian's haproxy package on
#   the same base, started with the second entrypoint grading-edge
#   (deploy/haproxy/run-edge.sh) and /etc/grading/haproxy.cfg. One image to
#   build, scan, patch and tag; gradingd and its edge config always ship
#   together. haproxy adds about 6 MB.
# - Only what the build reads is copied in (CMakeLists.txt, include/, proto/,
#   src/, policies/), so editing docs, tests or the chart does not rebuild.
#   Tests are off: they run in CI, not in the image build.
# - The policy comes from $GRADING_POLICY (gradingd reads it when --policy is
#   not given), so `-e GRADING_POLICY=/etc/grading/policies/tmon.yaml` or a
#   mounted file picks another one; arguments after the image name are
#   appended to the ENTRYPOINT and win over it (the last occurrence of a flag
#   counts), e.g. `grading --policy /etc/grading/policies/naver.yaml --threads 4`.
# - gradingd runs as PID 1 (exec form): it handles SIGTERM/SIGINT (drain, then
#   stop) and SIGHUP (reload the policy) itself and starts no children, so no
#   init shim is needed. `docker stop -t` must exceed --drain-ms plus
#   --shutdown-grace-ms (default 0 + 10 s, i.e. docker's default 10 s is
#   tight: use `docker stop -t 15`).
# - Non-root (uid/gid 10001). The data directory is created and owned by that
#   user before VOLUME, so a new named volume starts with the right owner.
#   gradingd writes nothing outside the data directory, so the container
#   also runs with --read-only.

ARG DEBIAN_IMAGE=debian:12-slim

# ---- builder ---------------------------------------------------------------
FROM ${DEBIAN_IMAGE} AS build

# The same list as scripts/setup.sh, less cmocka (tests are not built here).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        build-essential cmake pkg-config \
        libgrpc-dev protobuf-compiler protobuf-c-compiler libprotobuf-c-dev libprotobuf-dev \
        libuv1-dev liblmdb-dev libyaml-dev libjansson-dev libssl-dev \
        libmicrohttpd-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY CMakeLists.txt ./
COPY include/ include/
COPY proto/ proto/
COPY cmake/ cmake/
COPY src/ src/
COPY policies/ policies/

ARG BUILD_TYPE=Release
RUN cmake -S . -B build -DGRADING_TESTS=OFF -DCMAKE_BUILD_TYPE=${BUILD_TYPE} \
 && cmake --build build -j"$(nproc)" \
 && cmake --install build --prefix /out --strip \
 && /out/bin/gradingd --version

# ---- runtime ---------------------------------------------------------------
FROM ${DEBIAN_IMAGE}

# Runtime libraries only (Debian 12 names; libgrpc29 brings absl, re2,
# c-ares, OpenSSL and protobuf with it).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libgrpc29 libprotobuf-c1 libuv1 liblmdb0 libyaml-0-2 libjansson4 \
        tzdata ca-certificates haproxy \
        libmicrohttpd12 lmdb-utils \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 grading \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/grading \
        --no-create-home --shell /usr/sbin/nologin grading \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/grading

COPY --from=build /out/bin/gradingd /out/bin/gradectl /usr/local/bin/
COPY --from=build /out/share/grading/policies/ /etc/grading/policies/
COPY deploy/haproxy/haproxy.cfg /etc/grading/haproxy.cfg
COPY deploy/haproxy/run-edge.sh /usr/local/bin/grading-edge

# Fails the build here, not at run time, if a shared library is missing.
RUN gradingd --version && gradectl --help >/dev/null && haproxy -c -f /etc/grading/haproxy.cfg

ENV GRADING_POLICY=/etc/grading/policies/kakaostyle.yaml \
    GRADING_ADDR=127.0.0.1:50052

USER 10001:10001
WORKDIR /var/lib/grading
VOLUME ["/var/lib/grading"]
# 9464: the admin server (/metrics, /healthz, /readyz, /backup)
EXPOSE 50051 9464

# Health/Check over loopback: SERVING exits 0; NOT_SERVING (draining) or no
# answer exits non-zero. Assumes gradingd's default port here, 50052 (the
# edge container inherits this check: it then checks the path behind it).
HEALTHCHECK --interval=10s --timeout=5s --start-period=15s --retries=3 \
    CMD ["gradectl", "health", "--addr", "127.0.0.1:50052", "--timeout-ms", "3000"]

STOPSIGNAL SIGTERM
ENTRYPOINT ["gradingd", "--listen", "127.0.0.1:50052", "--data-dir", "/var/lib/grading", \
            "--admin-listen", "0.0.0.0:9464"]
CMD []
