"""Benchmark of an organization sweep (not a test: nothing here can fail a
build). Starts moto on a free 127.0.0.1 port, creates an organization of
ACCOUNTS member accounts (`moto_org_setup.py --light`: one bucket and one
key each), puts the logging proxy in front of it with DELAY_MS of latency
per request (a stand-in for a real region's round trip), sweeps the
organization with the release binary, and prints the wall time, the
requests sent, the peak resident memory of the sweep and the snapshot's
size.

Usage: python3 benches/sweep_bench.py [ACCOUNTS] [DELAY_MS] [BINARY]
Defaults: 200 accounts, 20 ms, target/release/kms-s3-doctor (build it with
`cargo build --release` first). Stops every process it started, by PID.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUPPORT = os.path.join(ROOT, "tests", "it", "support")
ACCOUNTS = int(sys.argv[1]) if len(sys.argv) > 1 else 200
DELAY_MS = int(sys.argv[2]) if len(sys.argv) > 2 else 20
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BINARY = sys.argv[3] if len(sys.argv) > 3 else os.path.join(TARGET, "release", "kms-s3-doctor")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port):
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")


def main():
    work = tempfile.mkdtemp(prefix="sweep-bench-")
    started = []
    try:
        port = free_port()
        moto = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.append(moto)
        wait_for(port)
        endpoint = f"http://127.0.0.1:{port}"
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).read()
        setup_started = time.time()
        setup = json.loads(subprocess.run(
            [sys.executable, os.path.join(SUPPORT, "moto_org_setup.py"), endpoint, str(ACCOUNTS), "--light"],
            check=True, capture_output=True, text=True).stdout)
        setup_seconds = time.time() - setup_started
        log = os.path.join(work, "requests.log")
        proxy = subprocess.Popen([sys.executable, os.path.join(SUPPORT, "aws_proxy.py"), str(port), log, str(DELAY_MS)],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        started.append(proxy)
        proxy_port = int(proxy.stdout.readline())
        key, secret = setup["credentials"]["org"]
        with open(os.path.join(work, "credentials"), "w") as out:
            out.write(f"[org]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n")
        with open(os.path.join(work, "config"), "w") as out:
            out.write("[profile org]\nregion = eu-west-1\n")
        env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
        env.update(AWS_SHARED_CREDENTIALS_FILE=os.path.join(work, "credentials"),
                   AWS_CONFIG_FILE=os.path.join(work, "config"), AWS_EC2_METADATA_DISABLED="true")
        output = os.path.join(work, "org")
        began = time.time()
        sweep = subprocess.Popen([BINARY, "snapshot", "--org-profile", "org", "--regions", "eu-west-1",
                                  "--endpoint-url", f"http://127.0.0.1:{proxy_port}", "--output", output],
                                 env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        _, status, usage = os.wait4(sweep.pid, 0)
        wall = time.time() - began
        summary = sweep.stderr.read().strip()
        requests = sum(1 for _ in open(log))
        size = sum(os.path.getsize(os.path.join(output, name)) for name in os.listdir(output))
        print(json.dumps({
            "accounts": ACCOUNTS + 1,
            "delay_ms": DELAY_MS,
            "exit": os.waitstatus_to_exitcode(status),
            "wall_seconds": round(wall, 1),
            "requests": requests,
            "requests_per_second": round(requests / wall, 1),
            "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
            "snapshot_bytes": size,
            "setup_seconds": round(setup_seconds, 1),
            "summary": summary,
        }, indent=2))
    finally:
        for process in reversed(started):
            process.kill()
            process.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
