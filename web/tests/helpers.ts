// What the journeys share: accounts made through the app's own forms, the
// API read with the same session to check what the page shows, and the
// Indian formats the page must use.
import { expect, type Page, type APIRequestContext } from "@playwright/test";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
/** The real Console exports the Rust tests use too. */
export const consoleFiles = path.resolve(here, "../../crates/kitemate/tests/data/console");
export const tradebook = path.join(consoleFiles, "mohit-manna__capital-gain-fy-24-25__tradebook.csv");
export const holdingsFile = path.join(consoleFiles, "Neeraj-Verma__tradingapi__holdings.csv");

let n = 0;
/** A fresh username for this run. */
export function fresh(stem: string): string {
  n += 1;
  return `${stem}${Date.now().toString(36)}${n}`.slice(0, 30).toLowerCase();
}

/** Signs up through the form; lands on the home page. */
export async function signUp(page: Page, username: string) {
  await page.goto("/app/signup");
  await page.getByLabel("Email").fill(`${username}@example.com`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill("river otter lantern 42");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/app$/);
}

/** The session token the page holds. */
export async function tokenOf(page: Page): Promise<string> {
  const token = await page.evaluate(() => localStorage.getItem("kitemate.session"));
  expect(token).toBeTruthy();
  return token!;
}

/** GETs the API as the page's user. */
export async function apiGet<T>(request: APIRequestContext, token: string, url: string): Promise<T> {
  const response = await request.get(url, { headers: { authorization: `Bearer ${token}` } });
  expect(response.ok(), `${url}: ${response.status()}`).toBeTruthy();
  return (await response.json()) as T;
}

const rupees = new Intl.NumberFormat("en-IN", { style: "currency", currency: "INR", minimumFractionDigits: 2 });
/** Paise as the page writes them: ₹1,23,456.78. */
export function money(paise: number): string {
  return rupees.format(paise / 100);
}

/** Imports files through the drop zone's file input. */
export async function importFiles(page: Page, files: string[]) {
  await page.goto("/app/import");
  await page.locator("#files").setInputFiles(files);
  const results = page.getByTestId("import-results").locator("section");
  await expect(results).toHaveCount(files.length, { timeout: 60_000 });
}
