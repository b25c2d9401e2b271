// Reads a V8 .cpuprofile (node --cpu-prof) and lists where the samples
// landed: by function (self time) and by package, so "where does the time
// go" has an answer without opening DevTools.
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  functions: { name: string; selfMs: number; share: number }[];
  packages: { name: string; selfMs: number; share: number }[];
}

function packageOf(url: string): string {
  if (url === "") return "(native / V8)";
  const nodeModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nodeModules) return nodeModules[1] as string;
  if (url.startsWith("node:")) return "node core";
  const own = /\/(build\/server|\.next)\/([^/]+)/.exec(url);
  if (own) return own[1] === ".next" ? ".next" : `server/${own[2]}`;
  return url.replace(/^file:\/\//, "");
}

export function summarizeProfile(file: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const fns = new Map<string, number>();
  const pkgs = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    total += us;
    if (functionName === "(idle)") idle += us;
    const short = url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*\/(build\/server\/|\.next\/)/, "$1");
    const name = `${functionName || "(anonymous)"} ${short ? `${short}:${lineNumber + 1}` : ""}`.trim();
    fns.set(name, (fns.get(name) ?? 0) + us);
    if (functionName !== "(idle)") pkgs.set(packageOf(url), (pkgs.get(packageOf(url)) ?? 0) + us);
  }
  const busy = total - idle;
  const list = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, selfMs: us / 1000, share: us / Math.max(1, busy) }));
  return { totalMs: total / 1000, idleMs: idle / 1000, functions: list(new Map([...fns].filter(([n]) => !n.startsWith("(idle)")))), packages: list(pkgs) };
}

export function formatProfile(name: string, s: ProfileSummary): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`.padStart(6);
  return [
    `== ${name}: ${(s.totalMs / 1000).toFixed(1)} s sampled, ${((s.totalMs - s.idleMs) / 1000).toFixed(1)} s busy`,
    "-- by package (share of busy time)",
    ...s.packages.map((p) => `${pct(p.share)}  ${p.name}`),
    "-- by function (self time)",
    ...s.functions.map((f) => `${pct(f.share)}  ${f.selfMs.toFixed(0).padStart(6)} ms  ${f.name}`),
  ].join("\n");
}
