//! The browser and Node entries' allocator (wasm32 with `js`, without `talc`): free lists by size
//! class over memory taken from `memory.grow`, in place of std's dlmalloc. Smaller code (the
//! `.wasm` is shipped to every page) and no per-block header: Rust hands the block's size back on
//! `dealloc`, so a block is exactly its class's size and carries nothing else.
//!
//! Classes: every multiple of 8 bytes up to [`SMALL`], above that 8 classes per power of two
//! (a block is at most 1/8 larger than asked for), and above 64 KB one class per power of two. A freed block goes on its class's list and is
//! taken again by the next request of that class; blocks are never split or merged, so memory
//! held is at most what each class needed at its peak (a wasm memory never shrinks anyway). The
//! block at the top of the heap grows in place (a string or vector growing while nothing else is
//! allocated, e.g. a request body being written). Single-threaded: wasm32 without the `atomics`
//! target feature.

/// Sizes up to here are classes 8 bytes apart.
const SMALL: usize = 1024;
/// Above 2^BIG bytes, one class per power of two.
const BIG: usize = 16;
/// Classes 8 bytes apart, then 8 per power of two from 2^11 up to 2^BIG, then one per power of
/// two up to 2^32.
const CLASSES: usize = SMALL / 8 + 8 * (BIG - 10) + (32 - BIG);
const PAGE: usize = 65536;
/// Memory is taken from the host at least this many pages at a time.
const GROW_PAGES: usize = 16;

/// The class of a request of `size` bytes: its index and the block size.
#[inline]
fn class(size: usize) -> (usize, usize) {
    if size <= SMALL {
        let i = (size.max(1) + 7) / 8;
        return (i - 1, i * 8);
    }
    // `size` in (2^p, 2^(p+1)], p >= 10.
    let p = (usize::BITS - 1 - (size - 1).leading_zeros()) as usize;
    if p >= BIG {
        // A power of two: the large blocks (request bodies, long vectors) are few, of sizes that
        // differ each time, and a freed one is taken again only by a request of its class.
        return (SMALL / 8 + 8 * (BIG - 10) + (p - BIG), 2 << p);
    }
    // The step is 2^(p-3).
    let step = 1usize << (p - 3);
    let k = (size - 1) >> (p - 3); // 8..=15
    (SMALL / 8 + (p - 10) * 8 + (k - 8), (k + 1) * step)
}

/// Free lists and the unused rest of the last region taken from the host.
pub(crate) struct Heap {
    /// Per class: the first free block (0: none); a free block's first word is the next one.
    free: [usize; CLASSES],
    /// The unused region [top, end).
    top: usize,
    end: usize,
}

impl Heap {
    pub(crate) const fn new() -> Heap {
        Heap { free: [0; CLASSES], top: 0, end: 0 }
    }

    /// A block of `size` bytes aligned to `align`, or null when the host gives no more memory.
    /// `grow(pages)` is `memory.grow`: the previous size in pages, or `usize::MAX`.
    ///
    /// # Safety
    /// The free lists hold only blocks this heap handed out and got back.
    pub(crate) unsafe fn alloc(&mut self, size: usize, align: usize, grow: fn(usize) -> usize) -> *mut u8 {
        let (i, cs) = class(size.max(align));
        let head = self.free[i];
        if head != 0 && head & (align - 1) == 0 {
            self.free[i] = unsafe { *(head as *const usize) };
            return head as *mut u8;
        }
        self.carve(cs, align, grow)
    }

    /// `cs` bytes from the unused region, taking more from the host when it is short.
    #[inline(never)]
    unsafe fn carve(&mut self, cs: usize, align: usize, grow: fn(usize) -> usize) -> *mut u8 {
        let align = align.max(8);
        let mut at = (self.top + align - 1) & !(align - 1);
        if at < self.top || at.checked_add(cs).is_none_or(|e| e > self.end) {
            let pages = (cs + align).div_ceil(PAGE).max(GROW_PAGES);
            let old = grow(pages);
            if old == usize::MAX {
                return core::ptr::null_mut();
            }
            let start = old * PAGE;
            // Contiguous with the region (the host grows nothing else): the region goes on.
            if start != self.end || self.end == 0 {
                self.top = start;
            }
            self.end = start + pages * PAGE;
            at = (self.top + align - 1) & !(align - 1);
        }
        self.top = at + cs;
        at as *mut u8
    }

    /// Gives back a block of `size` bytes ([`Heap::alloc`]'s `size.max(align)`'s class).
    ///
    /// # Safety
    /// `p` came from this heap's `alloc`/`realloc` with this `size` and `align`.
    pub(crate) unsafe fn dealloc(&mut self, p: *mut u8, size: usize, align: usize) {
        let (i, _) = class(size.max(align));
        unsafe { *(p as *mut usize) = self.free[i] };
        self.free[i] = p as usize;
    }

    /// [`GlobalAlloc::realloc`](core::alloc::GlobalAlloc::realloc): in place when the class stays
    /// the same, or when `p` is the top block (grown or shrunk there while the region has room);
    /// else moved.
    ///
    /// # Safety
    /// As [`Heap::dealloc`]; `new` is not 0.
    pub(crate) unsafe fn realloc(
        &mut self,
        p: *mut u8,
        size: usize,
        align: usize,
        new: usize,
        grow: fn(usize) -> usize,
    ) -> *mut u8 {
        let (i, cs) = class(size.max(align));
        let (j, ncs) = class(new.max(align));
        if i == j {
            return p;
        }
        if p as usize + cs == self.top && p as usize + ncs <= self.end {
            self.top = p as usize + ncs;
            return p;
        }
        let q = unsafe { self.alloc(new, align, grow) };
        if !q.is_null() {
            unsafe {
                core::ptr::copy_nonoverlapping(p, q, size.min(new));
                self.dealloc(p, size, align);
            }
        }
        q
    }
}

#[cfg(all(target_arch = "wasm32", feature = "js", not(feature = "talc"), not(target_feature = "atomics")))]
pub(crate) mod global {
    use core::alloc::{GlobalAlloc, Layout};
    use core::cell::UnsafeCell;

    use super::Heap;

    fn grow(pages: usize) -> usize {
        core::arch::wasm32::memory_grow(0, pages)
    }

    /// The heap of the `.wasm` (one thread: no lock).
    pub(crate) struct Global(UnsafeCell<Heap>);
    // SAFETY: wasm32 without `atomics` has one thread.
    unsafe impl Sync for Global {}

    unsafe impl GlobalAlloc for Global {
        unsafe fn alloc(&self, l: Layout) -> *mut u8 {
            unsafe { (*self.0.get()).alloc(l.size(), l.align(), grow) }
        }
        unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
            unsafe { (*self.0.get()).dealloc(p, l.size(), l.align()) }
        }
        unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
            unsafe { (*self.0.get()).realloc(p, l.size(), l.align(), new, grow) }
        }
    }

    /// With `bench-alloc` the counting wrapper of src/wasm/bench.rs is the global allocator and
    /// hands its calls to this one.
    #[cfg_attr(not(feature = "bench-alloc"), global_allocator)]
    pub(crate) static HEAP: Global = Global(UnsafeCell::new(Heap::new()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn classes_cover_every_size_with_at_most_an_eighth_more() {
        let mut last = (0, 8);
        for size in (1..70_000).chain([1 << 20, (1 << 20) + 1, 3 << 29, (1 << 32) - 1]) {
            let (i, cs) = class(size);
            assert!(cs >= size && i < CLASSES, "{size} -> {i} {cs}");
            assert!(cs % 8 == 0);
            if size > 1 << BIG {
                assert!(cs < 2 * size, "{size} -> {cs}");
            } else if size > SMALL {
                assert!(cs - size < size / 8 + 1, "{size} -> {cs}");
            } else {
                assert!(cs - size < 8);
            }
            // Monotone: a larger size never gets a smaller class; one index, one block size.
            if size < 70_000 {
                assert!(i >= last.0 && (i != last.0 || cs == last.1), "{size}");
                last = (i, cs);
            }
        }
        assert_eq!(class(1024), (127, 1024));
        assert_eq!(class(1025), (128, 1152));
        assert_eq!(class(2048), (135, 2048));
        assert_eq!(class(2049), (136, 2304));
    }

    thread_local! {
        static ARENA: Cell<(usize, usize, usize)> = const { Cell::new((0, 0, 0)) };
    }
    // A fake memory.grow over a 64 KB-aligned buffer: (first page, pages used, pages there are).
    fn fake_grow(pages: usize) -> usize {
        ARENA.with(|a| {
            let (base, used, cap) = a.get();
            if used + pages > cap {
                return usize::MAX;
            }
            a.set((base, used + pages, cap));
            base + used
        })
    }
    fn arena(pages: usize) {
        let l = std::alloc::Layout::from_size_align(pages * PAGE, PAGE).unwrap();
        let p = unsafe { std::alloc::alloc_zeroed(l) } as usize;
        assert!(p != 0);
        ARENA.with(|a| a.set((p / PAGE, 0, pages)));
    }

    #[test]
    fn blocks_are_distinct_aligned_reused_and_kept_on_realloc() {
        arena(1024);
        let mut h = Heap::new();
        let mut live: Vec<(usize, usize, usize)> = Vec::new();
        let mut seed = 7u64;
        let mut rnd = |n: usize| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as usize % n
        };
        for round in 0..20_000 {
            if live.len() > 200 || (rnd(3) == 0 && !live.is_empty()) {
                let (p, size, align) = live.swap_remove(rnd(live.len()));
                // The block still holds its fill byte.
                let fill = (p as u8) ^ (size as u8);
                for k in 0..size {
                    assert_eq!(unsafe { *((p + k) as *const u8) }, fill, "round {round}");
                }
                if rnd(2) == 0 {
                    let new = 1 + rnd(5000);
                    let q = unsafe { h.realloc(p as *mut u8, size, align, new, fake_grow) } as usize;
                    assert!(q != 0 && q % align == 0);
                    for k in 0..size.min(new) {
                        assert_eq!(unsafe { *((q + k) as *const u8) }, fill, "realloc round {round}");
                    }
                    let fill = (q as u8) ^ (new as u8);
                    unsafe { std::ptr::write_bytes(q as *mut u8, fill, new) };
                    live.push((q, new, align));
                } else {
                    unsafe { h.dealloc(p as *mut u8, size, align) };
                }
            } else {
                let size = [1 + rnd(64), 1 + rnd(1500), 1 + rnd(70_000)][rnd(3)];
                let align = [1, 8, 8, 16, 4][rnd(5)];
                let p = unsafe { h.alloc(size, align, fake_grow) } as usize;
                assert!(p != 0 && p % align == 0, "{p} {align}");
                let fill = (p as u8) ^ (size as u8);
                unsafe { std::ptr::write_bytes(p as *mut u8, fill, size) };
                live.push((p, size, align));
            }
            // No two live blocks overlap.
            if round % 997 == 0 {
                let mut spans: Vec<_> = live.iter().map(|&(p, s, a)| (p, p + class(s.max(a)).1)).collect();
                spans.sort();
                assert!(spans.windows(2).all(|w| w[0].1 <= w[1].0), "overlap at round {round}");
            }
        }
    }

    #[test]
    fn a_freed_block_is_taken_again_and_the_top_block_grows_in_place() {
        arena(64);
        let mut h = Heap::new();
        let a = unsafe { h.alloc(100, 8, fake_grow) };
        unsafe { h.dealloc(a, 100, 8) };
        assert_eq!(unsafe { h.alloc(97, 8, fake_grow) }, a);
        let b = unsafe { h.alloc(10, 1, fake_grow) };
        let c = unsafe { h.realloc(b, 10, 1, 4000, fake_grow) };
        assert_eq!(b, c, "the top block grows where it is");
        // Out of memory: null, not a block past the end.
        assert!(unsafe { h.alloc(1 << 23, 8, fake_grow) }.is_null());
    }
}
