// The app is a single-page app: the kitemate binary serves `build/` and
// answers every /app path with index.html (the fallback).
import adapter from "@sveltejs/adapter-static";
import { vitePreprocess } from "@sveltejs/vite-plugin-svelte";

/** @type {import('@sveltejs/kit').Config} */
export default {
  preprocess: vitePreprocess(),
  kit: {
    adapter: adapter({ pages: "build", assets: "build", fallback: "index.html", precompress: true, strict: true }),
    alias: { $client: "../clients/typescript/src/index.ts" },
    // The server sends the Content-Security-Policy header, with the hash of
    // the one inline boot script kit writes (see src/web/assets.rs).
    output: { bundleStrategy: "split" },
  },
};
