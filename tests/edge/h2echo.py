#!/usr/bin/python3
"""A stand-in for gradingd behind the edge that shows what the edge
forwards: every request is answered as a successful gRPC call whose
response headers repeat the request's identity headers
(x-grading-client-cn -> x-echo-client-cn, x-grading-client-uri-san ->
x-echo-client-uri-san; "<absent>" when the request had none, all values
joined by "," when it had several).

  h2echo.py --port-file FILE --seconds S

Listens on 127.0.0.1, a port the kernel picks (written to FILE once
listening), plaintext HTTP/2; exits after S seconds or on SIGTERM.
Needs python3-h2 (Debian).
"""
import argparse
import os
import select
import signal
import socket
import sys
import time

import h2.config
import h2.connection
import h2.events
import h2.exceptions

ECHOED = {"x-grading-client-cn": "x-echo-client-cn",
          "x-grading-client-uri-san": "x-echo-client-uri-san"}
STOP = [False]


def answer(conn, sid, headers):
    seen = {}
    for name, value in headers:
        if name in ECHOED:
            seen.setdefault(name, []).append(value)
    reply = [(":status", "200"), ("content-type", "application/grpc")]
    for name, echo in ECHOED.items():
        reply.append((echo, ",".join(seen[name]) if name in seen else "<absent>"))
    conn.send_headers(sid, reply)
    # HealthCheckResponse{status: SERVING}, one gRPC frame.
    conn.send_data(sid, b"\x00\x00\x00\x00\x02\x08\x01")
    conn.send_headers(sid, [("grpc-status", "0")], end_stream=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--seconds", type=float, required=True)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: STOP.__setitem__(0, True))
    deadline = time.monotonic() + args.seconds

    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % lsock.getsockname()[1])
    os.rename(tmp, args.port_file)   # readers never see a half-written file

    conns = {}
    cfg = h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
    while not STOP[0] and time.monotonic() < deadline:
        ready, _, _ = select.select([lsock] + list(conns), [], [], 0.1)
        for sock in ready:
            if sock is lsock:
                s, _ = lsock.accept()
                c = h2.connection.H2Connection(config=cfg)
                c.initiate_connection()
                s.sendall(c.data_to_send())
                conns[s] = c
                continue
            c = conns[sock]
            try:
                data = sock.recv(65536)
                events = c.receive_data(data) if data else None
            except (OSError, h2.exceptions.ProtocolError):
                events = None
            if events is None:
                sock.close()
                del conns[sock]
                continue
            for e in events:
                if isinstance(e, h2.events.RequestReceived):
                    answer(c, e.stream_id, e.headers)
                elif isinstance(e, h2.events.DataReceived):
                    c.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
            try:
                sock.sendall(c.data_to_send())
            except OSError:
                sock.close()
                del conns[sock]
    for s in conns:
        s.close()
    lsock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
