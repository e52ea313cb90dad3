// Sign up, log in, and read the account: `node dist/examples/signup-login-me.js http://127.0.0.1:4000`.
import { createKiteMateClient } from "../src/index.js";

let token: string | undefined;
const api = createKiteMateClient({
  baseUrl: process.argv[2] ?? "http://127.0.0.1:4000",
  token: () => token,
});

const suffix = Date.now().toString(36);
const email = `asha.${suffix}@example.com`;
const password = "river otter lantern";

const signup = await api.POST("/auth/signup", {
  body: { email, password, username: `asha_${suffix}` },
});
if (signup.error) throw new Error(`signup: ${signup.error.code}: ${signup.error.message}`);

const login = await api.POST("/auth/login", { body: { email, password } });
if (login.error) throw new Error(`login: ${login.error.message}`);
token = login.data.token;

const me = await api.GET("/auth/me");
if (me.error) throw new Error(`me: ${me.error.message}`);
console.log(`signed in as ${me.data.username} (${me.data.tier})`);
