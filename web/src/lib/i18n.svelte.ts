// English and Hindi: one catalog per language, the choice kept in this browser
// and written to <html lang> so screen readers and fonts follow it.
import { en } from "./messages/en";
import { hi } from "./messages/hi";

export type Lang = "en" | "hi";
export type Key = keyof typeof en;
const catalogs: Record<Lang, Record<Key, string>> = { en, hi };

function initial(): Lang {
  const saved = localStorage.getItem("kitemate.lang");
  if (saved === "en" || saved === "hi") return saved;
  return navigator.language.startsWith("hi") ? "hi" : "en";
}

export const i18n = $state({ lang: initial() });
document.documentElement.lang = i18n.lang;

export function setLang(lang: Lang) {
  i18n.lang = lang;
  localStorage.setItem("kitemate.lang", lang);
  document.documentElement.lang = lang;
}

/** The message for `key` in the chosen language; `{name}` filled from `vars`. */
export function t(key: Key, vars: Record<string, string | number> = {}): string {
  const text = catalogs[i18n.lang][key] ?? en[key];
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}
