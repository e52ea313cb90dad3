// The one way the app reaches the API: the generated client (clients/typescript),
// with the session token from this browser's storage.
import { createKiteMateClient, type components } from "$client";

export type Schemas = components["schemas"];
export type ApiErrorBody = Schemas["ErrorBody"];

const TOKEN_KEY = "kitemate.session";

export function token(): string | undefined {
  return localStorage.getItem(TOKEN_KEY) ?? undefined;
}

export function setToken(value: string | null) {
  if (value) localStorage.setItem(TOKEN_KEY, value);
  else localStorage.removeItem(TOKEN_KEY);
}

export const api = createKiteMateClient({ baseUrl: location.origin, token });

/** An error the API answered with, in its `{code, message, details}` shape. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody | undefined,
  ) {
    super(body?.message ?? `request failed (${status})`);
  }
  get field(): string | undefined {
    const details = this.body?.details as { field?: string } | null | undefined;
    return details?.field;
  }
}

/** Unwraps a client call: its data, or an `ApiFailure` (a 401 signs out). */
export async function ok<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok) return data as T;
  if (response.status === 401 && token()) {
    // The session ended (expired, or signed out elsewhere): back here after signing in.
    setToken(null);
    sessionStorage.setItem("kitemate.next", location.pathname + location.search + location.hash);
    location.assign("/app/signin");
  }
  throw new ApiFailure(response.status, error as ApiErrorBody | undefined);
}

/** Headers for the few calls the client cannot make (streams, uploads). */
export function authHeaders(): Record<string, string> {
  const t = token();
  return t ? { authorization: `Bearer ${t}` } : {};
}

/** Fetches an image the API draws behind sign-in as a blob: URL for an <img>. */
export async function imageUrl(path: string): Promise<string> {
  const response = await fetch(path, { headers: authHeaders() });
  if (!response.ok) throw new ApiFailure(response.status, undefined);
  return URL.createObjectURL(await response.blob());
}

/**
 * Reads a Server-Sent Events response as it arrives: `onEvent(name, data)`
 * per event. Used for streamed answers and notifications (fetch, because
 * EventSource cannot send the Authorization header).
 */
export async function readEvents(
  response: Response,
  onEvent: (event: string, data: string) => void,
  signal?: AbortSignal,
) {
  if (!response.body) return;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  while (!signal?.aborted) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n/g, "\n");
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) onEvent(name, data.join("\n"));
    }
  }
}
