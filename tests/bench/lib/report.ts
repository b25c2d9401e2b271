// The one results table, as plain text for the terminal and as Markdown.
import type { Row } from "./context.js";

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
  date: string;
  mode: string;
  durationSeconds?: number;
}

const verdict = (row: Row) => (row.pass === undefined ? "" : row.pass ? "PASS" : "FAIL");
const ratioText = (row: Row) => (row.ratio === undefined ? "" : `${row.ratio.toFixed(2)}×`);

export function machineLine(m: MachineInfo): string {
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB · Node ${m.node} · ${m.os} · ${m.date} · ${m.mode}${m.durationSeconds ? ` · ${Math.round(m.durationSeconds)} s` : ""}`;
}

export function textTable(rows: Row[], machine: MachineInfo): string {
  const header = ["area", "metric", "target", "measured (service)", "floor", "ratio", "result"];
  const body = rows.map((r) => [r.group, r.metric, r.target, r.measured, r.floor?.replace(/^store-only /, "") ?? "", ratioText(r), verdict(r)]);
  // The floor column holds two figures for /send_message; the table shows the store-only one the target uses.
  for (const line of body) line[4] = (line[4] ?? "").split("; full-send")[0] ?? "";
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((line) => (line[i] ?? "").length)));
  const format = (line: string[]) => line.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return [`Machine: ${machineLine(machine)}`, "", format(header), rule, ...body.map(format)].join("\n");
}

export function markdownTable(rows: Row[], machine: MachineInfo): string {
  const escape = (s: string) => s.replace(/\|/g, "\\|");
  const lines = [
    `Machine: ${machineLine(machine)}`,
    "",
    "| area | metric | target | measured (service) | floor | ratio to floor | result |",
    "|---|---|---|---|---|---|---|",
    ...rows.map((r) => `| ${[r.group, r.metric, r.target, r.measured, r.floor ?? "", ratioText(r), verdict(r)].map(escape).join(" | ")} |`),
    "",
    "Load is closed-loop (each of c workers waits for its answer before sending the next request) from a separate process over keep-alive connections; latencies are per request, write to last byte. Ratios compare throughput with the floor measured in the same run, cell next to cell (cluster rows: with the solo SQLite instance).",
  ];
  return lines.join("\n");
}
