// Connected apps: an assistant connected over MCP (the OAuth flow an
// assistant drives) shows in Settings, and disconnecting it there stops
// its token at once.
import { test, expect } from "./fixtures";
import { connectApp, fresh, signUp } from "./helpers";

test("an assistant connected over MCP is listed in settings and disconnected from there", async ({ page, request }) => {
  const username = fresh("kavya");
  await signUp(page, username);
  const access = await connectApp(request, `${username}@example.com`, "Claude");
  const ping = () =>
    request.post("/mcp", {
      headers: {
        authorization: `Bearer ${access}`,
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": "2025-11-25",
      },
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
