// webpack 5 emits each entry's .wasm (`new URL("…_bg.wasm", import.meta.url)`) as an asset module.
import { mount } from "./app.js";
mount("webpack");
