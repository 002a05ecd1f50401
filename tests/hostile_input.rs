//! Hostile input through every command that reads it, as users run ksec: the release binary,
//! under a memory limit and a time bound. A few hundred bytes of YAML once made every command
//! allocate until the kernel stopped it (nine anchors of nine aliases), or work for seconds
//! that doubled with every line; each is now refused in milliseconds with exit 2 and a message
//! that names the file and the limit. So are inputs larger than ksec reads, and the JSON and
//! YAML that ksec would otherwise change without a word.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The address space each run gets: a few times what ksec needs for these small files, far
/// below what expanding one of the bombs takes.
const MEMORY_LIMIT_KIB: u64 = 1 << 20;

/// What "in milliseconds" is allowed to take on a loaded machine (each refusal takes ~10 ms).
const QUICK: Duration = Duration::from_secs(2);

/// How long a run may take before it is killed and the test fails.
const KILL_AFTER: Duration = Duration::from_secs(30);

/// The optimized binary, built once for this test run (`cargo build --profile release-test`:
/// the release profile users run, without its link-time optimization), whose time the bounds
/// are meant for.
fn release_ksec() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args([
                "build",
                "--profile",
                "release-test",
                "--locked",
                "--bin",
                "ksec",
                "--target-dir",
            ])
            .arg(target_dir())
            .current_dir(common::root())
            .status()
            .expect("cargo starts");
        assert!(status.success(), "cargo build --profile release-test failed");
        target_dir().join("release-test/ksec")
    })
}

/// The target directory this test binary was built in (`target/debug/deps/..` → `target`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary has a path");
    exe.ancestors()
        .nth(3)
        .expect("tests run from <target>/<profile>/deps")
        .to_path_buf()
}

/// One run of the release binary in `dir`, under the memory limit, killed after
/// [`KILL_AFTER`]; with how long it took.
struct Run {
    output: Output,
    took: Duration,
}

impl Run {
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    fn code(&self) -> Option<i32> {
        self.output.status.code()
    }

    /// Refused: exit 2 within [`QUICK`], the message naming `file` and saying `what`.
    fn assert_refused(&self, what: &str, file: &str, context: &str) {
        let stderr = self.stderr();
        assert_eq!(
            self.code(),
            Some(2),
            "{context}: exit {:?} after {:?} (134 is an allocation failure under the memory limit):\n{stderr}",
            self.output.status,
            self.took
        );
        assert!(
            stderr.contains(file) && stderr.contains(what),
            "{context}: the message names neither {file} nor {what:?}:\n{stderr}"
        );
        assert!(self.took < QUICK, "{context}: took {:?}", self.took);
    }
}

fn ksec(dir: &Path, args: &[&str], stdin: Option<&Path>) -> Run {
    let home = dir.join("home");
    std::fs::create_dir_all(&home).expect("a home directory");
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -v {MEMORY_LIMIT_KIB} && exec \"$0\" \"$@\""))
        .arg(release_ksec())
        .args(args)
        .current_dir(dir)
        .env("SOPS_AGE_KEY_FILE", common::sample_key())
        .env("EDITOR", "true")
        .env("KSEC_KUBECTL", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    common::isolate(&mut cmd, &home, &home.join(".gnupg"));
    cmd.env("SOPS_AGE_KEY_FILE", common::sample_key());
    match stdin {
        Some(path) => cmd.stdin(std::fs::File::open(path).expect("the stdin file opens")),
        None => cmd.stdin(Stdio::null()),
    };
    let start = Instant::now();
    let mut child = cmd.spawn().expect("sh starts");
    loop {
        if child.try_wait().expect("the child can be waited for").is_some() {
            break;
        }
        if start.elapsed() > KILL_AFTER {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let output = child.wait_with_output().expect("the child's output");
    let took = start.elapsed();
    assert!(
        took < KILL_AFTER,
        "ksec {args:?} still ran after {KILL_AFTER:?} and was killed"
    );
    Run { output, took }
}

/// Nine anchors of nine aliases each: 342 bytes that expand to 9^9 values.
const BILLION_LAUGHS: &str = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
";

/// Each map's two values alias the previous map: 15 lines, and the work doubles with each.
fn doubling_aliases() -> String {
    let mut text = String::from("a0: &a0 {x: s, y: s}\n");
    for i in 1..15 {
        text.push_str(&format!("a{i}: &a{i} {{x: *a{p}, y: *a{p}}}\n", p = i - 1));
    }
    text
}

/// The same bomb in the second document of a stream, which sops (checking the first only)
/// expands without limit.
fn bomb_in_a_later_document() -> String {
    format!("a: 1\n---\n{BILLION_LAUGHS}")
}

/// Nesting deeper than any real file, once written out and once made by aliases.
fn deep_nesting() -> String {
    format!("k: {}{}\n", "[".repeat(5000), "]".repeat(5000))
}

fn deep_by_aliases() -> String {
    let level = |inner: &str| format!("{}{inner}{}", "[".repeat(60), "]".repeat(60));
    format!("a: &a {}\nb: &b {}\nc: {}\n", level(""), level("*a"), level("*b"))
}

/// A bomb with a sops block, so that commands that open encrypted files get past "not
/// encrypted" (they must refuse it before even looking).
fn with_sops_block(bomb: &str) -> String {
    let encrypted = std::fs::read_to_string(common::testdata("secret.enc.yaml")).expect("the sample file");
    let sops = &encrypted[encrypted.find("\nsops:\n").expect("a sops block") + 1..];
    format!("{bomb}{sops}")
}

/// Every command that reads a YAML file, with the arguments it needs to get to reading it.
fn commands(file: &str) -> Vec<Vec<String>> {
    let args: &[&[&str]] = &[
        &["encrypt", "--age", common::SAMPLE_RECIPIENT, file],
        &[
            "encrypt",
            "--age",
            common::SAMPLE_RECIPIENT,
            "--output",
            "out.yaml",
            file,
        ],
        &["decrypt", file],
        &["decrypt", "--extract", "[\"a\"]", file],
        &["check", file],
        &["filestatus", file],
        &["diff", file],
        &["merge", file, file, file],
        &["edit", file],
        &["set", file, "[\"a\"]", "\"x\""],
        &["unset", file, "[\"a\"]"],
        &["rotate", file],
        &["exec-env", file, "true"],
        &["exec-file", file, "true {}"],
        &["groups", "add", "--file", file, "--age", common::SAMPLE_RECIPIENT],
        &["updatekeys", "--yes", file],
        &["apply", "-f", file],
    ];
    args.iter().map(|a| a.iter().map(|s| s.to_string()).collect()).collect()
}

fn run_args(dir: &Path, args: &[String]) -> Run {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ksec(dir, &args, None)
}

#[test]
fn yaml_bombs_are_refused_by_every_command_in_milliseconds() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let bombs = [
        ("laughs.yaml", BILLION_LAUGHS.to_string(), "excessive aliasing"),
        ("doubling.yaml", doubling_aliases(), "excessive aliasing"),
        ("later.yaml", bomb_in_a_later_document(), "excessive aliasing"),
        ("deep.yaml", deep_nesting(), "nested deeper than 128 levels"),
        ("deep-aliases.yaml", deep_by_aliases(), "nested deeper than 128 levels"),
        (
            "laughs-sops.yaml",
            with_sops_block(BILLION_LAUGHS),
            "excessive aliasing",
        ),
    ];
    let config = format!("creation_rules:\n  - age: {}\n", common::SAMPLE_RECIPIENT);
    std::fs::write(dir.path().join(".sops.yaml"), config).expect("the config is written");
    for (name, text, what) in &bombs {
        std::fs::write(dir.path().join(name), text).expect("the bomb is written");
        for args in commands(name) {
            let run = run_args(dir.path(), &args);
            run.assert_refused(what, name, &format!("ksec {}", args.join(" ")));
        }
    }
    // stdin, whose type is guessed, is never taken for a blob to encrypt whole.
    let run = ksec(
        dir.path(),
        &["encrypt", "--age", common::SAMPLE_RECIPIENT],
        Some(&dir.path().join("laughs.yaml")),
    );
    run.assert_refused("excessive aliasing", "stdin", "ksec encrypt < laughs.yaml");
}

#[test]
fn the_refusal_names_the_place_and_the_limit() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    std::fs::write(dir.path().join("laughs.yaml"), BILLION_LAUGHS).expect("written");
    let run = ksec(dir.path(), &["decrypt", "laughs.yaml"], None);
    let stderr = run.stderr();
    assert!(
        stderr.contains("laughs.yaml: excessive aliasing at line 4, column 17")
            && stderr.contains("99%")
            && stderr.contains("hint: "),
        "{stderr}"
    );
}

/// A long flow line cost the square of its length (an entry looked for its line's ends).
#[test]
fn a_long_flow_line_is_read_and_written_in_linear_time() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let entries: Vec<String> = (0..200_000).map(|i| format!("k{i}: v")).collect();
    std::fs::write(dir.path().join("flow.yaml"), format!("m: {{{}}}\n", entries.join(", "))).expect("written");
    // 450 KB on one line, in 50,000 values: encrypted, about 6 MB, within what ksec reads back.
    let list = vec!["aaaaaaaa"; 50_000].join(",");
    std::fs::write(dir.path().join("list.yaml"), format!("l: [{list}]\n")).expect("written");
    let run = ksec(dir.path(), &["filestatus", "flow.yaml"], None);
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    assert!(run.took < Duration::from_secs(5), "reading took {:?}", run.took);
    let run = ksec(
        dir.path(),
        &[
            "encrypt",
            "--age",
            common::SAMPLE_RECIPIENT,
            "--output",
            "list.enc.yaml",
            "list.yaml",
        ],
        None,
    );
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    assert!(run.took < Duration::from_secs(10), "encrypting took {:?}", run.took);
}

#[test]
fn inputs_larger_than_the_limit_are_refused_before_they_are_read() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    // Sparse: 2 GiB that take no disk, and more than the memory limit allows reading.
    let big = std::fs::File::create(dir.path().join("big.bin")).expect("created");
    big.set_len(2 << 30).expect("a sparse file");
    for args in [
        &["encrypt", "--age", common::SAMPLE_RECIPIENT, "big.bin"][..],
        &["decrypt", "big.bin"],
        &["filestatus", "big.bin"],
    ] {
        let run = ksec(dir.path(), args, None);
        run.assert_refused(
            "is 2048 MiB, more than the 16 MiB ksec reads",
            "big.bin",
            &args.join(" "),
        );
    }
    // A device never ends; stdin has no size to look at.
    let run = ksec(
        dir.path(),
        &[
            "encrypt",
            "--age",
            common::SAMPLE_RECIPIENT,
            "--input-type",
            "binary",
            "/dev/zero",
        ],
        None,
    );
    run.assert_refused(
        "holds more than the 16 MiB ksec reads",
        "/dev/zero",
        "encrypt /dev/zero",
    );
    let run = ksec(
        dir.path(),
        &["encrypt", "--age", common::SAMPLE_RECIPIENT, "--input-type", "binary"],
        Some(Path::new("/dev/zero")),
    );
    run.assert_refused("holds more than the 16 MiB ksec reads", "stdin", "encrypt < /dev/zero");
}

/// `ksec encrypt [-i] s.yaml` in `dir` (the debug binary, no memory limit) with
/// `KSEC_MAX_INPUT_SIZE=limit`.
fn encrypt_with_limit(dir: &Path, limit: &str, in_place: bool) -> std::process::Output {
    let home = dir.join("home");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ksec"));
    common::isolate(&mut cmd, &home, &home.join(".gnupg"));
    cmd.env("KSEC_MAX_INPUT_SIZE", limit)
        .args(["encrypt", "--age", common::SAMPLE_RECIPIENT])
        .args(in_place.then_some("-i"))
        .arg("s.yaml")
        .current_dir(dir)
        .output()
        .expect("ksec starts")
}

#[test]
fn the_input_limit_is_set_by_an_environment_variable() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    std::fs::write(dir.path().join("s.yaml"), "a: 1\nb: two\n").expect("written");
    let encrypt = |limit: &str| encrypt_with_limit(dir.path(), limit, false);
    let small = encrypt("8");
    let stderr = String::from_utf8_lossy(&small.stderr);
    assert_eq!(small.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("s.yaml is 12 bytes, more than the 8 bytes ksec reads")
            && stderr.contains("KSEC_MAX_INPUT_SIZE"),
        "{stderr}"
    );
    assert_eq!(encrypt("4K").status.code(), Some(0));
    let invalid = encrypt("lots");
    let stderr = String::from_utf8_lossy(&invalid.stderr);
    assert_eq!(invalid.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("KSEC_MAX_INPUT_SIZE=\"lots\" is not a size"),
        "{stderr}"
    );
}

/// An encrypted file is several times its plaintext's size: ksec does not write one that it
/// would refuse to read back, on stdout or in place, and says how to raise the limit.
#[test]
fn an_output_larger_than_ksec_reads_is_not_written() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let plain = "a: 1\nb: two\n";
    std::fs::write(dir.path().join("s.yaml"), plain).expect("written");
    let encrypt = |limit: &str, in_place: bool| encrypt_with_limit(dir.path(), limit, in_place);
    for in_place in [false, true] {
        let refused = encrypt("1K", in_place);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(3), "{stderr}");
        assert!(refused.stdout.is_empty(), "nothing on stdout");
        assert!(
            stderr.contains("the output for ")
                && stderr.contains("more than the 1024 bytes ksec reads back")
                && stderr.contains("nothing was written")
                && stderr.contains("KSEC_MAX_INPUT_SIZE"),
            "{stderr}"
        );
        assert_eq!(std::fs::read_to_string(dir.path().join("s.yaml")).expect("read"), plain);
    }
    let written = encrypt("4K", false);
    assert_eq!(written.status.code(), Some(0));
    assert!(written.stdout.len() > 1024 && written.stdout.len() <= 4096);
}

/// Go stops at the first object and turns invalid UTF-8 into U+FFFD: sops keeps the first
/// object alone, or changed text, and exits 0. ksec refuses, naming where.
#[test]
fn json_that_sops_would_change_silently_is_refused_where_it_is() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    for (name, bytes, what) in [
        (
            "two.json",
            &b"{\"a\":\"x\"} {\"b\":\"secret\"}"[..],
            "line 1, column 11: text after the top-level object",
        ),
        (
            "latin1.json",
            b"{\"a\":\n  \"caf\xe9\"}",
            "line 2, column 7: invalid UTF-8 in a string",
        ),
        (
            "surrogate.json",
            b"{\"a\": \"\\ud800\"}",
            "line 1, column 8: a \\u escape of half a surrogate pair",
        ),
    ] {
        std::fs::write(dir.path().join(name), bytes).expect("written");
        let run = ksec(dir.path(), &["encrypt", "--age", common::SAMPLE_RECIPIENT, name], None);
        run.assert_refused(what, name, name);
        assert!(!run.stderr().contains("secret"), "{}", run.stderr());
    }
}

/// sops keeps the bare value of a tag it does not know, and the decoded text of `!!binary`.
#[test]
fn yaml_tags_sops_would_drop_are_refused_where_they_are() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    for (text, what) in [
        (
            "a: 1\nk: !vault secret\n",
            "line 2, column 4: the tag !vault is not supported",
        ),
        (
            "k: !!binary aGVsbG8=\n",
            "line 1, column 4: !!binary text is not supported",
        ),
    ] {
        std::fs::write(dir.path().join("t.yaml"), text).expect("written");
        let run = ksec(
            dir.path(),
            &["encrypt", "--age", common::SAMPLE_RECIPIENT, "t.yaml"],
            None,
        );
        run.assert_refused(what, "t.yaml", text);
    }
}

/// `k: !!str 123` encrypted, then did not decrypt ("this is a ksec bug"); the real sops reads
/// the same file as the string "123".
#[test]
fn a_tagged_string_decrypts_to_what_was_written() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let text = "k: !!str 123\nt: !!str true\nb: !!str |\n  block\n";
    std::fs::write(dir.path().join("t.yaml"), text).expect("written");
    let run = ksec(
        dir.path(),
        &[
            "encrypt",
            "--age",
            common::SAMPLE_RECIPIENT,
            "--output",
            "t.enc.yaml",
            "t.yaml",
        ],
        None,
    );
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    let run = ksec(dir.path(), &["decrypt", "t.enc.yaml"], None);
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    assert_eq!(String::from_utf8_lossy(&run.output.stdout), text);
    let Some(sops) = common::sops() else { return };
    let home = dir.path().join("home");
    let mut sops_cmd = Command::new(&sops);
    common::isolate(&mut sops_cmd, &home, &home.join(".gnupg"));
    let out = sops_cmd
        .env("SOPS_AGE_KEY_FILE", common::sample_key())
        .args(["decrypt", "t.enc.yaml"])
        .current_dir(dir.path())
        .output()
        .expect("sops starts");
    assert!(out.status.success(), "sops: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "k: \"123\"\nt: \"true\"\nb: |\n    block\n"
    );
}
