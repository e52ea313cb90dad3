// Connected apps: an assistant connected over MCP, the way a person does it
// in a real browser (the authorize page's sign-in and consent, then the
// redirect to the assistant, which Chromium must allow), shows in Settings,
// and disconnecting it there stops its token at once.
import { test, expect, watch } from "./fixtures";
import { fresh, mcpClient, mcpToken, signUp } from "./helpers";

test("an assistant connected over MCP is listed in settings and disconnected from there", async ({ page, browser, request }) => {
  const username = fresh("kavya");
  await signUp(page, username);

  // The assistant opens KiteMate's authorize page in the person's browser.
  const client = await mcpClient(request, "Claude");
  const tab = await (await browser.newContext()).newPage();
  const problems: string[] = [];
  watch(tab, problems);
  let landed = "";
  await tab.route("http://127.0.0.1:33418/**", (route) => {
    landed = route.request().url();
    return route.fulfill({ status: 200, contentType: "text/html", body: "<!doctype html><title>Connected</title><p>Connected</p>" });
  });
  await tab.goto(`/oauth/authorize?${client.query}`);
  await expect(tab.getByText("Claude")).toBeVisible();
  await tab.getByLabel("Email").fill(`${username}@example.com`);
  await tab.getByLabel("Password").fill("river otter lantern 42");
  await tab.getByRole("button", { name: "Sign in" }).click();
  await expect(tab.getByRole("heading", { name: "Allow this app?" })).toBeVisible();
  await tab.getByRole("button", { name: "Allow" }).click();
  // The consent form's redirect reaches the assistant (its origin is in
  // the page's form-action), carrying the code, the state and the issuer.
  await expect.poll(() => landed).toContain("code=");
  const back = new URL(landed);
  expect(back.searchParams.get("state")).toBe(client.query.get("state"));
  expect(back.searchParams.get("iss")).toBe(new URL(client.resource).origin);
  expect(problems, "errors or CSP violations in the authorize pages").toEqual([]);
  const access = await mcpToken(request, client, landed);

  const ping = () =>
    request.post("/mcp", {
      headers: { authorization: `Bearer ${access}`, accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-11-25" },
      data: { jsonrpc: "2.0", id: 1, method: "ping" },
    });
  expect((await ping()).status()).toBe(200);

  await page.goto("/app/settings");
  const list = page.getByTestId("connected-apps");
  await expect(list.getByText("Claude")).toBeVisible();
  await expect(list).toContainText("holdings, trades, P&L and tax");
  await expect(list).toContainText("127.0.0.1:33418/callback");
  await page.getByRole("button", { name: "Disconnect Claude" }).click();
  await expect(page.getByText("No app is connected")).toBeVisible();
  expect((await ping()).status()).toBe(401);
});
