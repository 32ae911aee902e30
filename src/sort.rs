//! The library's one sort: a heap sort reached through one `dyn` callback, so the `.wasm` holds a
//! single copy of it instead of one `core` sort per element type (`String`s, the JWT claims,
//! the delivery machine's (time, index) pairs).

/// Sorts `v` by `less` (unstable: equal elements may change places). An input already in order,
/// the usual case, is left as it is. Whether anything moved.
pub(crate) fn sort_by<T>(v: &mut [T], less: impl Fn(&T, &T) -> bool) -> bool {
    let slots = Slots::of(v);
    let base = slots.base.cast::<T>();
    // SAFETY: `heap_sort` asks about indices below `v.len()` only, and moves no element while
    // `less` looks at two: each `&T` lives for that one call (`base` and the moves are the one
    // pointer `Slots::of` took).
    heap_sort(slots.len, slots, &mut |i, j| unsafe { less(&*base.add(i), &*base.add(j)) })
}

/// [`sort_by`] with `<`.
pub(crate) fn sort<T: Ord>(v: &mut [T]) -> bool {
    sort_by(v, |a, b| a < b)
}

/// A slice's elements as bytes to swap, not generic: the sort and the moves of
/// `machine::sort_by_time` are one copy each for every element type (a swap per type, with its
/// bounds checks, was ~100 B of .wasm per instance).
pub(crate) struct Slots {
    base: *mut std::mem::MaybeUninit<u8>,
    size: usize,
    len: usize,
}

impl Slots {
    pub(crate) fn of<T>(v: &mut [T]) -> Slots {
        Slots { base: v.as_mut_ptr().cast(), size: std::mem::size_of::<T>(), len: v.len() }
    }

    /// Swaps elements `i` and `j` (the same one: nothing).
    pub(crate) fn swap(&mut self, i: usize, j: usize) {
        assert!(i < self.len && j < self.len);
        if i != j {
            // SAFETY: two distinct elements of the slice `Slots::of` took (checked above), so
            // `size` bytes each that do not overlap; swapped as `MaybeUninit` bytes (padding
            // included), which is what `<[T]>::swap` does.
            unsafe {
                std::ptr::swap_nonoverlapping(self.base.add(i * self.size), self.base.add(j * self.size), self.size)
            }
        }
    }
}

/// The sort over the `n` elements of `slots`: `less(i, j)` says whether element `i` goes before
/// element `j`.
#[inline(never)]
fn heap_sort(n: usize, mut slots: Slots, less: &mut dyn FnMut(usize, usize) -> bool) -> bool {
    if (1..n).all(|i| !less(i, i - 1)) {
        return false;
    }
    fn sift(slots: &mut Slots, less: &mut dyn FnMut(usize, usize) -> bool, mut root: usize, end: usize) {
        loop {
            let mut child = 2 * root + 1;
            if child >= end {
                return;
            }
            if child + 1 < end && less(child, child + 1) {
                child += 1;
            }
            if !less(root, child) {
                return;
            }
            slots.swap(root, child);
            root = child;
        }
    }
    for root in (0..n / 2).rev() {
        sift(&mut slots, less, root, n);
    }
    for end in (1..n).rev() {
        slots.swap(0, end);
        sift(&mut slots, less, 0, end);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_as_std_does() {
        // Lengths 0..40, values from a small range (many equal), each case against sort_unstable.
        let mut seed = 7u64;
        for n in 0..40 {
            for _ in 0..20 {
                let mut v: Vec<u32> = (0..n)
                    .map(|_| {
                        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        (seed >> 59) as u32
                    })
                    .collect();
                let mut want = v.clone();
                want.sort_unstable();
                let in_order = v == want;
                let moved = sort(&mut v);
                assert_eq!(v, want);
                assert_eq!(moved, !in_order, "n = {n}: whether anything moved");
            }
        }
        // Elements that own memory (moved by byte swaps): each once, in order, freed once.
        for n in 0..30 {
            let mut v: Vec<String> = (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    "x".repeat((seed >> 61) as usize)
                })
                .collect();
            let mut want = v.clone();
            want.sort_unstable();
            sort(&mut v);
            assert_eq!(v, want);
        }
        let mut s: Vec<String> = ["b", "a", "c", "a"].iter().map(|s| s.to_string()).collect();
        assert!(sort(&mut s));
        assert_eq!(s, ["a", "a", "b", "c"]);
        assert!(!sort(&mut s), "already in order: nothing moves");
        let mut d = [3, 1, 2];
        assert!(sort_by(&mut d, |a, b| a > b));
        assert_eq!(d, [3, 2, 1]);
    }
}
