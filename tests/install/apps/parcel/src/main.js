// Parcel 2 with no configuration: it emits each entry's .wasm (wasm-bindgen's
// `new URL("…_bg.wasm", import.meta.url)`) as an asset. It resolves "neo4j-audit/read" as the
// package's folder read/ (it ignores `exports` unless the app turns packageExports on), through
// read/package.json's `main`.
import { mount } from "./app.js";
mount("parcel");
