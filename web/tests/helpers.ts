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

/** An MCP client's side of the OAuth flow: registered, with its PKCE pair. */
export type McpClient = { clientId: string; redirect: string; verifier: string; resource: string; query: URLSearchParams };

/** Registers an MCP client named `name` and prepares its authorize URL's query. */
export async function mcpClient(request: APIRequestContext, name: string): Promise<McpClient> {
  const { createHash, randomBytes } = await import("node:crypto");
  const redirect = "http://127.0.0.1:33418/callback";
  const registered = await request.post("/oauth/register", { data: { client_name: name, redirect_uris: [redirect] } });
  expect(registered.status()).toBe(201);
  const clientId = (await registered.json()).client_id as string;
  const resource = (await (await request.get("/.well-known/oauth-protected-resource/mcp")).json()).resource as string;
  const verifier = randomBytes(32).toString("base64url");
  const query = new URLSearchParams({
    response_type: "code", client_id: clientId, redirect_uri: redirect,
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256", state: randomBytes(8).toString("hex"), scope: "portfolio:read widgets:read", resource,
  });
  return { clientId, redirect, verifier, resource, query };
}

/** Exchanges the code in the URL the browser was sent to; the access token. */
export async function mcpToken(request: APIRequestContext, client: McpClient, landed: string): Promise<string> {
  const code = new URL(landed).searchParams.get("code") ?? "";
  const tokens = await request.post("/oauth/token", {
    form: { grant_type: "authorization_code", code, redirect_uri: client.redirect, client_id: client.clientId, code_verifier: client.verifier, resource: client.resource },
  });
  expect(tokens.ok()).toBeTruthy();
  return (await tokens.json()).access_token as string;
}

/**
 * Connects an MCP client named `name` to `email`'s account without a
 * browser: the authorize page's forms posted by `request` (which keeps the
 * page's cookie). Returns the access token.
 */
export async function connectApp(request: APIRequestContext, email: string, name: string): Promise<string> {
  const client = await mcpClient(request, name);
  const field = (html: string, name: string) => html.match(new RegExp(`name="${name}" value="([^"]*)"`))?.[1] ?? "";
  const signIn = await (await request.get(`/oauth/authorize?${client.query}`)).text();
  const consent = await (
    await request.post("/oauth/authorize", {
      form: { request: field(signIn, "request"), csrf: field(signIn, "csrf"), step: "sign_in", email, password: "river otter lantern 42" },
    })
  ).text();
  const allowed = await request.post("/oauth/authorize", {
    form: { request: field(consent, "request"), csrf: field(consent, "csrf"), step: "consent", decision: "allow" },
    maxRedirects: 0,
  });
  expect(allowed.status()).toBe(303);
  return mcpToken(request, client, allowed.headers()["location"]);
}
