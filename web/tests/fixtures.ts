// Every test's pages are watched: an uncaught error (an unhandled promise
// rejection included) or a Content-Security-Policy violation fails the test,
// so a page that breaks quietly, or a policy that blocks the app's own
// code, cannot pass.
import { test as base, expect, type Page } from "@playwright/test";

export function watch(page: Page, problems: string[]) {
  page.on("pageerror", (error) => problems.push(`${page.url()}: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy/i.test(message.text())) problems.push(`${page.url()}: ${message.text()}`);
  });
}

export const test = base.extend<{ watched: void }>({
  watched: [
    async ({ context }, use) => {
      const problems: string[] = [];
      context.on("page", (page) => watch(page, problems));
      for (const page of context.pages()) watch(page, problems);
      await use();
      expect(problems, "errors in the page").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
