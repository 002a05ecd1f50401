#!/usr/bin/env python3
"""Times ksec against the real sops on large Secrets, in one run, and prints the ratios.

Usage: bench/bench.py [--runs N] [--keys N] [--docs N]
Needs KSEC_PEER_SOPS (eval "$(../shared/peers/install-peers.sh)"). Builds the release binary.
Inputs: one Secret with --keys `data` entries, and a stream of --docs Secrets with 5 keys each,
both encrypted with encrypted_regex ^(data|stringData)$ (what Kubernetes users write).
The 50,000-key Secret is over Kubernetes's 1 MiB limit, which ksec refuses by default, so
ksec runs with --no-validate (sops has no such check).
"""
import argparse
import base64
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY = os.path.join(ROOT, "testdata", "keys", "sample.agekey")
RECIPIENT = "age1a9rwfgzv4n0vlm94485cv65gye0m597ax2ujym3ertpf5ynn9vfqn4qzky"
RULE = "^(data|stringData)$"


def big_secret(keys):
    lines = ["apiVersion: v1", "kind: Secret", "metadata:", "  name: big", "  namespace: bench", "type: Opaque", "data:"]
    for i in range(keys):
        value = base64.b64encode(f"value-{i:06d}-{'x' * 24}".encode()).decode()
        lines.append(f"  key{i:06d}: {value}")
    return "\n".join(lines) + "\n"


def stream(docs):
    out = []
    for d in range(docs):
        out.append(f"---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s{d:04d}\n  namespace: ns{d % 7}\ntype: Opaque\ndata:\n")
        for k in range(5):
            value = base64.b64encode(f"doc{d}-key{k}-secret".encode()).decode()
            out.append(f"  k{k}: {value}\n")
    return "".join(out)


def timed(cmd, env, runs, runrss, stdout_path=None):
    """Median wall time (s) and the largest peak RSS (MiB) over `runs` runs of one command.

    The command runs under bench/runrss.c: Linux copies the peak RSS of the address space a
    process leaves at exec into its ru_maxrss, so a child started from this Python (which holds
    the generated inputs) would report at least Python's own peak."""
    times, peaks = [], []
    for _ in range(runs):
        out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
        # stderr goes to a file, not a pipe: a pipe read only after the process ends would
        # block a tool that writes more than the pipe holds.
        with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as report:
            code = subprocess.call([runrss, report.name] + cmd, env=env, stdout=out, stderr=err)
            err.seek(0)
            stderr = err.read()
            seconds, kib = report.read().split() if code == 0 else (0, 0)
        if stdout_path:
            out.close()
        if code != 0:
            sys.exit(f"{' '.join(cmd)} failed: {stderr.decode()[:500]}")
        times.append(float(seconds))
        peaks.append(int(kib) / 1024)
    return statistics.median(times), max(peaks)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keys", type=int, default=50_000)
    parser.add_argument("--docs", type=int, default=1_000)
    args = parser.parse_args()

    sops = os.environ.get("KSEC_PEER_SOPS")
    if not sops or not os.path.exists(sops):
        sys.exit('KSEC_PEER_SOPS is not set: eval "$(../shared/peers/install-peers.sh)"')
    subprocess.run(["cargo", "build", "--release", "--locked", "--quiet"], cwd=ROOT, check=True)
    ksec = os.path.join(ROOT, "target", "release", "ksec")
    runrss = os.path.join(ROOT, "target", "release", "runrss")
    subprocess.run(["cc", "-O2", "-o", runrss, os.path.join(ROOT, "bench", "runrss.c")], check=True)

    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
    env.update(SOPS_AGE_KEY_FILE=KEY, SOPS_DISABLE_VERSION_CHECK="1")

    with tempfile.TemporaryDirectory() as tmp:
        cases = [(f"Secret with {args.keys} data keys", big_secret(args.keys)), (f"stream of {args.docs} Secrets", stream(args.docs))]
        print(f"{'case':<34} {'step':<8} {'sops':>9} {'ksec':>9} {'ratio':>7}   {'sops RSS':>9} {'ksec RSS':>9}")
        for i, (name, text) in enumerate(cases):
            plain = os.path.join(tmp, f"case{i}.yaml")
            with open(plain, "w") as f:
                f.write(text)
            enc = {tool: os.path.join(tmp, f"case{i}.{tool}.enc.yaml") for tool in ("sops", "ksec")}
            enc_cmd = {
                "sops": [sops, "encrypt", "--age", RECIPIENT, "--encrypted-regex", RULE, plain],
                "ksec": [ksec, "encrypt", "--no-validate", "--age", RECIPIENT, "--encrypted-regex", RULE, plain],
            }
            dec_cmd = {"sops": [sops, "decrypt", enc["sops"]], "ksec": [ksec, "decrypt", enc["ksec"]]}
            results = {}
            for step, cmds in (("encrypt", enc_cmd), ("decrypt", dec_cmd)):
                for tool in ("sops", "ksec"):
                    target = enc[tool] if step == "encrypt" else None
                    results[(step, tool)] = timed(cmds[tool], env, args.runs, runrss, target)
            for step in ("encrypt", "decrypt"):
                (s, s_rss), (k, k_rss) = results[(step, "sops")], results[(step, "ksec")]
                print(f"{name:<34} {step:<8} {s:8.3f}s {k:8.3f}s {s / k:6.1f}x   {s_rss:7.0f}MB {k_rss:7.0f}MB", flush=True)
            # Cross-check: each tool decrypts the other's file.
            for reader, writer in (("ksec", "sops"), ("sops", "ksec")):
                cmd = (ksec if reader == "ksec" else sops, "decrypt", enc[writer])
                if subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL).returncode != 0:
                    sys.exit(f"{reader} cannot decrypt the {writer} file of {name}")
    print("times: median wall clock; RSS: peak resident memory of one process (ru_maxrss)")


if __name__ == "__main__":
    main()
