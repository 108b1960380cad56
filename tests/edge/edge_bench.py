#!/usr/bin/python3
"""The rapid-reset benchmark: the same flood straight at gradingd and
through the edge, figures side by side. A program, not a test: straight at
gradingd the flood exhausts memory by design (grpc C core 1.51 has no
CVE-2023-44487 mitigation), so that run is stopped when gradingd's RssAnon
passes --max-rss-mb or after --seconds. The day Debian ships a fixed grpc,
the "direct" column shows it.

  tests/edge/edge_bench.py --gradingd build/gradingd [--seconds 15] [--max-rss-mb 1536]

Runs, each on a fresh gradingd (127.0.0.1, port 0, a temporary data dir):
  direct      the flood at gradingd itself
  edge        through HAProxy with deploy/haproxy/haproxy.cfg as shipped
  edge-nolim  through HAProxy with the per-source request rate limit off:
              what HAProxy's HTTP/2 handling alone does
The flood (tests/edge/h2client.py flood) comes from 127.0.0.2 on 4
connections; a well-behaved client (h2client.py health, 127.0.0.1) calls
Health/Check every 20 ms meanwhile through the same way in.
Needs haproxy and python3-h2 (Debian; scripts/setup.sh installs both).
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))
H2CLIENT = os.path.join(HERE, "h2client.py")
CONFIG = os.path.join(SOURCE_DIR, "deploy", "haproxy", "haproxy.cfg")
POLICY = os.path.join(SOURCE_DIR, "tests", "e2e", "policy.yaml")
START_TIMEOUT = 10.0
SAMPLE_S = 0.1


def rss_anon_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def wait_for(cond, what, timeout=START_TIMEOUT):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.02)
    raise SystemExit("edge_bench: %s within %.0f s" % (what, timeout))


def health_ok(target):
    out = subprocess.run([sys.executable, H2CLIENT, "health", "--target", target, "--count", "1",
                          "--source", "127.0.0.3", "--timeout", "0.5"],
                         capture_output=True, text=True, timeout=10)
    return out.returncode == 0 and '"serving": 1' in out.stdout


def stop(proc, timeout=15.0):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Gradingd:
    def __init__(self, binary, workdir):
        self.port_file = os.path.join(workdir, "port")
        self.log = open(os.path.join(workdir, "gradingd.log"), "w")
        self.proc = subprocess.Popen(
            [binary, "--listen", "127.0.0.1:0", "--port-file", self.port_file,
             "--data-dir", os.path.join(workdir, "data"), "--policy", POLICY],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(lambda: os.path.exists(self.port_file) and open(self.port_file).read().strip(),
                 "gradingd wrote no port file")
        self.addr = "127.0.0.1:%s" % open(self.port_file).read().strip()
        wait_for(lambda: health_ok(self.addr), "gradingd did not answer SERVING")

    def close(self):
        stop(self.proc)
        self.log.close()


class Edge:
    """HAProxy with the shipped config, listening on a socket bound here
    and passed in (fd@N), so its port is known before it starts."""

    def __init__(self, haproxy, backend, workdir, extra_env):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.sock.set_inheritable(True)
        self.addr = "127.0.0.1:%d" % self.sock.getsockname()[1]
        env = dict(os.environ, GRADING_EDGE_LISTEN="fd@%d" % self.sock.fileno(),
                   GRADING_BACKEND=backend, **extra_env)
        self.log = open(os.path.join(workdir, "haproxy.log"), "w")
        self.proc = subprocess.Popen([haproxy, "-db", "-f", CONFIG], env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT, pass_fds=[self.sock.fileno()])
        self.sock.close()
        wait_for(lambda: health_ok(self.addr), "no SERVING through the edge")

    def close(self):
        stop(self.proc)
        self.log.close()


def run(name, args, haproxy, edge_env):
    workdir = tempfile.mkdtemp(prefix="grading-edge-bench-")
    gd = edge = flood = health = None
    try:
        gd = Gradingd(args.gradingd, workdir)
        target = gd.addr
        if edge_env is not None:
            edge = Edge(haproxy, gd.addr, workdir, edge_env)
            target = edge.addr
        r = {"name": name, "gd_before": rss_anon_kb(gd.proc.pid),
             "edge_before": rss_anon_kb(edge.proc.pid) if edge else None}
        r["gd_max"], r["edge_max"] = r["gd_before"], r["edge_before"]
        flood = subprocess.Popen([sys.executable, H2CLIENT, "flood", "--target", target,
                                  "--source", "127.0.0.2", "--connections", "4",
                                  "--seconds", str(args.seconds), "--nice", str(args.flood_nice)],
                                 stdout=subprocess.PIPE, text=True)
        health = subprocess.Popen([sys.executable, H2CLIENT, "health", "--target", target,
                                   "--count", "100000", "--seconds", str(args.seconds),
                                   "--interval-ms", "20", "--timeout", "2"],
                                  stdout=subprocess.PIPE, text=True)
        r["stopped_at_limit"] = False
        while flood.poll() is None:
            kb = rss_anon_kb(gd.proc.pid)
            r["gd_max"] = max(r["gd_max"], kb)
            if edge:
                r["edge_max"] = max(r["edge_max"], rss_anon_kb(edge.proc.pid))
            if kb > args.max_rss_mb * 1024 and not r["stopped_at_limit"]:
                r["stopped_at_limit"] = True   # enough shown; spare the machine
                flood.send_signal(signal.SIGTERM)
                health.send_signal(signal.SIGTERM)
            time.sleep(SAMPLE_S)
        r["flood"] = json.loads(flood.communicate(timeout=30)[0].strip().splitlines()[-1])
        r["health"] = json.loads(health.communicate(timeout=30)[0].strip().splitlines()[-1])
        time.sleep(2)   # is the memory given back once the flood stops?
        r["gd_after"] = rss_anon_kb(gd.proc.pid)
        r["edge_after"] = rss_anon_kb(edge.proc.pid) if edge else None
        return r
    finally:
        for p in (flood, health):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
        if edge:
            edge.close()
        if gd:
            gd.close()
        shutil.rmtree(workdir, ignore_errors=True)


def mb(kb):
    return "-" if kb is None or kb < 0 else "%.1f MB" % (kb / 1024.0)


def report(results):
    rows = [
        ("flood streams", lambda r: str(r["flood"]["streams"])),
        ("flood seconds", lambda r: "%s%s" % (r["flood"]["seconds"],
                                              " (RSS limit)" if r["stopped_at_limit"] else "")),
        ("flood connections (re)opened", lambda r: str(r["flood"]["connections"])),
        ("gradingd RssAnon before", lambda r: mb(r["gd_before"])),
        ("gradingd RssAnon max", lambda r: mb(r["gd_max"])),
        ("gradingd RssAnon 2 s after", lambda r: mb(r["gd_after"])),
        ("haproxy RssAnon before", lambda r: mb(r["edge_before"])),
        ("haproxy RssAnon max", lambda r: mb(r["edge_max"])),
        ("health checks", lambda r: str(r["health"]["calls"])),
        ("health SERVING", lambda r: str(r["health"]["serving"])),
        ("health failed", lambda r: str(r["health"]["calls"] - r["health"]["serving"])),
        ("health p50", lambda r: "%s ms" % r["health"]["p50_ms"]),
        ("health p99", lambda r: "%s ms" % r["health"]["p99_ms"]),
        ("health max", lambda r: "%s ms" % r["health"]["max_ms"]),
    ]
    width = max(len(r[0]) for r in rows) + 2
    print("%-*s" % (width, "") + "".join("%-22s" % r["name"] for r in results))
    for label, cell in rows:
        print("%-*s" % (width, label) + "".join("%-22s" % cell(r) for r in results))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gradingd", required=True, help="the gradingd binary (build/gradingd)")
    ap.add_argument("--haproxy", default=shutil.which("haproxy") or "/usr/sbin/haproxy")
    ap.add_argument("--seconds", type=float, default=15.0, help="flood length per run")
    ap.add_argument("--max-rss-mb", type=int, default=1536,
                    help="stop the direct flood when gradingd's RssAnon passes this")
    ap.add_argument("--flood-nice", type=int, default=0,
                    help="the flood's nice value; 0 (default): as fast as this machine lets it, "
                         "as an attacker with its own CPUs would be")
    ap.add_argument("--only", choices=["direct", "edge", "edge-nolim"], action="append")
    args = ap.parse_args()
    if not os.access(args.haproxy, os.X_OK):
        raise SystemExit("edge_bench: haproxy not found (apt-get install haproxy)")
    runs = [("direct", None), ("edge", {}),
            ("edge-nolim", {"GRADING_EDGE_SRC_REQ_RATE": "1000000000"})]
    results = []
    for name, env in runs:
        if args.only and name not in args.only:
            continue
        print("# %s: flooding for up to %.0f s..." % (name, args.seconds), flush=True)
        results.append(run(name, args, args.haproxy, env))
    print("# rapid reset (CVE-2023-44487), 4 connections from 127.0.0.2 (nice %d); health every 20 ms "
          "from 127.0.0.1" % args.flood_nice)
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
