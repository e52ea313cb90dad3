// The journey the app exists for, in a real Chromium against a real server:
// sign up, import Console's own exports, see the figures, ask, save an
// answer as a widget, arrange it, share it, look at it signed out, fork it
// from a second account, and the creator hears of it as it happens.
import { type Page } from "@playwright/test";
import { test, expect } from "./fixtures";
import { apiGet, fresh, holdingsFile, importFiles, money, signUp, tokenOf, tradebook } from "./helpers";

type Summary = { valuePaise: number; investedPaise: number; realizedPaise: number; unrealizedPaise: number; holdings: number };
type Holding = { symbol: string; quantity: string; valuePaise: number | null };
type Dashboard = { id: string; widgets: { widget: { id: string; title: string }; placement: { x: number; y: number } }[] };

async function ask(page: Page, question: string) {
  const index = await page.getByTestId("turns").locator("li.turn").count();
  const streamed = page.waitForResponse((r) => r.url().endsWith("/chat/query") && r.request().method() === "POST");
  await page.getByLabel("Ask about your portfolio").fill(question);
  await page.getByRole("button", { name: "Ask", exact: true }).click();
  const response = await streamed;
  expect(response.headers()["content-type"]).toContain("text/event-stream");
  const events = await response.text();
  expect(events).toContain("event: delta");
  expect(events).toContain("event: done");
  const turn = page.getByTestId("turns").locator("li.turn").nth(index);
  await expect(turn.locator(".card")).toHaveAttribute("aria-busy", "false");
  return turn;
}

test("sign up, import, ask, save, arrange, share, fork, and be told", async ({ page, browser, request }) => {
  const asha = fresh("asha");
  await signUp(page, asha);
  const token = await tokenOf(page);

  // Import both real exports; each report names what was taken and skipped.
  await importFiles(page, [tradebook, holdingsFile]);
  const results = page.getByTestId("import-results");
  await expect(results).toContainText("378 rows imported");
  await expect(results).toContainText("2 skipped");
  await results.getByText("Rows not taken (2)").click();
  await expect(results).toContainText("quantity is 0, nothing held");

  // Home shows the API's own figures, in Indian format.
  const summary = await apiGet<Summary>(request, token, "/portfolio/summary");
  await page.getByRole("link", { name: "Home" }).click();
  const figures = page.getByTestId("summary");
  await expect(figures.locator('[data-figure="value"]')).toHaveText(money(summary.valuePaise));
  await expect(figures.locator('[data-figure="invested"]')).toHaveText(money(summary.investedPaise));
  await expect(figures.locator('[data-figure="realized"]')).toContainText(money(Math.abs(summary.realizedPaise)));
  await expect(figures.locator('[data-figure="realized"]')).toContainText(summary.realizedPaise < 0 ? "▼" : "▲");
  expect(money(summary.valuePaise)).toMatch(/^₹\d{1,2}(,\d{2})*,\d{3}\.\d{2}$/);

  // Holdings: the largest first, as the API orders them.
  const top = await apiGet<{ holdings: Holding[]; total: number }>(request, token, "/holdings?limit=25&sort=value&order=desc");
  await page.getByRole("link", { name: "Holdings" }).click();
  const rows = page.getByTestId("holdings").locator("tbody tr");
  await expect(rows).toHaveCount(Math.min(25, top.total));
  await expect(rows.first().locator("th")).toHaveText(top.holdings[0].symbol);
  await expect(rows.first()).toContainText(money(top.holdings[0].valuePaise!));
  await expect(page.getByRole("navigation", { name: "Pages" })).toContainText(`Page 1 of ${Math.ceil(top.total / 25)}`);

  // Three questions, each answer streamed in; the second saved as a widget.
  await page.getByRole("link", { name: "Ask" }).click();
  const worth = await ask(page, "what is my portfolio worth?");
  await expect(worth).toContainText(money(summary.valuePaise));
  const sectors = await ask(page, "what is my allocation by sector?");
  await expect(sectors.locator("table")).toContainText("Financial Services");
  await ask(page, "which stocks gained the most?");
  await sectors.getByRole("button", { name: "Save as widget" }).click();
  const saved = sectors.getByRole("link", { name: "Saved as a widget." });
  await expect(saved).toBeVisible();
  const widgetId = (await saved.getAttribute("href"))!.split("/").pop()!;

  // Arrange it on the starter dashboard, with the keyboard move buttons.
  await page.getByRole("link", { name: "Dashboards" }).click();
  await page.locator(".list a").first().click();
  await expect(page).toHaveURL(/\/app\/dashboards\/[0-9a-f-]+$/);
  const boardId = page.url().split("/").pop()!;
  await page.getByText("Add a widget").click();
  const { title } = await apiGet<{ title: string }>(request, token, `/widgets/${widgetId}`);
  await page.getByRole("list", { name: "Your widgets" }).getByRole("button", { name: title }).click();
  const placed = () => apiGet<Dashboard>(request, token, `/dashboards/${boardId}`);
  await expect.poll(async () => (await placed()).widgets.some((w) => w.widget.id === widgetId)).toBe(true);
  const before = (await placed()).widgets.find((w) => w.widget.id === widgetId)!.placement;
  await page.locator(`[gs-id="${widgetId}"]`).getByRole("button", { name: `Move ${title} right` }).click();
  await expect.poll(async () => (await placed()).widgets.find((w) => w.widget.id === widgetId)!.placement.x).toBe(before.x + 1);

  // Share it: a link anyone can open.
  await page.goto(`/app/widgets/${widgetId}`);
  await page.getByRole("button", { name: "Share", exact: true }).click();
  const shareUrl = await page.getByLabel("Share link").inputValue();
  expect(shareUrl).toContain("/shared/widgets/");

  // Signed out, in another browser: a real page, with no amounts on it.
  const outside = await browser.newContext();
  const stranger = await outside.newPage();
  await stranger.goto(shareUrl);
  await expect(stranger.locator("h1")).toHaveText(title);
  await expect(stranger.locator('meta[property="og:title"]')).toHaveAttribute("content", title);
  await expect(stranger.locator('meta[property="og:image"]')).toHaveAttribute("content", `${shareUrl}/card.png`);
  await expect(stranger.locator("table")).toContainText("Financial Services");
  const text = await stranger.locator("main").innerText();
  expect(text).not.toContain("₹");
  expect(text).toContain("Amounts and quantities are hidden by the owner.");
  await outside.close();

  // A second account forks it from the link; the creator is told, live.
  const second = await browser.newContext();
  const ravi = await second.newPage();
  const raviName = fresh("ravi");
  await signUp(ravi, raviName);
  await page.goto("/app");
  await ravi.goto(shareUrl);
  await ravi.getByRole("link", { name: "Fork into my KiteMate" }).click();
  await ravi.getByRole("button", { name: "Fork this widget" }).click();
  await expect(ravi).toHaveURL(/\/app\/widgets\/[0-9a-f-]+$/);
  await expect(ravi.locator("h1")).toHaveText(title);
  await second.close();

  await expect(page.locator(".bell .count")).toHaveText("1");
  await page.locator(".bell").click();
  await expect(page.getByTestId("notifications")).toContainText(`${raviName} forked`);
});
