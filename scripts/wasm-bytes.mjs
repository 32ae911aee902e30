// The wasm binary format's pieces that scripts/minify-wasm-names.mjs and
// scripts/drop-closure-slots.mjs both read and write: LEB128 integers, names, limits.
const dec = new TextDecoder();

export function leb(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

// A reader over one section's bytes.
export function reader(buf) {
  let at = 0;
  const r = {
    get at() {
      return at;
    },
    byte: () => buf[at++],
    u32() {
      let n = 0;
      let shift = 0;
      let b;
      do {
        b = buf[at++];
        n += (b & 0x7f) * 2 ** shift;
        shift += 7;
      } while (b & 0x80);
      return n;
    },
    name() {
      const len = r.u32();
      const s = dec.decode(buf.subarray(at, at + len));
      at += len;
      return s;
    },
    limits() {
      const flags = r.byte();
      r.u32();
      if (flags & 1) r.u32();
    },
  };
  return r;
}
