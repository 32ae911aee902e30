// Rollup emits each entry's .wasm through @web/rollup-plugin-import-meta-assets (build.mjs).
import { mount } from "./app.js";
mount("rollup");
