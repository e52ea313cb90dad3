// The KiteMate API client: openapi-fetch over the types generated from openapi.json.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema.js";

export type { components, paths };
export type User = components["schemas"]["User"];
export type AuthResponse = components["schemas"]["AuthResponse"];
/** Every error the API sends: Encore's `{code, message, details}`. */
export type ApiError = components["schemas"]["ErrorBody"];

export interface ClientOptions {
  /** Where the API lives, e.g. `http://127.0.0.1:4000`. */
  baseUrl: string;
  /** Returns the session token to send, if any (read on every request). */
  token?: () => string | undefined;
  fetch?: typeof globalThis.fetch;
}

/** A typed client: `client.POST("/auth/login", { body })` and so on. */
export function createKiteMateClient(options: ClientOptions) {
  const client = createClient<paths>({ baseUrl: options.baseUrl, fetch: options.fetch });
  const auth: Middleware = {
    onRequest({ request }) {
      const token = options.token?.();
      if (token) request.headers.set("Authorization", `Bearer ${token}`);
      return request;
    },
  };
  client.use(auth);
  return client;
}

export type KiteMateClient = ReturnType<typeof createKiteMateClient>;
