// First load of the signed-in home page (the figures and the starter
// dashboard): how much JavaScript it fetches, gzipped (the `.gz` files the
// server sends a gzip-only browser) and as Chromium fetched it (Brotli), and
// how long from navigation to the first chart drawn, over cold loads (a new
// browser context each: no cache). Prints one line per figure.
import { test, expect } from "@playwright/test";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { fresh, holdingsFile, importFiles, signUp, tradebook } from "../tests/helpers";

const build = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../build");
const RUNS = Number(process.env.RUNS ?? 15);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

test("first load of the signed-in home page", async ({ page, browser }) => {
  await signUp(page, fresh("bench"));
  await importFiles(page, [tradebook, holdingsFile]);
  const storage = await page.context().storageState();

  const times: number[] = [];
  let gzipped = 0;
  let fetched = 0;
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext({ storageState: storage });
    const p = await context.newPage();
    await p.goto("/app");
    await p.waitForFunction(() => performance.getEntriesByName("kitemate:first-chart").length > 0, null, { timeout: 30_000 });
    const { chart, scripts } = await p.evaluate(() => ({
      chart: performance.getEntriesByName("kitemate:first-chart")[0].startTime,
      scripts: (performance.getEntriesByType("resource") as PerformanceResourceTiming[])
        .filter((r) => r.name.endsWith(".js"))
        .map((r) => ({ path: new URL(r.name).pathname, bytes: r.encodedBodySize })),
    }));
    times.push(chart);
    if (i === 0) {
      gzipped = scripts.reduce((sum, s) => sum + fs.statSync(path.join(build, `${s.path}.gz`)).size, 0);
      fetched = scripts.reduce((sum, s) => sum + s.bytes, 0);
      console.log(`scripts on first load: ${scripts.length}`);
    }
    await context.close();
  }
  console.log(`first-load JavaScript: ${(gzipped / 1024).toFixed(1)} KiB gzipped, ${(fetched / 1024).toFixed(1)} KiB as fetched (Brotli)`);
  console.log(`first chart after navigation: median ${median(times).toFixed(0)} ms, best ${Math.min(...times).toFixed(0)} ms, worst ${Math.max(...times).toFixed(0)} ms over ${RUNS} cold loads`);
  expect(times.length).toBe(RUNS);
});
