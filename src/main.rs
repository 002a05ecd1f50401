//! The `ksec` binary: a thin shell over the library.

fn main() -> std::process::ExitCode {
    ksec::cli::run()
}
