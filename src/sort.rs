//! The library's one sort: a heap sort reached through one `dyn` callback, so the `.wasm` holds a
//! single copy of it instead of one `core` sort per element type (`String`s, the JWT claims,
//! the delivery machine's (time, index) pairs).

/// Sorts `v` by `less` (unstable: equal elements may change places). An input already in order,
/// the usual case, is left as it is. Whether anything moved.
pub(crate) fn sort_by<T>(v: &mut [T], less: impl Fn(&T, &T) -> bool) -> bool {
    heap_sort(v.len(), &mut |i, j, swap| {
        if swap {
            v.swap(i, j);
            false
        } else {
            less(&v[i], &v[j])
        }
    })
}

/// [`sort_by`] with `<`.
pub(crate) fn sort<T: Ord>(v: &mut [T]) -> bool {
    sort_by(v, |a, b| a < b)
}

/// The sort over `n` items that `at` reaches by index: `at(i, j, false)` says whether item `i`
/// goes before item `j`, `at(i, j, true)` swaps them.
#[inline(never)]
fn heap_sort(n: usize, at: &mut dyn FnMut(usize, usize, bool) -> bool) -> bool {
    if (1..n).all(|i| !at(i, i - 1, false)) {
        return false;
    }
    fn sift(at: &mut dyn FnMut(usize, usize, bool) -> bool, mut root: usize, end: usize) {
        loop {
            let mut child = 2 * root + 1;
            if child >= end {
                return;
            }
            if child + 1 < end && at(child, child + 1, false) {
                child += 1;
            }
            if !at(root, child, false) {
                return;
            }
            at(root, child, true);
            root = child;
        }
    }
    for root in (0..n / 2).rev() {
        sift(at, root, n);
    }
    for end in (1..n).rev() {
        at(0, end, true);
        sift(at, 0, end);
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
        let mut s: Vec<String> = ["b", "a", "c", "a"].iter().map(|s| s.to_string()).collect();
        assert!(sort(&mut s));
        assert_eq!(s, ["a", "a", "b", "c"]);
        assert!(!sort(&mut s), "already in order: nothing moves");
        let mut d = [3, 1, 2];
        assert!(sort_by(&mut d, |a, b| a > b));
        assert_eq!(d, [3, 2, 1]);
    }
}
