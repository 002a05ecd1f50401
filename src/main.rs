//! The `ksec` binary: a thin shell over the library.

/// Every heap allocation is wiped when it is freed. The library keeps data keys and decrypted
/// values in zeroizing types, but the copies a program cannot see (a `Vec` that outgrows its
/// allocation, a formatted temporary, a dependency's internal buffers) are freed without being
/// wiped; this allocator wipes them too.
#[global_allocator]
static ALLOCATOR: zeroizing_alloc::ZeroAlloc<std::alloc::System> = zeroizing_alloc::ZeroAlloc(std::alloc::System);

fn main() -> std::process::ExitCode {
    ksec::cli::run()
}
