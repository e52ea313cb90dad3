// The first-load benchmark (`npm run bench`): the browser suite's setup,
// its own folder, numbers printed rather than asserted.
import base from "./playwright.config";
import { defineConfig } from "@playwright/test";

export default defineConfig({ ...base, testDir: "bench", timeout: 300_000 });
