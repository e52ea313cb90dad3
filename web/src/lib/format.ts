// Indian formats: ₹1,23,45,678.90, lakh and crore, dates as written in India, times in IST.
import { i18n } from "./i18n.svelte";

const TZ = "Asia/Kolkata";
const rupees = new Intl.NumberFormat("en-IN", { style: "currency", currency: "INR", minimumFractionDigits: 2 });
const count = new Intl.NumberFormat("en-IN", { maximumFractionDigits: 4 });

/** Whole paise as rupees: 1234567890 → "₹1,23,45,678.90". */
export function money(paise: number | null | undefined): string {
  if (paise === null || paise === undefined) return "—";
  return rupees.format(paise / 100);
}

/** A signed amount with ▲/▼ so gains and losses do not rest on colour. */
export function change(paise: number | null | undefined): string {
  if (paise === null || paise === undefined) return "—";
  if (paise === 0) return money(0);
  return `${paise > 0 ? "▲" : "▼"} ${money(Math.abs(paise))}`;
}

/** "12.34" → "▲ 12.34%". */
export function percent(value: string | number | null | undefined, signed = true): string {
  if (value === null || value === undefined || value === "") return "—";
  const n = Number(value);
  const text = `${new Intl.NumberFormat("en-IN", { maximumFractionDigits: 2 }).format(Math.abs(n))}%`;
  if (!signed || n === 0) return `${n < 0 ? "-" : ""}${text}`;
  return `${n > 0 ? "▲" : "▼"} ${text}`;
}

/** "up" / "down" / "" for a signed figure, for the colour class beside the arrow. */
export function trend(value: string | number | null | undefined): string {
  const n = Number(value ?? 0);
  return n > 0 ? "up" : n < 0 ? "down" : "";
}

export function quantity(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  return count.format(Number(value));
}

/** Rupees for a chart axis: ₹12.5 L, ₹1.2 Cr. */
export function compactRupees(rupeesValue: number): string {
  const abs = Math.abs(rupeesValue);
  const sign = rupeesValue < 0 ? "-" : "";
  const hi = i18n.lang === "hi";
  if (abs >= 1e7) return `${sign}₹${trim(abs / 1e7)} ${hi ? "करोड़" : "Cr"}`;
  if (abs >= 1e5) return `${sign}₹${trim(abs / 1e5)} ${hi ? "लाख" : "L"}`;
  if (abs >= 1e3) return `${sign}₹${trim(abs / 1e3)}K`;
  return `${sign}₹${trim(abs)}`;
}

function trim(n: number): string {
  return new Intl.NumberFormat("en-IN", { maximumFractionDigits: n < 10 ? 2 : 1 }).format(n);
}

/** A calendar day ("2024-10-29") as written in India: 29 Oct 2024. */
export function day(iso: string | null | undefined): string {
  if (!iso) return "—";
  const [y, m, d] = iso.slice(0, 10).split("-").map(Number);
  return new Intl.DateTimeFormat("en-IN", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" }).format(
    new Date(Date.UTC(y, m - 1, d)),
  );
}

/** An instant in India's time: 29 Oct 2024, 3:30 pm IST. */
export function instant(iso: string | null | undefined): string {
  if (!iso) return "—";
  const text = new Intl.DateTimeFormat("en-IN", {
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "numeric",
    minute: "2-digit",
    timeZone: TZ,
  }).format(new Date(iso));
  return `${text} IST`;
}

/** Whether a column holds a gain or loss (P&L, a change, a return): written with ▲/▼. */
export function signed(key: string): boolean {
  return /pnl|unrealized|realized|change|gain|loss|xirr|return/i.test(key);
}

/** A table cell by its column's format; gains and losses with ▲/▼ when `key` says it is one. */
export function cell(value: unknown, format: string, key = ""): string {
  if (value === null || value === undefined) return "—";
  if (signed(key) && (format === "money" || format === "percent")) {
    return format === "money" ? change(Number(value)) : percent(value as string);
  }
  switch (format) {
    case "money":
      return money(Number(value));
    case "percent":
      return percent(value as string, false);
    case "quantity":
    case "number":
      return quantity(value as number);
    case "date":
      return day(String(value));
    default:
      return String(value);
  }
}
