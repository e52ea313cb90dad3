// Every page, signed in and public, checked by axe-core for WCAG 2.2 AA:
// no serious or critical violation anywhere, on a phone-sized screen as
// well as a desktop one, in English and in Hindi. With SCREENSHOTS=1 the
// main pages are saved under docs/screenshots/ (`npm run screenshots`).
import { type Page } from "@playwright/test";
import { test, expect, watch } from "./fixtures";
import AxeBuilder from "@axe-core/playwright";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { apiGet, connectApp, fresh, holdingsFile, importFiles, signUp, tokenOf, tradebook } from "./helpers";

const shots = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../docs/screenshots");

async function accessible(page: Page, where: string) {
  const result = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]).analyze();
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(bad.map((v) => `${where}: ${v.id} (${v.impact}) ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
}

/** The page has drawn what it loads (the notification stream stays open, so not "network idle"). */
async function settle(page: Page) {
  await page.waitForLoadState("load");
  await expect(page.getByText("Loading…")).toHaveCount(0);
  await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'));
  await page.evaluate(() => document.fonts.ready.then(() => new Promise((r) => setTimeout(r, 300))));
}

async function shoot(page: Page, name: string) {
  if (process.env.SCREENSHOTS) await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: false });
}

test.describe.configure({ mode: "serial" });

let shareUrl = "";
let username = "";
let boardId = "";
let storage: Awaited<ReturnType<import("@playwright/test").BrowserContext["storageState"]>>;

test("an account with a portfolio, a shared widget and a dashboard", async ({ page, request }) => {
  username = fresh("meera");
  await signUp(page, username);
  await importFiles(page, [tradebook, holdingsFile]);
  const token = await tokenOf(page);
  const widget = await (
    await request.post("/widgets", {
      headers: { authorization: `Bearer ${token}` },
      data: { title: "Sectors", kind: "donut", source: { type: "allocation", by: "sector", top: 6 }, visibility: undefined },
    })
  ).json();
  const shared = await (
    await request.patch(`/widgets/${widget.id}`, { headers: { authorization: `Bearer ${token}` }, data: { visibility: "public", tags: ["sectors"] } })
  ).json();
  shareUrl = shared.shareUrl;
  boardId = (await apiGet<{ dashboards: { id: string }[] }>(request, token, "/dashboards")).dashboards[0].id;
  // An assistant connected over MCP, for the settings page to list.
  await connectApp(request, `${username}@example.com`, "Claude");
  await request.post("/chat/query", { headers: { authorization: `Bearer ${token}` }, data: { message: "what did I pay for HDFCBANK?" } });
  storage = await page.context().storageState();
});

const signedIn = [
  ["home", "/app"],
  ["holdings", "/app/holdings"],
  ["chat", "/app/chat"],
  ["dashboards", "/app/dashboards"],
  ["dashboard", "/app/dashboards/{board}"],
  ["tax", "/app/tax"],
  ["import", "/app/import"],
  ["discover-app", "/app/discover"],
  ["profile", "/app/profile"],
  ["billing", "/app/billing"],
  ["settings", "/app/settings"],
  ["notifications", "/app/notifications"],
] as const;

for (const [name, route] of signedIn) {
  test(`${name} is accessible, desktop and phone, English and Hindi`, async ({ browser }) => {
    for (const viewport of [{ width: 1280, height: 900 }, { width: 390, height: 844 }]) {
      const context = await browser.newContext({ storageState: storage, viewport, locale: "en-IN", timezoneId: "Asia/Kolkata" });
      const page = await context.newPage();
      const problems: string[] = [];
      watch(page, problems);
      await page.goto(route.replace("{board}", boardId));
      await settle(page);
      await accessible(page, `${route} at ${viewport.width}px`);
      if (viewport.width > 1000) await shoot(page, name);
      if (name === "chat") {
        await page.getByRole("button", { name: /HDFCBANK/ }).first().click();
        await settle(page);
        await accessible(page, `${route} with an answer`);
        if (viewport.width > 1000) await shoot(page, "chat-answer");
      }
      // The page's width fits the screen: nothing to scroll sideways but tables.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, `${route} at ${viewport.width}px scrolls sideways`).toBeLessThanOrEqual(1);
      await page.getByLabel("Language").selectOption("hi");
      await expect(page.locator("html")).toHaveAttribute("lang", "hi");
      await accessible(page, `${route} in Hindi`);
      expect(problems, "errors in the page").toEqual([]);
      await context.close();
    }
  });
}

test("the public pages are accessible and carry previews", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems: string[] = [];
  watch(page, problems);
  for (const [name, url] of [["shared-widget", shareUrl], ["public-profile", `/u/${username}`], ["discover", "/discover"], ["signin", "/app/signin"], ["signup", "/app/signup"]]) {
    await page.goto(url);
    await settle(page);
    await accessible(page, url);
    if (!name.startsWith("sign")) {
      await expect(page.locator('meta[property="og:title"]')).toHaveCount(1);
      await expect(page.locator('meta[property="og:image"]')).toHaveCount(1);
    }
    await shoot(page, name);
  }
  expect(problems, "errors in the page").toEqual([]);
  await context.close();
});

test("the signed-in home page loads at most 150 KB of JavaScript, gzipped", async ({ browser }) => {
  const build = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../build");
  const context = await browser.newContext({ storageState: storage });
  const page = await context.newPage();
  await page.goto("/app");
  await page.waitForFunction(() => performance.getEntriesByName("kitemate:first-chart").length > 0);
  const scripts = await page.evaluate(() =>
    (performance.getEntriesByType("resource") as PerformanceResourceTiming[]).filter((r) => r.name.endsWith(".js")).map((r) => new URL(r.name).pathname),
  );
  // What a gzip-only browser is sent: the .gz twin of each script.
  const { statSync } = await import("node:fs");
  const bytes = scripts.reduce((sum, s) => sum + statSync(path.join(build, `${s}.gz`)).size, 0);
  expect(scripts.length).toBeGreaterThan(0);
  expect(bytes).toBeLessThanOrEqual(150 * 1024);
  await context.close();
});
