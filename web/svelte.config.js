// The app is a single-page app: the kitemate binary serves `build/` and
// answers every /app path with index.html (the fallback).
import adapter from "@sveltejs/adapter-static";
import { vitePreprocess } from "@sveltejs/vite-plugin-svelte";

/** @type {import('@sveltejs/kit').Config} */
export default {
  preprocess: vitePreprocess(),
  kit: {
    adapter: adapter({ pages: "build", assets: "build", fallback: "index.html", precompress: true, strict: true }),
    // The client is compiled in from source; its one dependency resolves
    // from here (for vite and for the type checker alike).
    alias: { $client: "../clients/typescript/src/index.ts", "openapi-fetch": "./node_modules/openapi-fetch" },
    // The server sends the Content-Security-Policy header, with the hash of
    // the one inline boot script kit writes (see src/web/assets.rs).
    output: { bundleStrategy: "split" },
  },
};
