#!/usr/bin/env python3
"""Stress figures for Rounds' store and audit log (README "Stress figures"; BENCHMARKS.md).

Runs the real `rounds` executable against throw-away stores and reports:

  kill      shells recording decisions, SIGKILLed at random moments: decisions lost after a
            printed "Recorded", broken chains afterwards
  writers   four shells recording decisions at once: decisions lost, "database is locked"
            errors shown to users, broken chains
  tamper    random single tamperings of a copy of the store (the chain, decisions, the Merkle
            tree, checkpoints, the head; also rewrites by someone holding the site key):
            detected, by kind
  fhir      mutated real FHIR bundles (../shared/fixtures/fhir) imported: crashes, hangs,
            errors that do not name file and position, stores changed by a failed import

`--short` (CI, within a minute on a debug build) and `--long` (the figures in BENCHMARKS.md).
Exits 1 if any figure whose goal is 0 is not 0. Only the Python standard library is used.
"""
import argparse
import concurrent.futures
import hashlib
import hmac
import json
import os
import pty
import random
import re
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(os.path.dirname(ROOT), "shared", "fixtures", "fhir")

SIZES = {
    #            kills writers(x decisions) tamperings fhir mutations
    "short": dict(kills=6, writers=4, decisions=10, tamperings=52, fhir=21, cohort=120, hang=60),
    "long": dict(kills=200, writers=4, decisions=50, tamperings=1000, fhir=320, cohort=400, hang=120),
}


class Rounds:
    """The executable and the environment every run gets."""

    def __init__(self, exe):
        self.exe = exe
        self.env = dict(os.environ, NO_COLOR="1", COLUMNS="160", ROUNDS_KNOWLEDGE=os.path.join(ROOT, "Knowledge"), ROUNDS_NO_DEMO="1")
        self.env.pop("ROUNDS_CLINICIAN", None)

    def run(self, db, args, stdin=None, timeout=120):
        return subprocess.run([self.exe, *args], input=stdin, capture_output=True, env=dict(self.env, ROUNDS_DB=db), timeout=timeout)

    def verify(self, db):
        """(ok, first problem kind or None)."""
        r = self.run(db, ["audit", "verify", "--json"])
        try:
            v = json.loads(r.stdout)
        except ValueError:
            return False, "unreadable output (status %d): %s" % (r.returncode, r.stderr.decode(errors="replace")[-200:])
        ok = r.returncode == 0 and v.get("problems") == []
        return ok, (v["problems"][0]["kind"] if v.get("problems") else None)


def copy_store(src, dst):
    """A consistent copy of a store (SQLite's backup, WAL included) and its two key files."""
    s, d = sqlite3.connect(src), sqlite3.connect(dst)
    s.backup(d)
    s.close(), d.close()
    for suffix in (".site-key", ".signing-key"):
        shutil.copyfile(src + suffix, dst + suffix)
        os.chmod(dst + suffix, 0o600)


def patients(db):
    c = sqlite3.connect(db)
    ids = [r[0] for r in c.execute("SELECT id FROM patient ORDER BY id")]
    c.close()
    return ids


def decisions_by_patient(db):
    c = sqlite3.connect(db)
    out = dict(c.execute("SELECT patient_id, count(*) FROM decision GROUP BY patient_id"))
    c.close()
    return out


# --- kill ------------------------------------------------------------------------------------

def run_killed_shell(rounds, db, lines, delay):
    """Starts a shell with its output on a pseudo-terminal (so that, as at a terminal, every line
    is shown as soon as it is printed), feeds it `lines`, SIGKILLs it after `delay` seconds and
    returns what it had shown."""
    master, slave = pty.openpty()
    p = subprocess.Popen([rounds.exe, "--no-history"], stdin=subprocess.PIPE, stdout=slave, stderr=slave, env=dict(rounds.env, ROUNDS_DB=db))
    os.close(slave)
    shown = bytearray()

    def reader():
        while True:
            try:
                r, _, _ = select.select([master], [], [], 0.2)
                if r:
                    chunk = os.read(master, 65536)
                    if not chunk:
                        return
                    shown.extend(chunk)
                elif p.poll() is not None:
                    return
            except OSError:
                return

    t = threading.Thread(target=reader)
    t.start()
    try:
        p.stdin.write("".join(lines).encode())
        p.stdin.flush()
    except BrokenPipeError:
        pass
    time.sleep(delay)
    p.send_signal(signal.SIGKILL)
    p.wait()
    t.join()
    os.close(master)
    return shown.decode(errors="replace")


RECORDED = re.compile(r"Recorded: .*? for (\S+), visit")
REFUSED = re.compile(r"error: .+ is contraindicated for \S+:")


def stress_kill(rounds, base, work, n, rng, out):
    db = os.path.join(work, "kill.sqlite")
    copy_store(base, db)
    ids = patients(db)
    printed = {}
    lost = broken = 0
    recorded_total = 0
    # The time one decision takes here sets how long to wait before the kill.
    t0 = time.time()
    probe = rounds.run(db, ["--no-history"], stdin=("signin dr-kill\nload %s\naccept\n" % ids[1]).encode())
    per = max(0.05, time.time() - t0)
    for line in RECORDED.findall(probe.stdout.decode(errors="replace")):
        printed[line] = printed.get(line, 0) + 1
    for i in range(n):
        chosen = rng.sample(ids, 12)
        lines = ["signin dr-kill\n"] + ["load %s\naccept\n" % p for p in chosen]
        text = run_killed_shell(rounds, db, lines, rng.uniform(0.0, per * 8))
        for patient in RECORDED.findall(text):
            printed[patient] = printed.get(patient, 0) + 1
            recorded_total += 1
        stored = decisions_by_patient(db)
        lost = sum(max(0, c - stored.get(p, 0)) for p, c in printed.items())
        ok, kind = rounds.verify(db)
        if not ok:
            broken += 1
            out.setdefault("kill_broken_kinds", []).append(kind)
            copy_store(base, db)  # start again from an intact store, keeping the count honest
            printed = {}
        if lost:
            out.setdefault("kill_lost_examples", []).append(i)
    out.update(kill_runs=n, kill_recorded_seen=recorded_total, kill_decisions_lost=lost, kill_broken_chains=broken)


# --- writers ---------------------------------------------------------------------------------

def stress_writers(rounds, base, work, writers, decisions, rng, out):
    db = os.path.join(work, "writers.sqlite")
    copy_store(base, db)
    ids = patients(db)
    rng.shuffle(ids)
    before = decisions_by_patient(db)
    scripts = []
    for w in range(writers):
        mine = [ids[(w * decisions + k) % len(ids)] for k in range(decisions)]
        scripts.append("signin dr-writer-%d\n" % w + "".join("load %s\naccept\n" % p for p in mine))
    procs = [subprocess.Popen([rounds.exe, "--no-history"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=dict(rounds.env, ROUNDS_DB=db)) for _ in range(writers)]
    results = [None] * writers

    def feed(i):
        results[i] = procs[i].communicate(scripts[i].encode(), timeout=1800)

    threads = [threading.Thread(target=feed, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    printed = sum(len(RECORDED.findall(o.decode(errors="replace"))) for o, _ in results)
    # `accept` of a contraindicated top choice is refused by design (clinical safety): that
    # decision was never to be recorded, so it is not counted as lost.
    refused = sum(len(REFUSED.findall((o + e).decode(errors="replace"))) for o, e in results)
    locked = sum((o + e).decode(errors="replace").count("database is locked") for o, e in results)
    c = sqlite3.connect(db)
    stored = c.execute("SELECT count(*) FROM decision WHERE clinician LIKE 'dr-writer-%'").fetchone()[0]
    c.close()
    ok, kind = rounds.verify(db)
    out.update(writers=writers, writers_decisions_asked=writers * decisions, writers_recorded=printed, writers_stored=stored,
               writers_refused=refused,
               writers_lost=max(0, writers * decisions - refused - stored) + max(0, printed - stored), writers_locked_errors=locked,
               writers_broken_chains=0 if ok else 1)


# --- tamper ----------------------------------------------------------------------------------

def sha(b):
    return hashlib.sha256(b).hexdigest()


def link(prev, content_hash):
    return sha(bytes.fromhex(prev) + bytes.fromhex(content_hash))


def flip_char(s, rng):
    i = rng.randrange(len(s))
    c = s[i]
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    new = rng.choice([a for a in alphabet if a != c])
    return s[:i] + new + s[i + 1:]


def rechain(c, start, site_key):
    """As someone holding the site key: the chain from `start` on and the head's MAC made consistent."""
    rows = c.execute("SELECT seq, content, prev_hash FROM audit WHERE seq >= ? ORDER BY seq", (start,)).fetchall()
    prev = rows[0][2] if rows else None
    for seq, content, _ in rows:
        ch = sha(content.encode())
        h = link(prev, ch)
        c.execute("UPDATE audit SET content_hash = ?, prev_hash = ?, hash = ? WHERE seq = ?", (ch, prev, h, seq))
        prev = h
    seq, h = c.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    mac = hmac.new(site_key, ("rounds-audit-head/1 %d %s" % (seq, h)).encode(), hashlib.sha256).hexdigest()
    c.execute("UPDATE audit_head SET seq = ?, hash = ?, mac = ?", (seq, h, mac))


def rebuild_tree(c):
    """RFC 9162's tree over the entries, saved in post-order as Rounds saves it."""
    c.execute("DELETE FROM audit_tree")
    stack, pos = [], 0
    for (content,) in c.execute("SELECT content FROM audit ORDER BY seq").fetchall():
        node = hashlib.sha256(b"\x00" + content.encode()).digest()
        c.execute("INSERT INTO audit_tree (pos, hash) VALUES (?, ?)", (pos, node)); pos += 1
        stack.append((node, 1))
        while len(stack) >= 2 and stack[-1][1] == stack[-2][1]:
            (right, n), (left, _) = stack.pop(), stack.pop()
            node = hashlib.sha256(b"\x01" + left + right).digest()
            c.execute("INSERT INTO audit_tree (pos, hash) VALUES (?, ?)", (pos, node)); pos += 1
            stack.append((node, 2 * n))


def tamper(kind, db, rng):
    """Applies one tampering of `kind`; returns a description, or None if it does not apply to this store."""
    c = sqlite3.connect(db)
    site_key = open(db + ".site-key", "rb").read()
    n = c.execute("SELECT count(*) FROM audit").fetchone()[0]
    seq = rng.randrange(n)
    cols = ["recorded_at", "event", "clinician", "patient_id", "content", "content_hash", "prev_hash", "hash"]
    try:
        if kind == "entry-cell":
            col = rng.choice(cols)
            old = c.execute("SELECT %s FROM audit WHERE seq = ?" % col, (seq,)).fetchone()[0]
            new = flip_char(old, rng) if old else "x"
            c.execute("UPDATE audit SET %s = ? WHERE seq = ?" % col, (new, seq))
            what = "%s of #%d" % (col, seq)
        elif kind == "entry-rehashed":
            content = c.execute("SELECT content FROM audit WHERE seq = ?", (seq,)).fetchone()[0]
            new = content.replace('"user":"', '"user":"x', 1)
            ch = sha(new.encode())
            prev = c.execute("SELECT prev_hash FROM audit WHERE seq = ?", (seq,)).fetchone()[0]
            c.execute("UPDATE audit SET content = ?, content_hash = ?, hash = ? WHERE seq = ?", (new, ch, link(prev, ch), seq))
            what = "#%d rewritten with its own hashes" % seq
        elif kind == "entry-deleted":
            c.execute("DELETE FROM audit WHERE seq = ?", (seq,))
            what = "#%d deleted" % seq
        elif kind == "entries-swapped":
            if n < 2:
                return None
            a = rng.randrange(n - 1)
            ra = c.execute("SELECT %s FROM audit WHERE seq = ?" % ",".join(cols), (a,)).fetchone()
            rb = c.execute("SELECT %s FROM audit WHERE seq = ?" % ",".join(cols), (a + 1,)).fetchone()
            sets = ",".join("%s = ?" % k for k in cols)
            c.execute("UPDATE audit SET %s WHERE seq = ?" % sets, (*rb, a))
            c.execute("UPDATE audit SET %s WHERE seq = ?" % sets, (*ra, a + 1))
            what = "#%d and #%d swapped" % (a, a + 1)
        elif kind == "entry-appended":
            last = c.execute("SELECT seq, recorded_at, content, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
            content = last[2].replace('"seq":%d' % last[0], '"seq":%d' % (last[0] + 1))
            ch = sha(content.encode())
            c.execute("INSERT INTO audit (seq, recorded_at, event, clinician, patient_id, content, content_hash, prev_hash, hash) "
                      "SELECT ?, recorded_at, event, clinician, patient_id, ?, ?, ?, ? FROM audit WHERE seq = ?",
                      (last[0] + 1, content, ch, last[3], link(last[3], ch), last[0]))
            what = "an entry appended with correct hashes"
        elif kind == "tail-truncated":
            k = rng.randint(1, min(5, n))
            c.execute("DELETE FROM audit WHERE seq > ?", (n - 1 - k,))
            last = c.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
            c.execute("UPDATE audit_head SET seq = ?, hash = ?", last)
            what = "the last %d entries removed and the head moved (no site key)" % k
        elif kind == "head":
            col = rng.choice(["seq", "hash", "mac"])
            if col == "seq":
                c.execute("UPDATE audit_head SET seq = seq - 1")
            else:
                old = c.execute("SELECT %s FROM audit_head" % col).fetchone()[0]
                c.execute("UPDATE audit_head SET %s = ?" % col, (flip_char(old, rng),))
            what = "the head's %s" % col
        elif kind == "decision-cell":
            ids = [r[0] for r in c.execute("SELECT id FROM decision")]
            if not ids:
                return None
            d = rng.choice(ids)
            col = rng.choice(["recorded_at", "clinician", "patient_id", "outcome", "recommended", "chosen", "reward", "model_sha256", "body"])
            if col == "reward":
                c.execute("UPDATE decision SET reward = reward + 0.5 WHERE id = ?", (d,))
            elif col == "outcome":
                c.execute("UPDATE decision SET outcome = CASE outcome WHEN 'accepted' THEN 'overridden' ELSE 'accepted' END WHERE id = ?", (d,))
            else:
                old = c.execute("SELECT %s FROM decision WHERE id = ?" % col, (d,)).fetchone()[0]
                c.execute("UPDATE decision SET %s = ? WHERE id = ?" % col, (flip_char(old, rng), d))
            what = "decision %s's %s" % (d[:8], col)
        elif kind == "decision-deleted":
            ids = [r[0] for r in c.execute("SELECT id FROM decision")]
            if not ids:
                return None
            c.execute("DELETE FROM decision WHERE id = ?", (rng.choice(ids),))
            what = "a decision deleted"
        elif kind == "tree-node":
            m = c.execute("SELECT count(*) FROM audit_tree").fetchone()[0]
            pos = rng.randrange(m)
            node = bytearray(c.execute("SELECT hash FROM audit_tree WHERE pos = ?", (pos,)).fetchone()[0])
            node[rng.randrange(32)] ^= 1 << rng.randrange(8)
            c.execute("UPDATE audit_tree SET hash = ? WHERE pos = ?", (bytes(node), pos))
            what = "Merkle node %d" % pos
        elif kind == "checkpoint":
            ids = [r[0] for r in c.execute("SELECT id FROM audit_checkpoint")]
            if not ids:
                return None
            cid = rng.choice(ids)
            col = rng.choice(["size", "root", "time", "signature", "log"])
            if col == "size":
                c.execute("UPDATE audit_checkpoint SET size = size - 1 WHERE id = ?", (cid,))
            else:
                old = c.execute("SELECT %s FROM audit_checkpoint WHERE id = ?" % col, (cid,)).fetchone()[0]
                c.execute("UPDATE audit_checkpoint SET %s = ? WHERE id = ?" % col, (flip_char(old, rng), cid))
            what = "checkpoint %d's %s" % (cid, col)
        elif kind == "rewrite-with-site-key":
            content = c.execute("SELECT content FROM audit WHERE seq = ?", (seq,)).fetchone()[0]
            c.execute("UPDATE audit SET content = ? WHERE seq = ?", (content.replace('"user":"', '"user":"x', 1), seq))
            rechain(c, seq, site_key)
            what = "#%d rewritten, chain and head MAC redone with the site key" % seq
        elif kind == "rewrite-with-site-key-and-tree":
            content = c.execute("SELECT content FROM audit WHERE seq = ?", (seq,)).fetchone()[0]
            c.execute("UPDATE audit SET content = ? WHERE seq = ?", (content.replace('"user":"', '"user":"x', 1), seq))
            rechain(c, seq, site_key)
            rebuild_tree(c)
            what = "#%d rewritten, chain, MAC and Merkle tree redone (no signing key)" % seq
        else:
            raise ValueError(kind)
        c.commit()
        return what
    finally:
        c.close()


TAMPER_KINDS = ["entry-cell", "entry-rehashed", "entry-deleted", "entries-swapped", "entry-appended", "tail-truncated", "head",
                "decision-cell", "decision-deleted", "tree-node", "checkpoint", "rewrite-with-site-key", "rewrite-with-site-key-and-tree"]


def stress_tamper(rounds, base, work, n, rng, out):
    counts = {k: [0, 0] for k in TAMPER_KINDS}  # detected, tried
    caught_as = {}
    missed = []
    seeds = [rng.randrange(1 << 30) for _ in range(n)]

    def one(i):
        r = random.Random(seeds[i])
        kind = TAMPER_KINDS[i % len(TAMPER_KINDS)]
        db = os.path.join(work, "tamper-%d.sqlite" % i)
        copy_store(base, db)
        try:
            what = tamper(kind, db, r)
            if what is None:
                return kind, None, None, None
            ok, problem = rounds.verify(db)
            return kind, what, not ok, problem
        finally:
            for suffix in ("", "-wal", "-shm", ".site-key", ".signing-key"):
                if os.path.exists(db + suffix):
                    os.remove(db + suffix)

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for kind, what, detected, problem in pool.map(one, range(n)):
            if what is None:
                continue
            counts[kind][1] += 1
            if detected:
                counts[kind][0] += 1
                caught_as.setdefault(kind, {}).setdefault(problem, 0)
                caught_as[kind][problem] += 1
            else:
                missed.append(what)
    out.update(tamper_tried=sum(t for _, t in counts.values()), tamper_detected=sum(d for d, _ in counts.values()),
               tamper_missed=len(missed), tamper_by_kind={k: {"detected": d, "tried": t, "reported_as": caught_as.get(k, {})} for k, (d, t) in counts.items()},
               tamper_missed_examples=missed[:10])


# --- fhir ------------------------------------------------------------------------------------

def mutate(data, kind, rng):
    """One mutation of a FHIR bundle's bytes."""
    text = data.decode("utf-8")
    if kind == "truncated":
        return data[:rng.randrange(1, len(data) - 1)]
    if kind == "byte-flips":
        b = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b)
    if kind == "wrong-types":
        keys = ["birthDate", "gender", "effectiveDateTime", "value", "code", "system", "reference", "status", "resourceType", "entry", "valueQuantity", "coding"]
        key = rng.choice(keys)
        spots = [m.start() for m in re.finditer(r'"%s"\s*:\s*' % key, text)]
        if not spots:
            return None
        at = rng.choice(spots)
        m = re.compile(r'"%s"\s*:\s*' % key).match(text, at)
        start = m.end()
        # Replace the value (up to the next , or } at the same depth, roughly: a scalar or a bracketed value).
        end = value_end(text, start)
        replacement = rng.choice(['42', '-1.5e308', 'true', 'null', '[]', '{}', '"x"', '[1,"a",{}]', '{"value":"nested"}'])
        return (text[:start] + replacement + text[end:]).encode()
    if kind == "nan-infinity":
        spots = [m for m in re.finditer(r'("value"\s*:\s*)(-?\d+(\.\d+)?)', text)]
        if not spots:
            return None
        m = rng.choice(spots)
        return (text[:m.start(2)] + rng.choice(["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "nan"]) + text[m.end(2):]).encode()
    if kind == "deep-nesting":
        depth = rng.choice([1000, 10000, 100000])
        spots = [m.end() for m in re.finditer(r'"resource"\s*:\s*\{', text)]
        at = rng.choice(spots)
        nest, closing = rng.choice([("[", "]"), ('{"a":', "}")])
        return (text[:at] + '"extension":' + nest * depth + "1" + closing * depth + "," + text[at:]).encode()
    if kind == "invalid-utf8":
        b = bytearray(data)
        strings = [m.start() + 1 for m in re.finditer(rb'"[A-Za-z]', data)]
        at = rng.choice(strings)
        b[at:at] = rng.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80"])
        return bytes(b)
    if kind == "impossible-dates":
        spots = [m for m in re.finditer(r'"(\d{4}-\d{2}-\d{2})', text)]
        m = rng.choice(spots)
        bad = rng.choice(["2023-02-30", "2023-13-01", "0000-00-00", "2023-00-10", "1999-04-31", "99999-01-01", "2023-1-1", "2023-02-29T25:61:00Z"])
        return (text[:m.start(1)] + bad + text[m.end(1):]).encode()
    raise ValueError(kind)


def value_end(text, start):
    """Where the JSON value starting at `start` ends (a rough scanner: strings and brackets)."""
    i, depth, in_string = start, 0, False
    while i < len(text):
        ch = text[i]
        if in_string:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_string = False
                if depth == 0:
                    return i + 1
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            if depth == 0:
                return i
            depth -= 1
            if depth == 0:
                return i + 1
        elif ch == "," and depth == 0:
            return i
        i += 1
    return i


FHIR_KINDS = ["truncated", "byte-flips", "wrong-types", "nan-infinity", "deep-nesting", "invalid-utf8", "impossible-dates"]
POSITION = re.compile(r"(:\d+\b|line \d+|entry \d+|byte \d+|offset \d+|the whole file was read)")


def store_state(db):
    c = sqlite3.connect(db)
    h = hashlib.sha256()
    for table in ("patient", "cohort", "cohort_truth", "decision"):
        for row in c.execute("SELECT * FROM %s ORDER BY 1" % table):
            h.update(repr(row).encode())
    c.close()
    return h.hexdigest()


def stress_fhir(rounds, base, work, n, rng, hang, out):
    files = sorted(os.path.join(FIXTURES, f) for f in os.listdir(FIXTURES) if f.endswith(".json"))
    datas = {f: open(f, "rb").read() for f in files}
    seeds = [rng.randrange(1 << 30) for _ in range(n)]
    figures = dict(crashes=0, hangs=0, unnamed=0, changed=0, failed=0, imported=0)
    examples = {k: [] for k in figures}
    by_kind = {k: 0 for k in FHIR_KINDS}

    def one(i):
        r = random.Random(seeds[i])
        kind = FHIR_KINDS[i % len(FHIR_KINDS)]
        mutated = None
        while mutated is None:
            f = r.choice(files)
            mutated = mutate(datas[f], kind, r)
        name = "mutant-%d-%s.json" % (i, kind)
        path = os.path.join(work, name)
        with open(path, "wb") as fh:
            fh.write(mutated)
        db = os.path.join(work, "fhir-%d.sqlite" % i)
        copy_store(base, db)
        before = store_state(db)
        result = dict(kind=kind, file=name)
        try:
            p = rounds.run(db, ["import", path], timeout=hang)
            result["status"] = p.returncode
            text = (p.stdout + p.stderr).decode(errors="replace")
            result["crash"] = p.returncode < 0 or p.returncode > 1
            errors = error_lines(text)
            result["failed"] = p.returncode == 1
            result["unnamed"] = [e for e in errors if name not in e or not POSITION.search(e)]
            if p.returncode != 0 and not errors:
                result["unnamed"] = ["(no error named the file) " + text[-300:]]
            result["changed"] = p.returncode != 0 and store_state(db) != before
        except subprocess.TimeoutExpired:
            result["hang"] = True
        finally:
            for suffix in ("", "-wal", "-shm", ".site-key", ".signing-key"):
                if os.path.exists(db + suffix):
                    os.remove(db + suffix)
        if not (result.get("crash") or result.get("hang") or result.get("unnamed") or result.get("changed")):
            os.remove(path)
        return result

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for res in pool.map(one, range(n)):
            by_kind[res["kind"]] += 1
            for key, flag in (("crashes", res.get("crash")), ("hangs", res.get("hang")), ("unnamed", bool(res.get("unnamed"))), ("changed", res.get("changed"))):
                if flag:
                    figures[key] += 1
                    examples[key].append("%s (%s): %s" % (res["file"], res["kind"], (res.get("unnamed") or [""])[0][:240]))
            figures["failed" if res.get("failed") else "imported"] += 1
    out.update(fhir_mutants=n, fhir_by_kind=by_kind, fhir_crashes=figures["crashes"], fhir_hangs=figures["hangs"],
               fhir_unnamed_errors=figures["unnamed"], fhir_store_changed_by_failed_import=figures["changed"],
               fhir_failed_imports=figures["failed"], fhir_imported=figures["imported"],
               fhir_examples={k: v[:5] for k, v in examples.items() if v and k not in ("failed", "imported")})


def error_lines(text):
    """The error lines of an import report: those under its "Errors" heading, and any `error:` line."""
    lines, out, under = text.splitlines(), [], False
    for line in lines:
        if line.startswith("Errors ("):
            under = True
            continue
        if under and line.startswith("  "):
            out.append(line.strip())
            continue
        under = False
        if line.lower().startswith("error:"):
            out.append(line)
    return out


# --- main ------------------------------------------------------------------------------------

ZERO_GOALS = ["kill_decisions_lost", "kill_broken_chains", "writers_lost", "writers_locked_errors", "writers_broken_chains", "tamper_missed",
              "fhir_crashes", "fhir_hangs", "fhir_unnamed_errors", "fhir_store_changed_by_failed_import"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    size = ap.add_mutually_exclusive_group()
    size.add_argument("--short", action="store_true", help="the CI version (the default)")
    size.add_argument("--long", action="store_true", help="the version whose figures BENCHMARKS.md gives")
    ap.add_argument("--rounds", help="the executable (default: .build/release/rounds, else .build/debug/rounds)")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--only", choices=["kill", "writers", "tamper", "fhir"], action="append")
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()
    exe = args.rounds or next((p for p in (os.path.join(ROOT, ".build/release/rounds"), os.path.join(ROOT, ".build/debug/rounds")) if os.path.exists(p)), None)
    if not exe:
        sys.exit("no rounds executable: `swift build` first, or give --rounds")
    s = SIZES["long" if args.long else "short"]
    rng = random.Random(args.seed)
    rounds = Rounds(exe)
    out = dict(version="long" if args.long else "short", seed=args.seed, executable=exe)
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="rounds-stress-") as work:
        base = os.path.join(work, "base.sqlite")
        r = rounds.run(base, ["cohort", "generate", "--n", str(s["cohort"]), "--seed", "7"])
        if r.returncode != 0:
            sys.exit("cannot make the base store: " + r.stderr.decode(errors="replace"))
        # A few decisions and checkpoints in the base log, so that tamperings have them to hit.
        ids = patients(base)
        rounds.run(base, ["--no-history"], stdin=("signin dr-base\n" + "".join("load %s\naccept\n" % p for p in ids[:6])).encode())
        rounds.run(base, ["--no-history"], stdin=("signin dr-base\n" + "".join("load %s\noverride insulin --reason cost-coverage\n" % p for p in ids[6:9])).encode())
        fhir_base = os.path.join(work, "fhir-base.sqlite")
        copy_store(base, fhir_base)
        rounds.run(fhir_base, ["import", FIXTURES])
        only = set(args.only or ["kill", "writers", "tamper", "fhir"])
        phases = [("kill", lambda: stress_kill(rounds, base, work, s["kills"], rng, out)),
                  ("writers", lambda: stress_writers(rounds, base, work, s["writers"], s["decisions"], rng, out)),
                  ("tamper", lambda: stress_tamper(rounds, base, work, s["tamperings"], rng, out)),
                  ("fhir", lambda: stress_fhir(rounds, fhir_base, work, s["fhir"], rng, s["hang"], out))]
        for name, phase in phases:
            if name in only:
                t = time.time()
                phase()
                out["seconds_" + name] = round(time.time() - t, 1)
    out["seconds"] = round(time.time() - started, 1)
    report(out)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=2, sort_keys=True)
    bad = [k for k in ZERO_GOALS if out.get(k, 0) != 0]
    if bad:
        print("FAILED: not 0: " + ", ".join("%s = %s" % (k, out[k]) for k in bad))
        sys.exit(1)


def report(o):
    print("Rounds stress (%s, seed %d, %s), %.0f s" % (o["version"], o["seed"], os.path.relpath(o["executable"], ROOT), o["seconds"]))
    if "kill_runs" in o:
        print("  kill:    %d shells SIGKILLed while recording (%d \"Recorded\" seen): lost after \"Recorded\" %d, broken chains %d"
              % (o["kill_runs"], o["kill_recorded_seen"], o["kill_decisions_lost"], o["kill_broken_chains"]))
    if "writers" in o:
        print("  writers: %d shells x %d decisions at once: %d recorded, %d stored, %d refused as contraindicated, lost %d, \"database is locked\" shown %d, broken chains %d"
              % (o["writers"], o["writers_decisions_asked"] // o["writers"], o["writers_recorded"], o["writers_stored"], o.get("writers_refused", 0), o["writers_lost"],
                 o["writers_locked_errors"], o["writers_broken_chains"]))
    if "tamper_tried" in o:
        print("  tamper:  %d single tamperings: detected %d, missed %d" % (o["tamper_tried"], o["tamper_detected"], o["tamper_missed"]))
        for k, v in o["tamper_by_kind"].items():
            print("           %-32s %4d / %-4d reported as %s" % (k, v["detected"], v["tried"], ", ".join("%s %d" % kv for kv in sorted(v["reported_as"].items()))))
        for m in o["tamper_missed_examples"]:
            print("           missed: " + m)
    if "fhir_mutants" in o:
        print("  fhir:    %d mutated bundles (%s): crashes %d, hangs %d, errors not naming file and position %d, stores changed by a failed import %d (%d failed, %d imported)"
              % (o["fhir_mutants"], ", ".join("%s %d" % kv for kv in o["fhir_by_kind"].items()), o["fhir_crashes"], o["fhir_hangs"], o["fhir_unnamed_errors"],
                 o["fhir_store_changed_by_failed_import"], o["fhir_failed_imports"], o["fhir_imported"]))
        for k, v in o.get("fhir_examples", {}).items():
            for e in v:
                print("           %s: %s" % (k, e))


if __name__ == "__main__":
    main()
