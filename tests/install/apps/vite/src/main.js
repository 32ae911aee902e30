// Vite emits each entry's .wasm (wasm-bindgen's `new URL("…_bg.wasm", import.meta.url)`) as an asset.
import { mount } from "./app.js";
mount("vite");
