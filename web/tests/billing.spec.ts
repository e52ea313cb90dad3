// Upgrading to Pro in the browser, through each provider's hosted checkout
// (fake Razorpay and Stripe on the next port: tests/fake-payments.ts): the
// person pays there, the provider's signed webhooks reach KiteMate, and the
// plan page says Pro with the invoice for what was paid.
import { test, expect } from "./fixtures";
import { FakePayments } from "./fake-payments";
import { fresh, money, signUp } from "./helpers";

const port = Number(process.env.KITEMATE_E2E_PORT ?? 4555);
let fake: FakePayments;

test.beforeAll(async () => {
  fake = new FakePayments(port + 1, `http://127.0.0.1:${port}`);
  await fake.start();
});
test.afterAll(async () => fake.stop());

for (const provider of ["Stripe", "Razorpay"] as const) {
  test(`Pro through ${provider}'s checkout`, async ({ page }) => {
    await signUp(page, fresh(provider.toLowerCase()));
    await page.getByRole("link", { name: "Plan" }).click();
    await expect(page.getByTestId("plan")).toContainText("Free");
    await page.getByRole("button", { name: new RegExp(`monthly.*${provider}`, "i") }).click();

    // The provider's own page, outside KiteMate.
    await expect(page.locator("h1")).toContainText(provider);
    const sent = fake.delivered.length;
    await page.getByRole("button", { name: "Pay ₹299.00" }).click();
    if (provider === "Razorpay") {
      await expect(page.locator("h1")).toHaveText("Payment successful");
      await page.getByRole("link", { name: "Back to KiteMate" }).click();
    }
    await expect(page).toHaveURL(/\/app\/billing/);
    expect(fake.delivered.slice(sent).map((d) => d.status)).toEqual(provider === "Stripe" ? [200, 200, 200] : [200, 200]);

    await expect(page.getByTestId("plan")).toContainText("Pro");
    await expect(page.getByTestId("invoices")).toContainText(money(29_900));
    await expect(page.getByRole("button", { name: /Pay with/ })).toHaveCount(0);
  });
}
