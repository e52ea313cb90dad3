"""Cold start: process spawn -> first 200 on POST /ping, N times.

usage: coldstart.py RUNS PORT CMD... (the environment is passed through)
"""
import socket
import statistics
import subprocess
import sys
import time

REQ = (
    b"POST /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b'Content-Length: 16\r\nConnection: close\r\n\r\n{"name":"World"}'
)
TIMEOUT_NS = 30 * 10**9


def answered_200(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(REQ)
            return s.recv(16).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def one_run(port, cmd):
    t0 = time.perf_counter_ns()
    proc = subprocess.Popen(cmd)
    try:
        while not answered_200(port):
            if proc.poll() is not None:
                sys.exit(f"server exited with {proc.returncode} before answering")
            if time.perf_counter_ns() - t0 > TIMEOUT_NS:
                sys.exit("no 200 on POST /ping within 30 s")
            time.sleep(0.0002)  # ~0.2 ms between attempts; keeps a core for the server
        return (time.perf_counter_ns() - t0) / 1e6
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def spawn_baseline(runs):
    """What this script's own spawn costs: Popen of /bin/true until exec returns."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        proc = subprocess.Popen(["/bin/true"])
        times.append((time.perf_counter_ns() - t0) / 1e6)
        proc.wait()
    return statistics.median(times)


def main():
    runs, port, cmd = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    if answered_200(port):
        sys.exit(f"something already answers on port {port}")
    times = [one_run(port, cmd) for _ in range(runs)]
    baseline = spawn_baseline(runs)
    print("runs (ms): " + " ".join(f"{t:.1f}" for t in times), file=sys.stderr)
    print(
        f"cold start over {runs} runs: min {min(times):.1f} ms, "
        f"median {statistics.median(times):.1f} ms, max {max(times):.1f} ms "
        f"(of which Python's own Popen of /bin/true takes {baseline:.1f} ms)"
    )


if __name__ == "__main__":
    main()
