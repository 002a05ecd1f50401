//! The `ksec` binary: a thin shell over the library.

use std::alloc::{GlobalAlloc, Layout, System};

/// Every heap allocation is wiped when it is freed. The library keeps data keys and decrypted
/// values in zeroizing types, but the copies a program cannot see (a `Vec` that outgrows its
/// allocation, a formatted temporary, a dependency's internal buffers) are freed without being
/// wiped; this allocator wipes them too.
#[global_allocator]
static ALLOCATOR: zeroizing_alloc::ZeroAlloc<HugePagesForLargeBlocks> =
    zeroizing_alloc::ZeroAlloc(HugePagesForLargeBlocks);

/// The system allocator, asking Linux for transparent huge pages under every block of 4 MiB or
/// more (file buffers, trees of large files). glibc maps such blocks afresh each time, and
/// faulting them in 4 KiB at a time was a fifth of the time of decrypting a 20 MB JSON file;
/// with 2 MiB pages the faults all but disappear (the same as `GLIBC_TUNABLES=
/// glibc.malloc.hugetlb=1`, which a program cannot set for itself). Where the kernel does not
/// do huge pages the advice is refused and nothing changes.
struct HugePagesForLargeBlocks;

/// Blocks from this size up get the advice: far above what a small file allocates, so small
/// commands make no extra system call.
const HUGE_PAGES_FROM: usize = 4 << 20;

// SAFETY: every call goes to the system allocator with the caller's arguments; the advice only
// changes how the kernel backs pages of a block this allocator just handed out, never its
// contents or its bounds.
unsafe impl GlobalAlloc for HugePagesForLargeBlocks {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        let block = unsafe { System.alloc(layout) };
        advise_huge_pages(block, layout.size());
        block
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let block = unsafe { System.alloc_zeroed(layout) };
        advise_huge_pages(block, layout.size());
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: as for `alloc`; the block came from `System` through this allocator.
        unsafe { System.dealloc(block, layout) }
    }
}

/// Advises huge pages for the whole 2 MiB pages inside a large block (best effort).
fn advise_huge_pages(block: *mut u8, size: usize) {
    #[cfg(target_os = "linux")]
    if !block.is_null() && size >= HUGE_PAGES_FROM {
        const HUGE_PAGE: usize = 2 << 20;
        let start = (block as usize).next_multiple_of(HUGE_PAGE);
        let end = (block as usize + size) / HUGE_PAGE * HUGE_PAGE;
        if end > start {
            // SAFETY: the range lies inside the block just allocated, which nothing else uses
            // yet; MADV_HUGEPAGE changes neither its contents nor its mapping. A refusal (no
            // THP support) leaves the block as it was.
            let _ = unsafe {
                rustix::mm::madvise(
                    start as *mut std::ffi::c_void,
                    end - start,
                    rustix::mm::Advice::LinuxHugepage,
                )
            };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (block, size);
}

fn main() -> std::process::ExitCode {
    merge_freed_blocks_at_once();
    map_large_blocks_on_their_own();
    ksec::cli::run()
}

/// glibc maps a block of 128 KiB or more on its own and unmaps it when it is freed, but after
/// the first such block is freed it raises that threshold to the block's size (up to 32 MiB):
/// the later large buffers of a large file (its leaves, the results, the output) were then
/// carved from the heap, whose freed space stays resident. Keeping the threshold where it
/// starts gives each large buffer back the moment it is freed: peak memory of the 20 MB JSON
/// file's encryption 101 -> 93 MB, of the 50,000-key Secret's decryption 59 -> 52 MB, with
/// the same times. (The same as `GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072`.)
fn map_large_blocks_on_their_own() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a parameter of glibc's allocator; M_MMAP_THRESHOLD takes any
    // size up to 32 MiB, and 128 KiB is its documented default.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// glibc keeps freed small blocks in "fast bins" and merges them in bulk later. A large file's
/// trees are hundreds of thousands of small blocks, and the bulk merges that followed their
/// freeing (`malloc_consolidate`, `unlink_chunk`) were a tenth of decrypting a 20 MB JSON file.
/// Without fast bins a freed block is merged on the spot; the per-thread cache still serves
/// the churn of small blocks. (The same as `GLIBC_TUNABLES=glibc.malloc.mxfast=0`.)
fn merge_freed_blocks_at_once() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a parameter of glibc's allocator; a fast-bin size of 0 is
    // documented to turn fast bins off, and blocks already in them are merged first.
    unsafe {
        libc::mallopt(libc::M_MXFAST, 0);
    }
}
