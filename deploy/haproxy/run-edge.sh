#!/bin/sh
# Runs the edge (HAProxy) in the foreground with the grading config.
#   deploy/haproxy/run-edge.sh                 # from the repository
#   grading-edge                               # in the image (/usr/local/bin)
# The config file: $GRADING_EDGE_CONFIG, else haproxy.cfg next to this
# script, else /etc/grading/haproxy.cfg. Its settings are environment
# variables with defaults (see the top of haproxy.cfg), e.g.
#   GRADING_EDGE_LISTEN=0.0.0.0:50051 GRADING_BACKEND=127.0.0.1:50052 grading-edge
# Extra arguments go to haproxy. The file is checked first, so a bad
# setting fails here with HAProxy's message instead of at the first call.
set -eu
here=$(dirname "$0")
cfg=${GRADING_EDGE_CONFIG:-}
if [ -z "$cfg" ]; then
    if [ -f "$here/haproxy.cfg" ]; then cfg="$here/haproxy.cfg"; else cfg=/etc/grading/haproxy.cfg; fi
fi
# HAProxy reads maxconn values with atol(): "abc" would silently be 0.
for var in GRADING_EDGE_MAXCONN GRADING_BACKEND_MAXREQ GRADING_EDGE_SRC_CONN_MAX \
           GRADING_EDGE_SRC_CONN_RATE GRADING_EDGE_SRC_REQ_RATE; do
    eval "val=\${$var:-}"
    case "$val" in
    '') ;;
    *[!0-9]*|0*) echo "grading-edge: $var must be a positive integer, got \"$val\"" >&2; exit 2 ;;
    esac
done
haproxy -c -f "$cfg" >/dev/null
# -db: foreground, no daemon, logs to stdout (the config's `log stdout`).
exec haproxy -db -f "$cfg" "$@"
