#!/usr/bin/env bash
# Crash durability: kill -9 under a vote stream, CYCLES times, on one data dir. Each cycle starts `pairwise serve`
# (its own JVM, demo model unless MODEL is set), checks the trainer resumed from its newest checkpoint, streams votes
# from VOTERS threads (each vote with its own idempotency key; every 201 is written to a ledger before the next
# vote), and kills the server with SIGKILL at a random moment 1-5 s in. At the end the SQLite file is audited against
# the ledger: every acknowledged vote present exactly once (lost, duplicated), no refused vote stored, the pairs'
# policy_version never going backwards, and PRAGMA integrity_check.
# Usage: bench/crash-bench.sh   (env: CYCLES=20 VOTERS=32 MODEL=demo SEED=1)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CYCLES=${CYCLES:-20} VOTERS=${VOTERS:-32} MODEL=${MODEL:-demo} SEED=${SEED:-1}
JAR="$ROOT/launcher/target/pairwise.jar"
[ -f "$JAR" ] || (cd "$ROOT" && bin/with-jdk25 ./mvnw -q -B -o -DskipTests -P '!tornadovm' -pl launcher -am package)
JAVA_HOME=${JAVA_HOME:-$(bash -c 'ls -d /usr/lib/jvm/*25* | head -1')}
JAVA="$JAVA_HOME/bin/java"
OUT=$(mktemp -d /tmp/pairwise-crash-bench.XXXXXX)
DATA="$OUT/data"
TOKEN="bench-admin-$RANDOM$RANDOM$RANDOM"
echo "results in $OUT" >&2

/usr/bin/python3 - "$JAVA" "$JAR" "$DATA" "$OUT" "$TOKEN" "$CYCLES" "$VOTERS" "$MODEL" "$SEED" <<'PY'
import http.client, json, os, random, re, signal, socket, sqlite3, subprocess, sys, threading, time
java, jar, data, out, token, cycles, voters, model, seed = sys.argv[1:]
cycles, voters = int(cycles), int(voters)
rng = random.Random(int(seed))
ledger = open(os.path.join(out, "acknowledged.tsv"), "a")   # key <tab> id, one line per 201
refused = open(os.path.join(out, "refused.tsv"), "a")       # key <tab> status, answered but not stored
ledger_lock = threading.Lock()

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def latest_checkpoint():
    root = os.path.join(data, "trainer_output")
    best = None
    if os.path.isdir(root):
        for d in os.listdir(root):
            st = os.path.join(root, d, "trainer_state.json")
            if d.startswith("checkpoint-") and d[11:].isdigit() and os.path.isfile(st):
                if best is None or int(d[11:]) > best[0]:
                    best = (int(d[11:]), json.load(open(st)))
    return best[1] if best else None

def get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", path); r = c.getresponse(); body = r.read(); c.close()
    return r.status, body

def voter(port, pairs, tag, stop, counts):
    conn = None; n = 0
    while not stop.is_set():
        key = f"{tag}-{n}"; n += 1
        body = json.dumps({"pair_id": rng.choice(pairs), "choice": rng.choice(["a", "a", "b", "b", "tie"]), "annotator": key,
                           "idempotency_key": key})
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("POST", "/api/preferences", body, {"Content-Type": "application/json"})
            r = conn.getresponse(); text = r.read()
        except (OSError, http.client.HTTPException):
            counts["lost_connection"] += 1   # killed mid-request: not acknowledged, may or may not be stored
            conn = None
            if stop.is_set():
                return
            time.sleep(0.05); continue
        with ledger_lock:
            if r.status == 201:
                ledger.write(f"{key}\t{json.loads(text)['id']}\n"); ledger.flush(); counts["acknowledged"] += 1
            else:
                refused.write(f"{key}\t{r.status}\n"); refused.flush(); counts[str(r.status)] = counts.get(str(r.status), 0) + 1

rows = []
for cycle in range(1, cycles + 1):
    port = free_port()
    ckpt = latest_checkpoint()
    log = open(os.path.join(out, f"server-{cycle}.log"), "w")
    server = subprocess.Popen([java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-jar", jar, "serve", "--model", model, "--port", str(port), "--data-dir", data, "--admin-token", token,
        "--pool-size", "8", "--pair-views", "1000000000", "--max-new-tokens", "8", "--batch-size", "4",
        "--publish-every", "1", "--save-steps", "3", "--batch-window-ms", "200",
        "--generation-threads", "1", "--training-threads", "1"], stdout=log, stderr=subprocess.STDOUT)
    started = time.time()
    while True:
        if server.poll() is not None:
            sys.exit(f"cycle {cycle}: the server exited with {server.returncode}; see {log.name}")
        try:
            status, body = get(port, "/api/training/metrics?since=1000000000")
            if status == 200:
                trainer = json.loads(body)["trainer"]; break
        except OSError:
            pass
        if time.time() - started > 120:
            sys.exit(f"cycle {cycle}: the server did not answer within 120 s; see {log.name}")
        time.sleep(0.1)
    # What the server says it resumed (printed before it listens) against the newest checkpoint on disk.
    said = re.search(r"Resumed training at step (\d+), policy version (\d+)", open(log.name).read())
    resumed = (int(said.group(1)), int(said.group(2))) if said else (0, 0)
    resumed_ok = resumed == ((ckpt["global_step"], ckpt["policy_version"]) if ckpt else (0, 0))
    pairs = []
    while len(pairs) < 16:
        status, body = get(port, "/api/pairs/next")
        if status == 200:
            pairs.append(json.loads(body)["pair_id"])
        else:
            time.sleep(0.05)
    stop = threading.Event(); counts = {"acknowledged": 0, "lost_connection": 0}
    threads = [threading.Thread(target=voter, args=(port, pairs, f"c{cycle}t{t}", stop, counts)) for t in range(voters)]
    for t in threads:
        t.start()
    time.sleep(rng.uniform(1.0, 5.0))
    server.send_signal(signal.SIGKILL); server.wait()
    stop.set()
    for t in threads:
        t.join()
    rows.append((cycle, ckpt["global_step"] if ckpt else 0, resumed[0], resumed[1], resumed_ok,
                 counts["acknowledged"], counts["lost_connection"],
                 sum(v for k, v in counts.items() if k not in ("acknowledged", "lost_connection"))))
    print(f"cycle {cycle}: resumed at step {resumed[0]} (checkpoint {rows[-1][1]}), "
          f"{counts['acknowledged']} votes acknowledged, then SIGKILL", file=sys.stderr)

ledger.close(); refused.close()
acked = dict(l.rstrip("\n").split("\t") for l in open(os.path.join(out, "acknowledged.tsv")))
ref = dict(l.rstrip("\n").split("\t") for l in open(os.path.join(out, "refused.tsv")))
db = sqlite3.connect(os.path.join(data, "pairwise.db"))
integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
stored = {}
for key, vid, n in db.execute("SELECT idempotency_key, MIN(id), COUNT(*) FROM preferences GROUP BY idempotency_key"):
    stored[key] = (vid, n)
lost = [k for k in acked if k not in stored]
duplicated = [k for k in acked if k in stored and stored[k][1] > 1]
wrong_id = [k for k in acked if k in stored and str(stored[k][0]) != acked[k]]
refused_stored = [k for k in ref if k in stored]
versions = [v for (v,) in db.execute("SELECT policy_version FROM pairs ORDER BY rowid")]
backwards = sum(1 for a, b in zip(versions, versions[1:]) if b < a)
print("| cycle | checkpoint step | resumed at step | policy version | resumed from checkpoint | acknowledged | cut by the kill | refused |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {'yes' if r[4] else 'NO'} | {r[5]} | {r[6]} | {r[7]} |")
print()
print(f"kills: {len(rows)}; acknowledged votes: {len(acked)}; lost: {len(lost)}; duplicated: {len(duplicated)}; "
      f"stored under another id: {len(wrong_id)}; refused but stored: {len(refused_stored)}; "
      f"resumed from the checkpoint: {sum(1 for r in rows if r[4])}/{len(rows)}; "
      f"policy_version going backwards: {backwards}; integrity_check: {integrity}")
sys.exit(0 if not (lost or duplicated or wrong_id or refused_stored or backwards) and integrity == "ok"
         and all(r[4] for r in rows) else 1)
PY
