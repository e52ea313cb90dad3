// The official MCP tools against a running KiteMate: the Inspector's CLI
// lists and calls the tools, reads resources and gets prompts with an
// access token from the real OAuth flow (connect.mjs), and the conformance
// suite runs the server scenarios that apply to a read-only server with
// OAuth. Fails (exit 1) on the first thing that is not as it should be.
//
//   node check.mjs http://127.0.0.1:4999 tradebook.csv
import { spawnSync } from "node:child_process";
import http from "node:http";

const base = process.argv[2];
const tradebook = process.argv[3];
const here = new URL(".", import.meta.url).pathname;

function run(cmd, args, what) {
  const out = spawnSync(cmd, args, { cwd: here, encoding: "utf8", timeout: 120_000 });
  return { ok: out.status === 0, stdout: out.stdout ?? "", stderr: out.stderr ?? "", what };
}

function must(ok, what, detail = "") {
  if (!ok) {
    console.error(`FAILED: ${what}\n${detail}`.trimEnd());
    process.exit(1);
  }
  console.log(`ok: ${what}`);
}

const connected = run("node", ["connect.mjs", base, tradebook], "connect");
must(connected.ok && connected.stdout.startsWith("kma_"), "the OAuth flow gives an access token", connected.stderr);
const token = connected.stdout.trim();

function inspector(args, auth = true) {
  const headers = auth ? ["--header", `Authorization: Bearer ${token}`] : [];
  return run("npx", ["--no-install", "inspector", "--cli", `${base}/mcp`, "--transport", "http", ...headers, ...args], args.join(" "));
}

function json(out) {
  try {
    return JSON.parse(out.stdout);
  } catch {
    must(false, `${out.what} printed JSON`, out.stdout + out.stderr);
  }
}

// Tools: twelve, read-only, each with an output schema; --strict fails on
// any schema error a client could trip on.
const listed = inspector(["--method", "tools/list", "--strict"]);
must(listed.ok, "inspector tools/list --strict", listed.stderr);
const tools = json(listed).tools;
must(tools.length === 12, `12 tools (${tools.map((t) => t.name).join(", ")})`);
must(tools.every((t) => t.annotations?.readOnlyHint === true), "every tool is marked read-only");
must(tools.every((t) => t.outputSchema?.type === "object"), "every tool has an output schema");

const summary = json(inspector(["--method", "tools/call", "--tool-name", "portfolio_summary"]));
must(summary.isError !== true && summary.structuredContent?.summary?.holdings > 0, "portfolio_summary has the imported holdings", JSON.stringify(summary));
const gains = json(inspector(["--method", "tools/call", "--tool-name", "capital_gains", "--tool-arg", "fy=2024-25", "limit=5"]));
must(gains.structuredContent?.fy === "2024-25", "capital_gains for FY 2024-25", JSON.stringify(gains).slice(0, 500));
const bad = json(inspector(["--method", "tools/call", "--tool-name", "realized_pnl", "--tool-arg", "fy=2024-26"]));
must(bad.isError === true, "a bad financial year is a tool error the model can read", JSON.stringify(bad));

const resources = json(inspector(["--method", "resources/list"])).resources;
must(resources.some((r) => r.uri === "kitemate://portfolio/summary"), "resources/list has the summary");
const read = json(inspector(["--method", "resources/read", "--uri", "kitemate://portfolio/summary"]));
must(read.contents?.[0]?.mimeType === "application/json", "resources/read gives JSON");
const templates = json(inspector(["--method", "resources/templates/list"])).resourceTemplates;
must(templates.some((t) => t.uriTemplate === "kitemate://trades/{symbol}"), "the trades template is listed");

const prompts = json(inspector(["--method", "prompts/list"])).prompts;
must(prompts.length === 4, `4 prompts (${prompts.map((p) => p.name).join(", ")})`);
const prompt = json(inspector(["--method", "prompts/get", "--prompt-name", "explain_holding", "--prompt-args", "symbol=GOLDBEES"]));
must(JSON.stringify(prompt.messages).includes("GOLDBEES"), "prompts/get fills in the symbol");

const anonymous = inspector(["--method", "tools/list"], false);
must(!anonymous.ok, "without a token the Inspector is refused");

// The conformance suite's client connects without OAuth: a proxy puts the
// token on each request and passes everything else (Host, Origin) as sent.
const target = new URL(base);
const proxy = http.createServer((req, res) => {
  const upstream = http.request(
    { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, authorization: `Bearer ${token}` } },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
  upstream.on("error", () => res.writeHead(502).end());
  req.pipe(upstream);
});
await new Promise((resolve) => proxy.listen(0, "127.0.0.1", resolve));
const via = `http://127.0.0.1:${proxy.address().port}/mcp`;
const scenarios = ["server-initialize", "ping", "tools-list", "resources-list", "prompts-list", "dns-rebinding-protection"];
const results = [];
for (const scenario of scenarios) {
  const out = await new Promise((resolve) => {
    // Asynchronously: the proxy runs in this process.
    import("node:child_process").then(({ execFile }) =>
      execFile("npx", ["--no-install", "conformance", "server", "--url", via, "--scenario", scenario], { cwd: here, timeout: 120_000 }, (err, stdout, stderr) =>
        resolve({ ok: !err, stdout, stderr }),
      ),
    );
  });
  results.push([scenario, out]);
}
proxy.close();
for (const [scenario, out] of results) must(out.ok, `conformance ${scenario}`, out.stdout + out.stderr);
