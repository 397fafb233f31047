#!/usr/bin/python3
# Managed by pgprov (roles/patroni): changes here are replaced on the next apply.
"""HAProxy's agent for the replica pool: answers each connection with one line, whether this member streams.

pgprov-replica-agent ADDRESS PORT PSQL PGPORT [SECONDS] (pgprov-replica-agent.service, as postgres): PostgreSQL is
asked at most once per SECONDS (default 2), whoever asks the agent.

HAProxy's replica pool asks Patroni's REST API whether a member is a replica within the allowed lag. Debian 12's
Patroni (3.0.2) judges the lag from the WAL the replica has replayed, so a replica whose WAL receiver stopped on a
diverged timeline ("out-of-sequence timeline ID": it holds WAL the leader never had) stays "running, lag 0" and
in the pool, serving reads the cluster does not have. HAProxy also asks this agent (agent-check), which reads
PostgreSQL's own view: "up" while the WAL receiver streams (or on a primary, which the REST check keeps out of
the pool anyway), else "down" with the receiver's status as the reason HAProxy shows. An agent HAProxy cannot
reach changes nothing (the REST check still decides), so a member without it is judged as before.
"""
import socketserver
import subprocess
import sys
import threading
import time

SQL = (
    "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 'primary' "
    "ELSE coalesce((SELECT status FROM pg_stat_wal_receiver), 'no WAL receiver') END"
)


def verdict(psql, port):
    try:
        r = subprocess.run([psql, '-XAtq', '-p', port, '-c', SQL], capture_output=True, text=True, timeout=3)
    except (OSError, subprocess.TimeoutExpired):
        return 'down #PostgreSQL does not answer'
    state = r.stdout.strip()
    if r.returncode != 0 or not state:
        return 'down #PostgreSQL does not answer'
    if state in ('streaming', 'primary'):
        return 'up'
    return 'down #WAL receiver: ' + state


class Cached:
    """The verdict, asked of PostgreSQL at most once per `seconds`: every balancer asks each member every agent
    interval, and each psql run costs a process and a backend (measured on the lab, 2% of a core per member
    without it)."""

    def __init__(self, ask, seconds):
        self.ask, self.seconds = ask, seconds
        self.lock = threading.Lock()
        self.at, self.value = None, None

    def get(self):
        with self.lock:
            now = time.monotonic()
            if self.at is None or now - self.at >= self.seconds:
                self.value, self.at = self.ask(), now
            return self.value


def main():
    address, port, psql, pgport = sys.argv[1:5]
    seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 2.0
    cached = Cached(lambda: verdict(psql, pgport), seconds)

    class Agent(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.sendall((cached.get() + '\n').encode())

    socketserver.ThreadingTCPServer.allow_reuse_address = True
    socketserver.ThreadingTCPServer.daemon_threads = True
    with socketserver.ThreadingTCPServer((address, int(port)), Agent) as server:
        server.serve_forever()


if __name__ == '__main__':
    main()
