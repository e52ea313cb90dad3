import { sveltekit } from "@sveltejs/kit/vite";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [sveltekit()],
  server: { proxy: { "^/(auth|portfolio|holdings|chat|widgets|dashboards|discover|feed|profiles|notifications|subscriptions|shared|embed|objects|reports|u)(/|$)": "http://127.0.0.1:4000" } },
  build: { target: "es2022", reportCompressedSize: true },
});
