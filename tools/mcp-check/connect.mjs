// Connects an MCP client to a running KiteMate the way an assistant does,
// discovering everything from the 401 on /mcp: the protected resource's
// metadata, the authorization server's, dynamic registration, PKCE, the
// sign-in and consent forms (with the browser's cookie), the token.
// Makes the account first and imports a real Console tradebook, so the
// tools have figures. Prints the access token.
//
//   node connect.mjs http://127.0.0.1:4999 [tradebook.csv]
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";

const base = process.argv[2];
const tradebook = process.argv[3];
const email = `mcp-${Date.now()}@example.com`;
const password = "river otter lantern 42";
const redirect = "http://127.0.0.1:33418/callback";

function must(ok, what) {
  if (!ok) throw new Error(what);
}

async function json(res, what) {
  const body = await res.text();
  must(res.ok, `${what}: ${res.status} ${body}`);
  return JSON.parse(body);
}

const signup = await json(
  await fetch(`${base}/auth/signup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password, username: `mcp${Date.now().toString(36)}` }),
  }),
  "signup",
);
if (tradebook) {
  await json(
    await fetch(`${base}/portfolio/import`, {
      method: "POST",
      headers: { authorization: `Bearer ${signup.token}`, "content-type": "text/csv" },
      body: readFileSync(tradebook),
    }),
    "import",
  );
}

// Discovery, from the challenge.
const denied = await fetch(`${base}/mcp`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
must(denied.status === 401, `an anonymous /mcp is ${denied.status}`);
const challenge = denied.headers.get("www-authenticate") ?? "";
const prmUrl = challenge.match(/resource_metadata="([^"]+)"/)?.[1];
must(prmUrl, `no resource_metadata in ${challenge}`);
const prm = await json(await fetch(prmUrl), "protected resource metadata");
const issuer = prm.authorization_servers[0];
const as = await json(await fetch(`${issuer}/.well-known/oauth-authorization-server`), "server metadata");
must(as.issuer === issuer, `issuer ${as.issuer} is not ${issuer}`);
must(as.code_challenge_methods_supported.includes("S256"), "no S256");

const client = await json(
  await fetch(as.registration_endpoint, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ client_name: "MCP Inspector (CI)", redirect_uris: [redirect] }),
  }),
  "registration",
);

const verifier = randomBytes(32).toString("base64url");
const state = randomBytes(8).toString("hex");
const query = new URLSearchParams({
  response_type: "code",
  client_id: client.client_id,
  redirect_uri: redirect,
  code_challenge: createHash("sha256").update(verifier).digest("base64url"),
  code_challenge_method: "S256",
  state,
  scope: prm.scopes_supported.join(" "),
  resource: prm.resource,
});
const page = await fetch(`${as.authorization_endpoint}?${query}`);
must(page.ok, `authorize page: ${page.status}`);
const cookie = (page.headers.get("set-cookie") ?? "").split(";")[0];
const field = (html, name) => html.match(new RegExp(`name="${name}" value="([^"]*)"`))?.[1] ?? "";
const post = (fields) =>
  fetch(as.authorization_endpoint, {
    method: "POST",
    redirect: "manual",
    headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields),
  });
const signIn = await page.text();
const consent = await (
  await post({ request: field(signIn, "request"), csrf: field(signIn, "csrf"), step: "sign_in", email, password })
).text();
const back = await post({ request: field(consent, "request"), csrf: field(consent, "csrf"), step: "consent", decision: "allow" });
must(back.status === 303, `consent: ${back.status}`);
const to = new URL(back.headers.get("location"));
must(to.searchParams.get("state") === state && to.searchParams.get("iss") === issuer, `redirect ${to}`);

const tokens = await json(
  await fetch(as.token_endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: to.searchParams.get("code"),
      redirect_uri: redirect,
      client_id: client.client_id,
      code_verifier: verifier,
      resource: prm.resource,
    }),
  }),
  "token",
);
process.stdout.write(tokens.access_token);
