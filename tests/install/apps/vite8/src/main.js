// Vite 8 (what `npm create vite` installs) with no vite.config.js: no optimizeDeps.exclude, no
// build.target; `vite build`, `vite preview` and the dev server load the package as is.
import { mount } from "./app.js";
mount("vite8");
