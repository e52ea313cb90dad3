// Who is signed in, for every page: the user from /auth/me, loaded once.
import { api, ok, setToken, token, type Schemas } from "./api";

export const session = $state<{ user: Schemas["User"] | null; ready: boolean }>({ user: null, ready: false });

export async function loadSession() {
  if (!token()) {
    session.user = null;
    session.ready = true;
    return;
  }
  try {
    session.user = await ok(api.GET("/auth/me"));
  } catch {
    session.user = null;
  }
  session.ready = true;
}

export function signedIn(auth: Schemas["AuthResponse"]) {
  setToken(auth.token);
  session.user = auth.user;
  session.ready = true;
}

export async function signOut() {
  try {
    await api.POST("/auth/logout");
  } finally {
    setToken(null);
    session.user = null;
  }
}
