#!/usr/bin/env python3
"""Malformed-request fuzzer for a running Pairwise server: every route, every way a request can be wrong.

Each request goes out over a raw socket (so it can be malformed at the HTTP level too: no Host, bad request lines,
lying Content-Length, broken chunking), on its own connection. A response of 5xx, a body that quotes internal
exception text (a Java class name, a stack frame, a Jackson or Vert.x message), any body holding a file from outside
the web root (a path traversal), or a server that stops answering is a failure. Prints requests by category and by status; exits 1 on any failure.

    bench/fuzz.py --url http://127.0.0.1:8080 --admin-token TOKEN [--requests 12000] [--seed 1] [--json OUT]
"""
import argparse
import collections
import concurrent.futures
import json
import random
import re
import socket
import sys
import time
import urllib.parse

ROUTES = [  # (method, path): the API, the pages and the static files
    ("GET", "/api/pairs/next"), ("POST", "/api/pairs"), ("POST", "/api/preferences"),
    ("GET", "/api/votes/latest"), ("GET", "/api/stats"), ("GET", "/api/training/metrics"), ("GET", "/api/events"),
    ("POST", "/api/prompts"), ("GET", "/api/export"), ("GET", "/api/adapter"), ("POST", "/api/trainer/pause"),
    ("POST", "/api/trainer/resume"), ("GET", "/metrics"), ("GET", "/"), ("GET", "/index.html"),
    ("GET", "/dashboard.html"), ("GET", "/app.js"), ("GET", "/style.css"),
    ("GET", "/webjars/uplot/1.6.30/dist/uPlot.iife.min.js"),
]
WRONG_METHODS = ["PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "FOO", "get", "POST", "GET", "HEAD",
                 "PROPFIND", "G\x00ET", "GET GET"]
# Text that only a server's internals would write: exception classes, stack frames, parser messages.
LEAK = re.compile(r"Exception|\bat [a-z]+\.[a-zA-Z.]+\(|io\.vertx|com\.fasterxml|java\.|org\.pairwise\.|"
                  r"Unexpected character|Unrecognized token|SQLITE|sqlite|/tmp/|NullPointer")
# What a path traversal would bring back, whatever the status.
TRAVERSED = re.compile(r"root:x?:0:0:|\[fonts\]|\[core\]\s+repositoryformatversion")
JSON_BODIES = [
    "", "{", "}", "[", "{\"pair_id\": ", "{\"pair_id\": \"x\", \"choice\": }", "null", "true", "0", "-1", "1e999",
    "\"a string\"", "[1, 2, 3]", "{\"pair_id\": 5, \"choice\": \"a\"}", "{\"pair_id\": \"p\", \"choice\": 7}",
    "{\"pair_id\": [], \"choice\": {}}", "{\"pair_id\": \"p\", \"choice\": \"maybe\"}",
    "{\"pair_id\": \"p\", \"choice\": \"a\", \"annotator\": 7}", "{\"pair_id\": \"p\", \"choice\": \"a\", "
    "\"idempotency_key\": false}", "{\"pair_id\": \"p\", \"choice\": \"a\", \"comment\": {\"x\": 1}}",
    "{\"prompt\": 3}", "{\"prompt\": \"\"}", "{\"prompt\": \"   \"}", "{\"prompt\": \"\\u0000\\u0000\"}",
    "{\"prompt\": \"\\u0001\\u0002\\u001f\"}", "{\"messages\": \"hi\"}", "{\"messages\": [{\"role\": 1}]}",
    "{\"messages\": []}", "{\"prompt\": \"hi\", \"messages\": []}", "{\"prompt\": [{\"role\": \"user\"}]}",
    "[" * 5000 + "]" * 5000, "{\"a\":" * 3000 + "1" + "}" * 3000, "{\"pair_id\": \"" + "x" * 5000 + "\"}",
    "{\"pair_id\": \"\\ud800\", \"choice\": \"a\"}", "{\"pair_id\": \"p\", \"pair_id\": \"q\", \"choice\": \"a\"}",
    "\ufeff{\"pair_id\": \"p\", \"choice\": \"a\"}", "{'pair_id': 'p'}", "{pair_id: p}", "{\"a\": NaN}",
    "{\"a\": 1,}", "{\"prompt\": \"" + "Once upon a time. " * 2000 + "\"}", "\x00\x00\x00\x00",
]
BINARY_BODIES = [b"\xff\xfe\xfd", b"\xc3\x28", b"{\"prompt\": \"\xed\xa0\x80\"}", bytes(range(256)), b"\x00" * 64,
                 b"\x1f\x8b\x08\x00" + b"\x00" * 32]
CONTENT_TYPES = [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                 "multipart/form-data; boundary=", "application/xml", "application/json; charset=evil",
                 "application/jsonl", "*/*", "", "application/json\r\nX-Injected: 1", "text/event-stream",
                 "application/json;;;", "APPLICATION/JSON"]
QUERIES = ["?since=abc", "?since=-1", "?since=99999999999999999999", "?limit=0", "?limit=101", "?limit=%zz",
           "?format=xml", "?format=%00", "?%", "?=&=&", "?limit=1&limit=2", "?since=" + "9" * 4000, "?a=%ff%fe",
           "?format=standard%0d%0aX: y", "?since=1e3", "?since= 1", "?%E0%A4%A"]
PATHS = ["/../../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc%2fpasswd", "/api/../../etc/passwd",
         "//api//stats", "/api/stats/", "/api/stats%00", "/api/%ff", "/" + "a" * 9000, "/api/pairs/next/../../x",
         "/webjars/../../../../etc/passwd", "/webjars/%2e%2e/%2e%2e/etc/passwd", "/index.html%00.js", "/%", "/%zz",
         "/api/nope", "/api", "/api/", "/api/pairs/next?x=\u00e9", "*", "http://evil.example/api/stats",
         "/api/STATS", "/Dashboard.html", "/.git/config", "/WEB-INF/web.xml", "/api/events?" + "x" * 5000,
         "/\\..\\..\\windows\\win.ini", "/%c0%ae%c0%ae/etc/passwd"]
AUTHS = ["Bearer", "Bearer ", "Bearer wrong", "Basic YWRtaW46YWRtaW4=", "bearer " + "x" * 10000, "Bearer \u00e9\u00e9",
         "Bearer a b c", "Token x", "Bearer \"quoted\"", "Bearer\tx", "Negotiate x", ", Bearer x"]
COOKIES = ["pairwise_annotator=", "pairwise_annotator=short", "pairwise_annotator=" + "a" * 5000,
           "pairwise_annotator=\"quoted\"", "pairwise_annotator=%00%01", "=; ;;=x", "a=b; pairwise_annotator=x y",
           "pairwise_annotator=\u00e9\u00e9"]
ORIGINS = ["null", "http://evil.example", "https://evil.example", "file://", "http://127.0.0.1.evil.example",
           "garbage", "http://[::1", ""]


class Case:
    def __init__(self, category, raw, expect_stream=False):
        self.category = category
        self.raw = raw
        self.expect_stream = expect_stream


def request(method, path, host, headers=(), body=None, version="HTTP/1.1", content_length=True):
    if isinstance(body, str):
        body = body.encode("utf-8", "surrogatepass")
    lines = [f"{method} {path} {version}"]
    if host is not None:
        lines.append(f"Host: {host}")
    lines += list(headers)
    if body is not None and content_length:
        lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogatepass")
    return head + (body or b"")


def cases(host, token, rng):
    admin = f"Authorization: Bearer {token}"
    json_ct = "Content-Type: application/json"
    out = []
    post_routes = [p for m, p in ROUTES if m == "POST"]
    for method, path in ROUTES:
        for m in WRONG_METHODS:
            if m != method:
                out.append(Case("wrong method", request(m, path, host, [admin])))
        out.append(Case("no Host header", request(method, path, None, [admin])))
        out.append(Case("no Host header, HTTP/1.0", request(method, path, None, [admin], version="HTTP/1.0")))
        for h in ["", "evil.example", "a" * 3000, "[::1", "127.0.0.1:99999", "host name"]:
            out.append(Case("bad Host header", request(method, path, h, [admin])))
        out.append(Case("two Host headers", request(method, path, host, [f"Host: evil.example", admin])))
        for q in QUERIES:
            out.append(Case("bad query", request(method, path + q, host, [admin]),
                            expect_stream=path == "/api/events"))
        for a in AUTHS:
            out.append(Case("bad Authorization", request(method, path, host, [f"Authorization: {a}"])))
        for c in COOKIES:
            out.append(Case("bad Cookie", request(method, path, host, [f"Cookie: {c}"]),
                            expect_stream=path == "/api/events"))
        for o in ORIGINS:
            body = "{}" if method == "POST" else None
            out.append(Case("foreign Origin", request(method, path, host, [f"Origin: {o}", json_ct, admin], body),
                            expect_stream=path == "/api/events"))
            out.append(Case("foreign Referer", request(method, path, host, [f"Referer: {o}/page", json_ct, admin],
                                                        body), expect_stream=path == "/api/events"))
        for v in ["HTTP/9.9", "HTTP/1", "HTTP/1.1 extra", "", "http/1.1", "HTTP/2.0", "HTTP/0.9"]:
            out.append(Case("bad request line", request(method, path, host, [admin], version=v)))
    for path in PATHS:
        for method in ["GET", "POST", "HEAD"]:
            body = "{}" if method == "POST" else None
            out.append(Case("bad path", request(method, path, host, [admin, json_ct], body)))
    for path in post_routes:
        for auth in [[], [admin], ["Authorization: Bearer wrong-token"]]:
            for b in JSON_BODIES:
                for ct in [json_ct] + ([f"Content-Type: {rng.choice(CONTENT_TYPES[1:])}"] if b else []):
                    out.append(Case("bad JSON body", request("POST", path, host, auth + [ct], b)))
            for b in BINARY_BODIES:
                out.append(Case("binary body", request("POST", path, host, auth + [json_ct], b)))
            for ct in CONTENT_TYPES:
                hdr = [] if ct is None else [f"Content-Type: {ct}"]
                out.append(Case("bad Content-Type", request("POST", path, host, auth + hdr,
                                                            "{\"prompt\": \"hi\", \"pair_id\": \"p\"}")))
                out.append(Case("form post", request("POST", path, host, auth + hdr,
                                                     "pair_id=p&choice=a&annotator=victim")))
        for accept in ["text/event-stream", "*/*", "text/html", "garbage/\x01"]:
            for b in ["{\"prompt\": \"\\u0000\"}", "{bad", "{\"prompt\": 3}"]:
                out.append(Case("bad body, streamed", request("POST", path, host,
                                                               [f"Accept: {accept}", json_ct, admin], b)))
        # HTTP framing: lying lengths and broken chunking.
        for cl in ["-1", "abc", "99999999999999999999", "1, 2", " 5", "0x10", "+3"]:
            out.append(Case("bad Content-Length", request("POST", path, host, [admin, json_ct, f"Content-Length: {cl}"],
                                                          "{}", content_length=False)))
        out.append(Case("Content-Length and chunked", request("POST", path, host, [admin, json_ct,
                                                              "Transfer-Encoding: chunked"], "0\r\n\r\n")))
        for chunked in ["zz\r\n{}\r\n0\r\n\r\n", "2\r\n{}\r\n", "-1\r\n\r\n", "2;ext=\x01\r\n{}\r\n0\r\n\r\n",
                        "FFFFFFFFFFFFFFFF\r\n{}", "2\r\n{}0\r\n\r\n"]:
            out.append(Case("bad chunked body", request("POST", path, host, [admin, json_ct,
                                                         "Transfer-Encoding: chunked"], chunked, content_length=False)))
        for te in ["gzip", "chunked, gzip", "identity", "chunked\x00"]:
            out.append(Case("bad Transfer-Encoding", request("POST", path, host, [admin, json_ct,
                                                             f"Transfer-Encoding: {te}"], "{}")))
        out.append(Case("body past Content-Length", request("POST", path, host, [admin, json_ct, "Content-Length: 2"],
                                                            "{}GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                                                            content_length=False)))
    # Multipart uploads of prompts: broken boundaries, empty parts, NUL-only and control-only prompts.
    for boundary, body in [
            ("b", "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"p.txt\"\r\n\r\n\x00\x00\x00\r\n--b--\r\n"),
            ("b", "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"p.txt\"\r\n\r\n\x01\x02\r\n--b--\r\n"),
            ("b", "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"p.txt\"\r\n\r\n\r\n--b--\r\n"),
            ("b", "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"../../x\"\r\n\r\nhi\r\n--b--\r\n"),
            ("b", "--b\r\n\r\nno disposition\r\n--b--\r\n"), ("b", "--c\r\nwrong boundary\r\n--c--\r\n"),
            ("b", "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"p\"\r\n\r\nunterminated"),
            ("", "----\r\n\r\n"), ("b" * 200, "--" + "b" * 200 + "--\r\n")]:
        for auth in [[admin], []]:
            out.append(Case("bad multipart upload", request("POST", "/api/prompts", host, auth + [
                f"Content-Type: multipart/form-data; boundary={boundary}"], body)))
    for body in ["\x00\x00\x00\n", "\x00", "", "\n\n\n", "\x01\x02\x03\n\x7f\n", " \t \n", "\u200b\n",
                 "{\"prompt\": \"\\u0000\"}\n", "\x1b[31m\x1b[0m\n"]:
        for ct in ["text/plain", "application/jsonl", "application/json"]:
            out.append(Case("empty or control-only prompts", request("POST", "/api/prompts", host,
                                                                     [admin, f"Content-Type: {ct}"], body)))
    # Header-level garbage.
    for hdrs in [["NoColonHeader"], ["X: a\r\n b"], [": empty name"], ["X-Long: " + "a" * 20000],
                 ["X\x00: y"], ["Content-Type: application/json", "Content-Type: text/plain"],
                 ["Accept: " + "text/event-stream," * 500], ["Expect: 100-continue"], ["Expect: 42-nonsense"],
                 ["Connection: Upgrade", "Upgrade: websocket"], ["Upgrade: h2c", "Connection: Upgrade, HTTP2-Settings",
                                                                  "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA"],
                 ["X-Forwarded-For: 1.2.3.4"], ["Range: bytes=5-1"], ["Range: bytes=0-0,0-0,0-0,0-0"],
                 ["If-Modified-Since: garbage"], ["Accept-Encoding: gzip;q=nope"]]:
        for method, path in ROUTES:
            body = "{}" if method == "POST" else None
            out.append(Case("bad headers", request(method, path, host, hdrs + [admin, json_ct], body),
                            expect_stream=path == "/api/events"))
    rng.shuffle(out)
    return out


def send(url_host, url_port, case, timeout):
    """(status or 'no response'/'timeout', body bytes) for one request on its own connection."""
    try:
        s = socket.create_connection((url_host, url_port), timeout=timeout)
    except OSError as e:
        return f"connect failed ({e.__class__.__name__})", b""
    try:
        s.settimeout(timeout)
        try:
            s.sendall(case.raw)
        except OSError:
            pass  # the server may close early (413, 400) while we still send: its answer may be in the buffer
        data = b""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in data and len(data) < 1 << 20 and time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        if not data:
            return "no response", b""
        head, _, body = data.partition(b"\r\n\r\n")
        m = re.match(rb"HTTP/\d\.\d (\d{3})", head)
        if not m:
            return "not HTTP", data[:200]
        status = int(m.group(1))
        length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        want = min(int(length.group(1)), 256 * 1024) if length else (0 if case.expect_stream else 256 * 1024)
        s.settimeout(2 if not length else timeout)
        while len(body) < want:
            try:
                chunk = s.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            body += chunk
        return status, head + b"\r\n\r\n" + body
    finally:
        s.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--admin-token", required=True)
    ap.add_argument("--requests", type=int, default=12000, help="at least this many (the cases repeat, reshuffled)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--timeout", type=float, default=15.0)
    ap.add_argument("--json", help="write the figures here")
    a = ap.parse_args()
    u = urllib.parse.urlsplit(a.url)
    host, port = u.hostname, u.port or 80
    rng = random.Random(a.seed)
    todo = []
    while len(todo) < a.requests:
        todo += cases(f"{host}:{port}", a.admin_token, rng)
    by_status = collections.Counter()
    by_category = collections.defaultdict(collections.Counter)
    failures = []
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(a.workers) as pool:
        for case, (status, body) in zip(todo, pool.map(lambda c: send(host, port, c, a.timeout), todo)):
            by_status[status] += 1
            by_category[case.category][status] += 1
            text = body.decode("utf-8", "replace")
            leak = (LEAK.search(text) if isinstance(status, int) and status >= 400 else None) or TRAVERSED.search(text)
            if isinstance(status, int) and status >= 500 or leak or status == "not HTTP":
                if len(failures) < 20:
                    failures.append(f"{status} {case.category}: {case.raw[:160]!r} -> "
                                    f"{(leak.group(0) + ' in ') if leak else ''}{body[:300]!r}")
                by_category[case.category]["FAIL"] += 1
    seconds = time.monotonic() - started
    fivexx = sum(n for s, n in by_status.items() if isinstance(s, int) and s >= 500)
    leaks = sum(c["FAIL"] for c in by_category.values()) - fivexx
    # The server must still answer normally afterwards.
    alive, _ = send(host, port, Case("after", request("GET", "/api/training/metrics", f"{host}:{port}")), a.timeout)

    def label(s):
        return str(s)
    print(f"{len(todo)} malformed requests in {seconds:.0f} s; server afterwards: {alive}")
    print("\n| category | requests | by status |\n|---|---|---|")
    for cat in sorted(by_category):
        c = by_category[cat]
        total = sum(n for s, n in c.items() if s != "FAIL")
        print(f"| {cat} | {total} | " + ", ".join(f"{label(s)}: {n}" for s, n in sorted(
            ((s, n) for s, n in c.items() if s != "FAIL"), key=lambda x: str(x[0]))) + " |")
    print("\n| status | responses |\n|---|---|")
    for s, n in sorted(by_status.items(), key=lambda x: str(x[0])):
        print(f"| {label(s)} | {n} |")
    print(f"\n5xx responses: {fivexx}; responses quoting internal text: {max(0, leaks)}")
    for f in failures:
        print("  " + f)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"requests": len(todo), "seconds": seconds, "by_status": {label(k): v for k, v in
                       by_status.items()}, "by_category": {k: {label(s): n for s, n in v.items()} for k, v in
                       by_category.items()}, "5xx": fivexx, "leaks": max(0, leaks), "alive_after": label(alive)},
                      fh, indent=1)
    sys.exit(0 if fivexx == 0 and leaks <= 0 and alive == 200 else 1)


if __name__ == "__main__":
    main()
