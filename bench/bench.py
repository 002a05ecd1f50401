#!/usr/bin/env python3
"""Times ksec against the real sops and rops, in one run, and prints the ratios and peak memory.

Usage:
    eval "$(../shared/peers/install-peers.sh --with-rops)" && bench/bench.py [options]

    --runs N      runs per tool and step; the median is printed (default 3, 1 with --quick)
    --only ROWS   comma-separated rows, by number or name: 1 secret, 2 json, 3 value,
                  4 stream, 5 small, 6 repo (default: all, always printed in that order)
    --quick       small inputs, to check the harness itself in a minute (not for figures)
    --markdown    print the table as the README's Markdown instead of plain text
    --keys, --json-mb, --value-mib, --docs, --files, --small-runs: input sizes and run counts

What it does: builds the release binary (`cargo build --release --locked`), installs nothing
(the peers come from install-peers.sh through KSEC_PEER_SOPS and KSEC_PEER_ROPS), generates every
input from fixed seeds, then for each row and step runs the tools alternately (ksec, sops, rops,
ksec, sops, rops, ...) so that a change in the machine's load falls on every tool alike.

Rows (each tool encrypts for the age recipient of testdata/keys/sample.agekey):
  1 secret  one Secret with 50,000 `data` keys, encrypted_regex ^(data|stringData)$; ksec runs
            with --no-validate on encrypt, as the Secret is over Kubernetes's 1 MiB limit
  2 json    nested JSON of about 5 MB (objects and arrays four levels deep; strings, numbers,
            booleans), every value encrypted (sops's default rule)
  3 value   a YAML file with one key whose value is a 10 MiB base64 string, every value encrypted
  4 stream  a stream of 1,000 Secrets, encrypted_regex; rops cannot read multi-document YAML
  5 small   one Secret with 3 keys, encrypted_regex; 20 runs, as each takes milliseconds
  6 repo    a tree of 2,000 encrypted Secret files under k8s/, with a .sops.yaml whose creation
            rule adds a second age recipient; ksec's one invocation against sops run once per
            file, as users script it: `ksec decrypt -R k8s` / `for f; do sops decrypt "$f"; done`,
            `ksec check k8s` (sops has none), `ksec updatekeys --yes k8s` / `sops updatekeys -y`
            per file, and `ksec rotate -i` / `sops rotate -i` per file (ksec has no multi-file
            rotate, so both loop). updatekeys and rotate start each run from a pristine copy.

Columns: median wall time of each tool, sops ÷ ksec and rops ÷ ksec, peak RSS of each tool
(ru_maxrss of the child; for a shell loop, of its largest invocation), the input and output sizes
(ksec's files), and ksec's peak RSS ÷ max(input, output) (the memory goal is at most 4x; it only
means something for the large single-file rows 1-4, where the process's fixed baseline is small).

Validation (untimed), so that a fast but wrong run cannot pass: after each encrypt, every tool
that can read the format decrypts every other tool's output and the content is compared with the
generated input (sops and ksec read each other's files; rops reads both of theirs; rops 0.1.7
writes no sops.version, which sops and ksec refuse, so rops's files are read back by rops alone);
after each decrypt, each tool's plaintext is compared with the input. For the repository: ksec's
stream is compared file by file, the sops loop must print one document per file, updatekeys must
leave every file with both recipients, rotate must change every file, and each tool's rewritten
tree is decrypted by the other tool and compared.

A missing sops stops the run with the install hint; a missing or failing rops prints `—` in its
columns, with a note saying why.
"""
import argparse
import base64
import json
import os
import random
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY = os.path.join(ROOT, "testdata", "keys", "sample.agekey")
RECIPIENT = "age1a9rwfgzv4n0vlm94485cv65gye0m597ax2ujym3ertpf5ynn9vfqn4qzky"
# The second recipient the repository's creation rule adds: a public test vector (tests/common).
RECIPIENT_2 = "age1afnrdrkyvy0sl5e08t9ffs4c7g5e5npc8luf7hjc77syewg5gajsls4r90"
RULE = "^(data|stringData)$"
TOOLS = ("ksec", "sops", "rops")
INSTALL = 'eval "$(../shared/peers/install-peers.sh --with-rops)"'
ROWS = ("secret", "json", "value", "stream", "small", "repo")


class Failure(Exception):
    """A tool failed or wrote something wrong: the run stops (or, for rops, its cell says why)."""


# ---------------------------------------------------------------------------------------------
# Inputs: generated from fixed seeds, returned as (text, the documents it holds).


def emit_yaml(doc, indent=0):
    """YAML for a mapping of mappings and plain strings (every string here is plain-safe)."""
    out = []
    for key, value in doc.items():
        if isinstance(value, dict):
            out.append(f"{' ' * indent}{key}:\n")
            out.append(emit_yaml(value, indent + 2))
        else:
            out.append(f"{' ' * indent}{key}: {value}\n")
    return "".join(out)


def b64(text):
    return base64.b64encode(text.encode()).decode()


def secret(name, namespace, data):
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace},
            "type": "Opaque", "data": data}


def big_secret(keys):
    doc = secret("big", "bench", {f"key{i:06d}": b64(f"value-{i:06d}-{'x' * 24}") for i in range(keys)})
    return emit_yaml(doc), [doc]


def stream(docs):
    out = [secret(f"s{d:04d}", f"ns{d % 7}", {f"k{k}": b64(f"doc{d}-key{k}-secret") for k in range(5)})
           for d in range(docs)]
    return "".join("---\n" + emit_yaml(doc) for doc in out), out


def small_secret():
    doc = secret("db", "payments", {"username": b64("payments"), "password": b64("hunter2-0123456789"),
                                    "url": b64("postgres://db.payments.svc:5432/payments")})
    return emit_yaml(doc), [doc]


def one_value(mib):
    raw = random.Random(3).randbytes(mib * 1024 * 1024 * 3 // 4)
    doc = {"value": base64.b64encode(raw).decode()}
    return emit_yaml(doc), [doc]


WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november "
         "oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu").split()
EVENTS = ("created", "updated", "renewed", "suspended", "deleted", "restored")
CITIES = ("Zürich", "São Paulo", "Kraków", "Montréal", "Tokyo", "Lagos", "Oslo", "Lima")


def json_record(rng, i):
    return {
        "id": f"rec-{i:07d}",
        "name": f"{rng.choice(WORDS)} {rng.choice(WORDS)}",
        "active": rng.random() < 0.5,
        "score": round(rng.uniform(0, 1000), 2),
        "count": rng.randrange(100_000),
        "tags": [rng.choice(WORDS) for _ in range(rng.randrange(1, 5))],
        "address": {
            "street": f"{rng.randrange(1, 999)} {rng.choice(WORDS).title()} Street",
            "city": rng.choice(CITIES),
            "zip": f"{rng.randrange(10000, 99999)}",
            "geo": {"lat": round(rng.uniform(-90, 90), 4), "lon": round(rng.uniform(-180, 180), 4)},
        },
        "history": [{"ts": 1_700_000_000 + rng.randrange(10**7), "event": rng.choice(EVENTS),
                     "amount": round(rng.uniform(0, 500), 2), "ok": rng.random() < 0.9}
                    for _ in range(rng.randrange(1, 4))],
    }


def nested_json(megabytes):
    rng, records, size, target = random.Random(2), [], 0, int(megabytes * 1_000_000)
    while size < target:
        record = json_record(rng, len(records))
        records.append(record)
        text = json.dumps(record, indent=2, ensure_ascii=False)
        size += len(text.encode()) + 4 * (text.count("\n") + 1) + 2  # nested two levels down
    doc = {"kind": "inventory", "version": 1, "records": records}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n", [doc]


# ---------------------------------------------------------------------------------------------
# Reading plaintext back: YAML of nested mappings and scalars (what every tool writes for the
# inputs above), JSON with the standard library. Strings stay strings: the inputs hold no others.


YAML_LINE = re.compile(r"^( *)([^\s:#'\"][^:]*?):(?: +(.*?))? *$")


def yaml_scalar(text):
    if text.startswith("'") and text.endswith("'") and len(text) >= 2:
        return text[1:-1].replace("''", "'")
    if text.startswith('"') and text.endswith('"') and len(text) >= 2:
        return json.loads(text)
    if text[:1] in ("|", ">", "[", "{", "&", "*", "!"):
        raise ValueError(f"unexpected YAML value {text[:40]!r}")
    return text


def parse_yaml_docs(text):
    docs, stack = [], None
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped == "...":
            continue
        if stripped == "---" or stripped.startswith("--- "):
            stack = None
            continue
        match = YAML_LINE.match(line)
        if not match:
            raise ValueError(f"unexpected YAML line {line[:60]!r}")
        indent, key, value = len(match[1]), match[2], match[3]
        if stack is None:
            docs.append({})
            stack = [(-1, docs[-1])]
        while stack[-1][0] >= indent:
            stack.pop()
        if value:
            stack[-1][1][key] = yaml_scalar(value)
        else:
            child = stack[-1][1][key] = {}
            stack.append((indent, child))
    return docs


def parse_docs(path, fmt):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return [json.loads(text)] if fmt == "json" else parse_yaml_docs(text)


def first_difference(got, want, where="$"):
    if isinstance(want, dict) and isinstance(got, dict):
        for key in list(want) + [k for k in got if k not in want]:
            if key not in got or key not in want:
                return f"{where}.{key} is {'missing' if key not in got else 'extra'}"
            diff = first_difference(got[key], want[key], f"{where}.{key}")
            if diff:
                return diff
        return None
    if isinstance(want, list) and isinstance(got, list):
        if len(got) != len(want):
            return f"{where} has {len(got)} items, not {len(want)}"
        for i, (g, w) in enumerate(zip(got, want)):
            diff = first_difference(g, w, f"{where}[{i}]")
            if diff:
                return diff
        return None
    if got == want and isinstance(got, bool) == isinstance(want, bool):
        return None
    return f"{where} is {str(got)[:40]!r}, not {str(want)[:40]!r}"


# ---------------------------------------------------------------------------------------------
# Running and timing one command.


class Cmd:
    def __init__(self, argv, stdin=None, stdout=None, cwd=None, before=None):
        self.argv, self.stdin, self.stdout, self.cwd, self.before = argv, stdin, stdout, cwd, before


def size(path):
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)
    return os.path.getsize(path)


class Bench:
    def __init__(self, args, ksec, sops, rops, tmp):
        self.args, self.tmp = args, tmp
        self.bin = {"ksec": ksec, "sops": sops, "rops": rops}
        self.notes, self.results = [], []
        self.stderr_path = os.path.join(tmp, "stderr.txt")
        self.scratch = os.path.join(tmp, "stdout.txt")
        with open(KEY) as f:
            age_key = next(line.strip() for line in f if line.startswith("AGE-SECRET-KEY-"))
        empty = os.path.join(tmp, "empty")
        open(empty, "w").close()
        # rops reads a .rops.toml found upward from the working directory unless given one: give
        # it an empty one, and its key in ROPS_AGE (ROPS_AGE_KEY_FILE, an empty file, keeps it from
        # adding the keys of ~/.config/rops/age_keys).
        self.rops_config = os.path.join(tmp, "empty.rops.toml")
        with open(self.rops_config, "w") as f:
            f.write("creation_rules = []\n")
        # Each command runs under bench/runrss.c, which reports the child's own wall time and peak
        # RSS (started from Python directly, a child's ru_maxrss is at least Python's own peak).
        self.runrss, self.report = os.path.join(tmp, "runrss"), os.path.join(tmp, "runrss.out")
        cc = subprocess.run(["cc", "-O2", "-o", self.runrss, os.path.join(ROOT, "bench", "runrss.c")],
                            capture_output=True, text=True)
        if cc.returncode != 0:
            sys.exit(f"bench: cannot compile bench/runrss.c with cc (cargo's linker): {cc.stderr[:300]}")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("SOPS_", "ROPS_"))}
        # The 5 MB JSON encrypts into a 20 MB file, past the 16 MiB ksec reads (and so writes)
        # by default: raised as a user with such files would raise it.
        self.env.update(SOPS_AGE_KEY_FILE=KEY, SOPS_DISABLE_VERSION_CHECK="1",
                        ROPS_AGE=age_key, ROPS_AGE_KEY_FILE=empty, KSEC_MAX_INPUT_SIZE="64M")

    def note(self, text):
        if text not in self.notes:
            self.notes.append(text)

    def run(self, cmd):
        """Runs once: (seconds, peak RSS in MiB). Raises Failure on a non-zero exit."""
        if cmd.before:
            cmd.before()
        stdin = open(cmd.stdin, "rb") if cmd.stdin else subprocess.DEVNULL
        # stdout and stderr go to files: a pipe read only after the process ends would block a
        # tool that writes more than the pipe holds.
        with open(cmd.stdout or self.scratch, "wb") as out, open(self.stderr_path, "wb") as err:
            code = subprocess.call([self.runrss, self.report] + cmd.argv, env=self.env, cwd=cmd.cwd or self.tmp,
                                   stdin=stdin, stdout=out, stderr=err)
        if cmd.stdin:
            stdin.close()
        if code != 0:
            with open(self.stderr_path, "rb") as f:
                tail = f.read().decode(errors="replace").strip().splitlines()
            # The first lines of stderr, without a Rust backtrace's frames.
            kept = [line.strip() for line in tail if line.strip() and not line.strip()[0].isdigit()
                    and not line.strip().startswith("at ")]
            argv = " ".join(shlex.quote(a) for a in cmd.argv[:6]) + (" …" if len(cmd.argv) > 6 else "")
            message = f"`{argv}` exited {code}: {' / '.join(kept)[:300]}"
            raise Failure(message.replace(self.tmp + "/", "").replace(ROOT + "/", ""))
        with open(self.report) as f:
            seconds, kib = f.read().split()
        return float(seconds), int(kib) / 1024

    def measure(self, label, step, cmds, runs, sizes, per_file=False):
        """Runs the tools alternately `runs` times; records and prints one table row."""
        times, peaks = {t: [] for t in cmds}, {t: 0.0 for t in cmds}
        sys.stderr.write(f"bench: {label}: {step} ({runs} runs of {', '.join(cmds)})\n")
        for _ in range(runs):
            for tool in TOOLS:
                if tool not in cmds:
                    continue
                try:
                    seconds, peak = self.run(cmds[tool])
                except Failure as e:
                    if tool != "rops":
                        raise
                    self.note(f"rops failed on {label}, {step}: {e}")
                    del cmds[tool], times[tool]
                    continue
                times[tool].append(seconds)
                peaks[tool] = max(peaks[tool], peak)
        in_size, out_size = sizes()
        row = {"label": label, "step": step, "in": in_size, "out": out_size, "per_file": per_file,
               "time": {t: statistics.median(v) for t, v in times.items()},
               "rss": {t: peaks[t] for t in times}}
        self.results.append(row)
        if not self.args.markdown:
            if len(self.results) == 1:
                print(text_header(), flush=True)
            previous = self.results[-2]["label"] if len(self.results) > 1 else None
            print(text_row(row, previous), flush=True)
        return set(times)

    # -- the tools' command lines ---------------------------------------------------------------

    def encrypt_cmd(self, tool, plain, fmt, rule, out, no_validate=False):
        b = self.bin[tool]
        if tool == "rops":
            argv = [b, "encrypt", "-c", self.rops_config, "-f", fmt, "--age", RECIPIENT]
            # rops takes a file argument only when stdin is a terminal; otherwise it reads stdin.
            return Cmd(argv + (["--encrypted-regex", rule] if rule else []), stdin=plain, stdout=out)
        argv = [b, "encrypt", "--age", RECIPIENT] + (["--encrypted-regex", rule] if rule else [])
        argv += ["--input-type", "json", "--output-type", "json"] if fmt == "json" else []
        argv += ["--no-validate"] if no_validate and tool == "ksec" else []
        return Cmd(argv + [plain], stdout=out)

    def decrypt_cmd(self, tool, enc, fmt, out):
        b = self.bin[tool]
        if tool == "rops":
            return Cmd([b, "decrypt", "-c", self.rops_config, "-f", fmt], stdin=enc, stdout=out)
        types = ["--input-type", "json", "--output-type", "json"] if fmt == "json" else []
        return Cmd([b, "decrypt"] + types + [enc], stdout=out)

    def expect(self, what, path, fmt, expected):
        try:
            diff = first_difference(parse_docs(path, fmt), expected)
        except ValueError as e:
            diff = str(e)
        if diff:
            raise Failure(f"{what}: the plaintext differs from the input: {diff}")

    # -- rows 1-5: one file, encrypt then decrypt -----------------------------------------------

    def file_row(self, key, label, text, expected, fmt, rule, runs, rops=True, no_validate=False):
        tools = [t for t in TOOLS if self.bin[t] and (t != "rops" or rops)]
        if self.bin["rops"] and not rops:
            self.note(f"{label}: rops 0.1.7 cannot read multi-document YAML, so it is not run (—)")
        plain = os.path.join(self.tmp, f"{key}.{fmt}")
        with open(plain, "w", encoding="utf-8") as f:
            f.write(text)
        enc = {t: os.path.join(self.tmp, f"{key}.{t}.enc.{fmt}") for t in tools}
        dec = {t: os.path.join(self.tmp, f"{key}.{t}.dec.{fmt}") for t in tools}
        cmds = {t: self.encrypt_cmd(t, plain, fmt, rule, enc[t], no_validate) for t in tools}
        done = self.measure(label, "encrypt", cmds, runs, lambda: (size(plain), size(enc["ksec"])))
        tools = [t for t in tools if t in done]
        self.cross_check(label, fmt, enc, tools, expected)
        cmds = {t: self.decrypt_cmd(t, enc[t], fmt, dec[t]) for t in tools}
        done = self.measure(label, "decrypt", cmds, runs, lambda: (size(enc["ksec"]), size(dec["ksec"])))
        for tool in done:
            self.expect(f"{label}: {tool} decrypting its own file", dec[tool], fmt, expected)

    def cross_check(self, label, fmt, enc, writers, expected):
        """Every reader that can open a writer's file decrypts it; the content must match."""
        out = os.path.join(self.tmp, "check.out")
        for writer in writers:
            readers = ["rops"] if writer == "rops" else [t for t in writers]
            for reader in readers:
                what = f"{label}: {reader} decrypting {writer}'s file"
                try:
                    try:
                        self.run(self.decrypt_cmd(reader, enc[writer], fmt, out))
                    except Failure as e:
                        raise Failure(f"{what}: {e}") from None
                    self.expect(what, out, fmt, expected)
                except Failure as e:
                    if reader != "rops":
                        raise
                    self.note(f"{e} (rops's cells are still shown)")
        if "rops" in writers:
            self.note("rops 0.1.7 writes no sops.version, which sops and ksec refuse: its files "
                      "are read back by rops only; rops reads ksec's and sops's files")

    # -- row 6: a repository of encrypted Secrets -----------------------------------------------

    def repo_row(self, files, runs):
        label = f"repository, {files:,} Secret files"
        ksec, sops = self.bin["ksec"], self.bin["sops"]
        pristine = os.path.join(self.tmp, "repo")
        sys.stderr.write(f"bench: {label}: encrypting the tree with ksec (once)\n")
        expected, paths = {}, []
        for i in range(files):
            doc = secret(f"app-{i:05d}", f"ns{i % 20:02d}",
                         {f"key{k}": b64(f"file{i}-key{k}-{'s' * (8 + i % 24)}") for k in range(3 + i % 6)})
            rel = f"k8s/ns{i % 20:02d}/secret-{i:05d}.yaml"
            expected[rel] = doc
            paths.append(rel)
            os.makedirs(os.path.dirname(os.path.join(pristine, rel)), exist_ok=True)
            with open(os.path.join(pristine, rel), "w") as f:
                f.write(emit_yaml(doc))
            self.run(Cmd([ksec, "encrypt", "-i", "--age", RECIPIENT, "--encrypted-regex", RULE,
                          os.path.join(pristine, rel)]))
        paths.sort()
        with open(os.path.join(pristine, ".sops.yaml"), "w") as f:
            f.write(f"creation_rules:\n  - path_regex: \\.yaml$\n    encrypted_regex: '{RULE}'\n"
                    f"    age: {RECIPIENT},{RECIPIENT_2}\n")
        tree = os.path.join(pristine, "k8s")
        tree_size = size(tree)
        work = {t: os.path.join(self.tmp, f"repo-{t}") for t in ("ksec", "sops")}
        for root in work.values():
            os.makedirs(root)
            shutil.copy(os.path.join(pristine, ".sops.yaml"), root)

        def restore(root):
            def go():
                shutil.rmtree(os.path.join(root, "k8s"), ignore_errors=True)
                shutil.copytree(tree, os.path.join(root, "k8s"))
            return go

        def loop(argv, root, out=None, before=None):
            script = f'for f in "$@"; do {" ".join(shlex.quote(a) for a in argv)} "$f" || exit 1; done'
            return Cmd(["sh", "-c", script, "sh"] + paths, cwd=root, stdout=out, before=before)

        def by_name(docs):
            return {(d["metadata"]["namespace"], d["metadata"]["name"]): d for d in docs}

        want = by_name(expected.values())

        def expect_tree(what, root):
            """ksec decrypts the whole tree; every file must hold its input."""
            out = os.path.join(self.tmp, "tree.out")
            self.run(Cmd([ksec, "decrypt", "-R", "k8s"], cwd=root, stdout=out))
            with open(out) as f:
                got = by_name(parse_yaml_docs(f.read()))
            diff = first_difference(got, want) if got.keys() == want.keys() else \
                f"{len(got)} Secrets, not {len(want)}"
            if diff:
                raise Failure(f"{label}: {what}: {diff}")

        def expect_sample(what, reader, root):
            """sops decrypts a sample (first, middle, last), one process per file."""
            out = os.path.join(self.tmp, "check.out")
            for rel in (paths[0], paths[len(paths) // 2], paths[-1]):
                self.run(Cmd([reader, "decrypt", rel], cwd=root, stdout=out))
                self.expect(f"{label}: {what}: {rel}", out, "yaml", [expected[rel]])

        def files_of(root):
            for rel in paths:
                with open(os.path.join(root, rel)) as f:
                    yield rel, f.read()

        # decrypt: one recursive invocation against one sops process per file.
        outs = {t: os.path.join(self.tmp, f"repo.{t}.dec.yaml") for t in ("ksec", "sops")}
        self.measure(label, "decrypt all", {
            "ksec": Cmd([ksec, "decrypt", "-R", "k8s"], cwd=pristine, stdout=outs["ksec"]),
            "sops": loop([sops, "decrypt"], pristine, outs["sops"]),
        }, runs, lambda: (tree_size, size(outs["ksec"])))
        with open(outs["ksec"]) as f:
            got = by_name(parse_yaml_docs(f.read()))
        if got != want:
            raise Failure(f"{label}: ksec decrypt -R: {first_difference(got, want) or 'different Secrets'}")
        with open(outs["sops"]) as f:
            count = sum(1 for line in f if line.startswith("apiVersion: "))
        if count != files:
            raise Failure(f"{label}: the sops loop printed {count} documents, not {files}")

        # check: no sops equivalent.
        self.measure(label, "check", {"ksec": Cmd([ksec, "check", "k8s"], cwd=pristine)}, runs,
                     lambda: (tree_size, 0))
        self.note(f"{label}, check: sops has no equivalent (—); `ksec check` exits 0 on this tree")

        # updatekeys: every file gains the second recipient; values and data key stay.
        self.measure(label, "updatekeys", {
            "ksec": Cmd([ksec, "updatekeys", "--yes", "k8s"], cwd=work["ksec"], before=restore(work["ksec"])),
            "sops": loop([sops, "updatekeys", "-y"], work["sops"], before=restore(work["sops"])),
        }, runs, lambda: (tree_size, size(os.path.join(work["ksec"], "k8s"))))
        for tool, root in work.items():
            missing = [rel for rel, text in files_of(root) if RECIPIENT_2 not in text]
            if missing:
                raise Failure(f"{label}: after {tool} updatekeys, {len(missing)} files lack the new recipient "
                              f"(first: {missing[0]})")
        expect_tree("ksec decrypting the tree sops updated", work["sops"])
        expect_tree("ksec decrypting the tree ksec updated", work["ksec"])
        expect_sample("sops decrypting files ksec updated", sops, work["ksec"])

        # rotate: a new data key in every file, one invocation per file for both tools.
        self.measure(label, f"rotate -i ×{files:,}", {
            "ksec": loop([ksec, "rotate", "-i"], work["ksec"], before=restore(work["ksec"])),
            "sops": loop([sops, "rotate", "-i"], work["sops"], before=restore(work["sops"])),
        }, runs, lambda: (tree_size, size(os.path.join(work["ksec"], "k8s"))), per_file=True)
        before = dict(files_of(pristine))
        for tool, root in work.items():
            same = [rel for rel, text in files_of(root) if text == before[rel]]
            if same:
                raise Failure(f"{label}: {tool} rotate left {len(same)} files unchanged (first: {same[0]})")
        expect_tree("ksec decrypting the tree sops rotated", work["sops"])
        expect_tree("ksec decrypting the tree ksec rotated", work["ksec"])
        expect_sample("sops decrypting files ksec rotated", sops, work["ksec"])
        self.note(f"{label}: the tree is written once by `ksec encrypt -i` (age, encrypted_regex); "
                  f"the sops column runs `for f in FILES; do sops CMD \"$f\" || exit 1; done` in sh; "
                  f"rops is not run (—): it has no recursive decrypt, updatekeys or rotate")


# ---------------------------------------------------------------------------------------------
# Printing.


def fmt_time(t):
    if t is None:
        return "—"
    return f"{t * 1000:.1f} ms" if t < 0.1 else f"{t * 1000:.0f} ms" if t < 1 else \
        f"{t:.2f} s" if t < 10 else f"{t:.1f} s"


def fmt_size(n):
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def cells(row):
    t, rss = row["time"], row["rss"]
    ratio = {p: f"{t[p] / t['ksec']:.1f}×" if p in t and "ksec" in t else "—" for p in ("sops", "rops")}
    biggest = max(row["in"], row["out"])
    mem = "—" if row["per_file"] or not biggest else f"{rss['ksec'] * (1 << 20) / biggest:.1f}×"
    return {
        "time": {tool: fmt_time(t.get(tool)) for tool in TOOLS},
        "ratio": ratio,
        "rss": {tool: f"{rss[tool]:.0f} MiB" if tool in rss else "—" for tool in TOOLS},
        "in": fmt_size(row["in"]), "out": fmt_size(row["out"]) if row["out"] else "—", "mem": mem,
    }


TEXT_COLUMNS = (("row", 34), ("step", 15), ("ksec", 9), ("sops", 9), ("rops", 9), ("sops÷ksec", 9),
                ("rops÷ksec", 9), ("RSS ksec", 9), ("RSS sops", 9), ("RSS rops", 9), ("input", 10),
                ("output", 10), ("ksec RSS÷size", 13))


def text_header():
    return " ".join(name.ljust(w) if i < 2 else name.rjust(w) for i, (name, w) in enumerate(TEXT_COLUMNS))


def text_row(row, previous_label):
    c = cells(row)
    values = [row["label"] if row["label"] != previous_label else "", row["step"], *c["time"].values(),
              c["ratio"]["sops"], c["ratio"]["rops"], *c["rss"].values(), c["in"], c["out"], c["mem"]]
    return " ".join(v.ljust(w) if i < 2 else v.rjust(w) for i, (v, (_, w)) in enumerate(zip(values, TEXT_COLUMNS)))


def markdown(results):
    lines = ["| input | step | ksec | sops | rops | sops ÷ ksec | rops ÷ ksec | peak RSS ksec / sops / rops "
             "| input → output | ksec RSS ÷ size |", "|---|---|---|---|---|---|---|---|---|---|"]
    previous = None
    for row in results:
        c = cells(row)
        label = row["label"] if row["label"] != previous else ""
        previous = row["label"]
        rss = " / ".join(v.replace(" MiB", "") for v in c["rss"].values()) + " MiB"
        lines.append(f"| {label} | {row['step']} | {' | '.join(c['time'].values())} | {c['ratio']['sops']} "
                     f"| {c['ratio']['rops']} | {rss} | {c['in']} → {c['out']} | {c['mem']} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------


def rops_version(rops):
    """rops has no --version: read it from the .crates.toml of the `cargo install` root."""
    try:
        with open(os.path.join(os.path.dirname(os.path.dirname(rops)), ".crates.toml")) as f:
            found = re.search(r'"rops-cli ([^ "]+) ', f.read())
    except OSError:
        found = None
    return f"rops {found[1]}" if found else "rops (version unknown)"


def selected_rows(text):
    if not text:
        return list(ROWS)
    chosen = set()
    for item in text.split(","):
        item = item.strip().lower()
        if item.isdigit() and 1 <= int(item) <= len(ROWS):
            chosen.add(ROWS[int(item) - 1])
        elif item in ROWS:
            chosen.add(item)
        else:
            sys.exit(f"bench: unknown row {item!r}: use 1-{len(ROWS)} or {', '.join(ROWS)}")
    return [r for r in ROWS if r in chosen]


def main():
    parser = argparse.ArgumentParser(description="ksec against sops and rops (see the file's docstring)")
    parser.add_argument("--runs", type=int, help="runs per tool and step, median printed (default 3; 1 with --quick)")
    parser.add_argument("--only", help="rows by number or name: 1 secret, 2 json, 3 value, 4 stream, 5 small, 6 repo")
    parser.add_argument("--quick", action="store_true", help="small inputs: a smoke test of the harness")
    parser.add_argument("--markdown", action="store_true", help="print the README's Markdown table")
    parser.add_argument("--keys", type=int, help="data keys of row 1 (default 50,000)")
    parser.add_argument("--json-mb", type=float, help="size of row 2's JSON in MB (default 5)")
    parser.add_argument("--value-mib", type=int, help="size of row 3's value in MiB (default 10)")
    parser.add_argument("--docs", type=int, help="Secrets in row 4's stream (default 1,000)")
    parser.add_argument("--files", type=int, help="files in row 6's tree (default 2,000)")
    parser.add_argument("--small-runs", type=int, help="runs of row 5 (default 20)")
    args = parser.parse_args()
    quick = args.quick
    runs = args.runs or (1 if quick else 3)
    keys = args.keys or (2_000 if quick else 50_000)
    json_mb = args.json_mb or (0.2 if quick else 5)
    value_mib = args.value_mib or (1 if quick else 10)
    docs = args.docs or (50 if quick else 1_000)
    files = args.files or (40 if quick else 2_000)
    small_runs = args.small_runs or (3 if quick else 20)
    rows = selected_rows(args.only)

    sops = os.environ.get("KSEC_PEER_SOPS")
    if not sops or not os.access(sops, os.X_OK):
        sys.exit(f"bench: sops not found (KSEC_PEER_SOPS={sops or 'unset'}); install the peers first:\n  {INSTALL}")
    rops = os.environ.get("KSEC_PEER_ROPS")
    rops_missing = None
    if not rops or not os.access(rops, os.X_OK):
        rops_missing = (f"rops not found (KSEC_PEER_ROPS={rops or 'unset'}): its columns show —; "
                        f"install it with {INSTALL}")
        rops = None
    sys.stderr.write("bench: cargo build --release --locked\n")
    build = subprocess.run(["cargo", "build", "--release", "--locked", "--quiet"], cwd=ROOT)
    if build.returncode != 0:
        sys.exit("bench: cargo build --release --locked failed")
    ksec = os.path.join(ROOT, "target", "release", "ksec")

    def version(argv):
        out = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        return (out.stdout or out.stderr).strip().splitlines()[0] if out.returncode == 0 else "?"

    versions = [version([ksec, "--version"]), version([sops, "--version", "--disable-version-check"])]
    versions.append(rops_version(rops) if rops else "rops not installed")

    with tempfile.TemporaryDirectory(prefix="ksec-bench-") as tmp:
        bench = Bench(args, ksec, sops, rops, tmp)
        if rops_missing:
            bench.note(rops_missing)
        try:
            if "secret" in rows:
                text, expected = big_secret(keys)
                bench.file_row("secret", f"Secret, {keys:,} data keys", text, expected, "yaml", RULE, runs,
                               no_validate=True)
            if "json" in rows:
                text, expected = nested_json(json_mb)
                bench.file_row("json", f"nested JSON, {json_mb:g} MB", text, expected, "json", None, runs)
            if "value" in rows:
                text, expected = one_value(value_mib)
                bench.file_row("value", f"one {value_mib} MiB value (YAML)", text, expected, "yaml", None, runs)
            if "stream" in rows:
                text, expected = stream(docs)
                bench.file_row("stream", f"stream of {docs:,} Secrets", text, expected, "yaml", RULE, runs,
                               rops=False)
            if "small" in rows:
                text, expected = small_secret()
                bench.file_row("small", "Secret, 3 keys", text, expected, "yaml", RULE, small_runs)
            if "repo" in rows:
                bench.repo_row(files, runs)
        except Failure as e:
            sys.exit(f"bench: FAILED: {e}")
        if args.markdown:
            print(markdown(bench.results))
        print()
        print(f"{'; '.join(versions)}. Median of {runs} run{'s' if runs > 1 else ''} ({small_runs} for the 3-key Secret), tools "
              f"run alternately; RSS: peak resident memory (ru_maxrss) of one process; sizes are "
              f"ksec's input and output; ksec RSS÷size = ksec's peak RSS ÷ max(input, output), goal ≤ 4× "
              f"for rows 1-4 (— for per-file loops). All outputs validated (see bench/bench.py).")
        if quick:
            print("--quick: small inputs, for checking the harness; not figures to publish.")
        for note in bench.notes:
            print(f"- {note}")


if __name__ == "__main__":
    main()
