#!/usr/bin/env python3
"""Lines changed in an encrypted file by everyday edits, ksec next to the real sops.

Usage: bench/diff_sizes.py
Needs KSEC_PEER_SOPS (eval "$(../shared/peers/install-peers.sh)") and git. Builds the debug
binary. Each edit starts from the same committed file, once written by ksec (2-space
indentation, as kubectl writes manifests) and once written by sops (its own 4-space layout),
and is measured with `git diff --numstat` (added+removed lines of the encrypted file).
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY = os.path.join(ROOT, "testdata", "keys", "sample.agekey")
RECIPIENT = "age1a9rwfgzv4n0vlm94485cv65gye0m597ax2ujym3ertpf5ynn9vfqn4qzky"
PLAIN = os.path.join(ROOT, "testdata", "secret.yaml")
RULE = "^(data|stringData)$"

# (name, ksec argv, sops argv, editor script or None); FILE is replaced by the file name.
EDITS = [
    ("set one value", ["set", "FILE", '["stringData"]["password"]', '"new password"'],
     ["set", "FILE", '["stringData"]["password"]', '"new password"'], None),
    ("set the same value (no change)", ["set", "FILE", '["stringData"]["username"]', '"payments"'],
     ["set", "FILE", '["stringData"]["username"]', '"payments"'], None),
    ("unset one key", ["unset", "FILE", '["stringData"]["port"]'], ["unset", "FILE", '["stringData"]["port"]'], None),
    ("edit one value", ["edit", "FILE"], ["edit", "FILE"], "sed -i 's/^\\( *\\)username: payments$/\\1username: billing/' \"$1\"\n"),
    ("edit, no change (exit 200)", ["edit", "FILE"], ["edit", "FILE"], "true\n"),
]


def run(cmd, env, cwd, ok_codes=(0,)):
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True)
    if proc.returncode not in ok_codes:
        sys.exit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode()[:400]}")
    return proc


def numstat(cwd):
    out = run(["git", "diff", "--no-textconv", "--numstat"], None, cwd).stdout.decode().split()
    return (int(out[0]) + int(out[1])) if out else 0


def main():
    sops = os.environ.get("KSEC_PEER_SOPS")
    if not sops:
        sys.exit("KSEC_PEER_SOPS is not set: eval \"$(../shared/peers/install-peers.sh)\"")
    subprocess.run(["cargo", "build", "--quiet", "--locked"], cwd=ROOT, check=True)
    ksec = os.path.join(ROOT, "target", "debug", "ksec")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
    env["SOPS_AGE_KEY_FILE"] = KEY

    with tempfile.TemporaryDirectory() as tmp:
        sources = {}
        for writer, cmd in [("ksec", [ksec]), ("sops", [sops])]:
            path = os.path.join(tmp, f"by-{writer}.enc.yaml")
            out = run(cmd + ["encrypt", "--age", RECIPIENT, "--encrypted-regex", RULE, "--filename-override",
                             "secret.yaml", PLAIN] if writer == "sops" else
                      cmd + ["encrypt", "--age", RECIPIENT, "--encrypted-regex", RULE, PLAIN], env, tmp)
            with open(path, "wb") as f:
                f.write(out.stdout)
            sources[writer] = path

        # Later writes get a new `lastmodified` (it has one-second resolution).
        time.sleep(1.1)
        rows = []
        for name, ksec_args, sops_args, editor in EDITS:
            row = [name]
            for written_by in ["ksec", "sops"]:
                for tool, binary, args in [("ksec", ksec, ksec_args), ("sops", sops, sops_args)]:
                    repo = tempfile.mkdtemp(dir=tmp)
                    shutil.copy(sources[written_by], os.path.join(repo, "s.enc.yaml"))
                    run(["git", "init", "-q"], None, repo)
                    run(["git", "-c", "user.email=b@b", "-c", "user.name=b", "add", "."], None, repo)
                    run(["git", "-c", "user.email=b@b", "-c", "user.name=b", "commit", "-qm", "base"], None, repo)
                    tool_env = dict(env)
                    if editor:
                        script = os.path.join(repo, "..", os.path.basename(repo) + "-editor.sh")
                        with open(script, "w") as f:
                            f.write("#!/bin/sh\n" + editor)
                        os.chmod(script, 0o755)
                        tool_env["EDITOR"] = script
                    argv = [a.replace("FILE", "s.enc.yaml") for a in args]
                    run([binary] + argv, tool_env, repo, ok_codes=(0, 200))
                    row.append(numstat(repo))
            rows.append(row)

    print("Lines changed (git diff --numstat, added + removed) in the encrypted file")
    print()
    print("| edit | file by ksec: ksec | file by ksec: sops | file by sops: ksec | file by sops: sops |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")


if __name__ == "__main__":
    main()
