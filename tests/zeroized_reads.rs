//! Plaintext read from stdin or a file (`ksec set --value-stdin`, every input) leaves no copy
//! behind in freed memory, however the input arrives.
//!
//! This binary's allocator looks into every block freed while a read runs for a marker the
//! secret is made of; the read under test must free none that holds it. The same reader fed to
//! `read_to_end` (a growing `Vec`) shows what the check catches.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use zeroize::Zeroizing;

/// What the secret is made of, repeated.
const MARKER: &[u8] = b"ksec-freed-plaintext-probe;";

static WATCHING: AtomicBool = AtomicBool::new(false);
static FREED_WITH_MARKER: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, checking freed blocks for [`MARKER`] while [`WATCHING`]. `realloc` is
/// left to `GlobalAlloc`'s default (allocate, copy, free), so a block a growing buffer moves
/// out of is checked too.
struct CheckingAllocator;

// SAFETY: every call is passed on to `System` unchanged; `dealloc` only reads the block it is
// given before passing it on.
unsafe impl GlobalAlloc for CheckingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if WATCHING.load(Ordering::SeqCst) {
            // SAFETY: the block is still allocated, `layout.size()` bytes long. Bytes never
            // written are read as whatever they hold, with volatile reads the compiler keeps.
            let holds_marker = (0..layout.size().saturating_sub(MARKER.len() - 1)).any(|start| {
                MARKER
                    .iter()
                    .enumerate()
                    .all(|(i, &b)| unsafe { std::ptr::read_volatile(ptr.add(start + i)) } == b)
            });
            if holds_marker {
                FREED_WITH_MARKER.fetch_add(1, Ordering::SeqCst);
            }
        }
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CheckingAllocator = CheckingAllocator;

/// A secret of `len` bytes, handed out a few bytes per read (as a slow pipe does), built from
/// [`MARKER`] as it goes so that it is on no heap but the reader's.
struct Drip {
    sent: usize,
    len: usize,
}

impl Read for Drip {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.len - self.sent).min(13);
        for (i, b) in buf[..n].iter_mut().enumerate() {
            *b = MARKER[(self.sent + i) % MARKER.len()];
        }
        self.sent += n;
        Ok(n)
    }
}

/// How many freed blocks held the marker while `read` ran (its result dropped in the watch).
fn freed_copies(read: impl FnOnce(&mut Drip) -> Zeroizing<Vec<u8>>) -> usize {
    let mut drip = Drip { sent: 0, len: 200_000 };
    FREED_WITH_MARKER.store(0, Ordering::SeqCst);
    WATCHING.store(true, Ordering::SeqCst);
    let secret = read(&mut drip);
    assert_eq!(secret.len(), 200_000);
    assert!(secret.starts_with(MARKER));
    drop(secret);
    WATCHING.store(false, Ordering::SeqCst);
    FREED_WITH_MARKER.load(Ordering::SeqCst)
}

#[test]
fn a_read_of_any_length_leaves_no_plaintext_in_freed_memory() {
    let growing = freed_copies(|drip| {
        let mut buffer = Zeroizing::new(Vec::new());
        drip.read_to_end(&mut buffer).expect("read");
        buffer
    });
    assert!(growing > 0, "the check sees the copies a growing Vec leaves");

    for expected in [0, 1000, 200_001] {
        let left = freed_copies(|drip| ksec::io::read_to_end_zeroizing(drip, expected).expect("read"));
        assert_eq!(
            left, 0,
            "starting from {expected} bytes: {left} freed blocks held plaintext"
        );
    }
}
