"""Seeds a KiteMate server with public widgets for bench/discover.sh.

python3 bench/seed_widgets.py BASE USERS PER_USER: signs up USERS users
(seedN@example.com) and makes PER_USER public widgets for each through
POST /widgets, on 8 keep-alive connections; prints one profile's username.
"""

import concurrent.futures
import http.client
import json
import sys
import urllib.parse

WORDS = ["dividend", "banks", "it", "pharma", "midcap", "smallcap", "etf", "gold",
         "momentum", "value", "growth", "defensive", "auto", "energy", "fmcg", "psu"]
KINDS = [("pie", {"type": "allocation", "by": "sector"}),
         ("table", {"type": "holdings", "top": 10}),
         ("bar", {"type": "movers", "direction": "gainers", "measure": "percent", "n": 5}),
         ("metric", {"type": "summary", "figures": ["unrealizedPercent"]})]


def connect(base):
    url = urllib.parse.urlparse(base)
    return http.client.HTTPConnection(url.hostname, url.port, timeout=30)


def call(conn, method, path, body, token=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    conn.request(method, path, json.dumps(body), headers)
    res = conn.getresponse()
    data = res.read()
    if res.status >= 300:
        raise SystemExit(f"{method} {path}: {res.status} {data[:200]!r}")
    return json.loads(data) if data else None


def seed_user(base, n, per_user):
    conn = connect(base)
    token = call(conn, "POST", "/auth/signup", {
        "email": f"seed{n}@example.com", "password": "river otter lantern",
        "username": f"seed{n}"})["token"]
    for i in range(per_user):
        kind, source = KINDS[i % len(KINDS)]
        a, b = WORDS[(n + i) % len(WORDS)], WORDS[(n * 7 + i * 3) % len(WORDS)]
        call(conn, "POST", "/widgets", {
            "title": f"{a.title()} and {b} #{n}-{i}", "kind": kind, "source": source,
            "description": f"A {a} view of a {b} portfolio", "tags": [a, b] if a != b else [a],
            "visibility": "public"}, token)
    conn.close()
    return f"seed{n}"


def main():
    base, users, per_user = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        names = list(pool.map(lambda n: seed_user(base, n, per_user), range(users)))
    print(names[0])


main()
