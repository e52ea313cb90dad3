// The widget gallery: one ready widget per kind of question, added to a
// dashboard with a click (each is an ordinary `POST /widgets` body).
import type { Schemas } from "./api";

export type Preset = { label: string; body: Schemas["CreateWidget"]; w: number; h: number };

export const gallery: Preset[] = [
  { label: "Value and P&L", w: 6, h: 2, body: { title: "Value and P&L", kind: "metric", source: { type: "summary", figures: ["value", "invested", "unrealized", "unrealizedPercent"] } } },
  { label: "Allocation by sector", w: 6, h: 4, body: { title: "Allocation by sector", kind: "donut", source: { type: "allocation", by: "sector", top: 6 } } },
  { label: "Allocation by stock", w: 6, h: 4, body: { title: "Allocation by stock", kind: "pie", source: { type: "allocation", by: "stock", top: 8 } } },
  { label: "Top holdings", w: 6, h: 4, body: { title: "Top holdings", kind: "table", source: { type: "holdings", sort: "value", top: 10 } } },
  { label: "Top gainers", w: 6, h: 4, body: { title: "Top gainers", kind: "bar", source: { type: "movers", direction: "gainers", measure: "percent", n: 5 } } },
  { label: "Top losers", w: 6, h: 4, body: { title: "Top losers", kind: "bar", source: { type: "movers", direction: "losers", measure: "percent", n: 5 } } },
  { label: "Value over a year", w: 12, h: 4, body: { title: "Value over a year", kind: "line", source: { type: "history", range: "1y" } } },
  { label: "Realized P&L by year", w: 6, h: 4, body: { title: "Realized P&L by year", kind: "bar", source: { type: "realized", byYear: true } } },
  { label: "XIRR", w: 3, h: 2, body: { title: "XIRR", kind: "metric", source: { type: "xirr" } } },
  { label: "Top 5 concentration", w: 3, h: 2, body: { title: "Top 5 concentration", kind: "metric", source: { type: "concentration", top: 5 } } },
  { label: "Note", w: 6, h: 2, body: { title: "Note", kind: "note", description: "Write anything here." } },
];

/** The first free row below everything on a layout. */
export function bottom(layout: Schemas["Placement"][]): number {
  return layout.reduce((y, p) => Math.max(y, p.y + p.h), 0);
}
