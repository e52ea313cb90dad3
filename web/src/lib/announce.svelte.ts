// One polite live region for the whole app: what changed, said once.
export const live = $state({ message: "" });

export function announce(message: string) {
  live.message = "";
  queueMicrotask(() => (live.message = message));
}
