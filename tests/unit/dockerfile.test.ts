// The Dockerfile cannot be built here (no Docker engine) and no hadolint
// runs offline (npm's "hadolint" only wraps the Docker image, and Debian
// has no package), so this check reads the file as Docker does (line
// continuations, instructions, stages) and holds it to what the image
// promises: built inside, run as a non-root user, data on a volume, a
// health check, and never `npm start` (which would build on the host).
// What the image runs is tested outside Docker by tests/ops/image-runtime.sh.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "..", "..");

interface Instruction {
  keyword: string;
  args: string;
}

function parseDockerfile(text: string): Instruction[] {
  const joined = text.replace(/\\\r?\n/g, " ");
  return joined
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const [keyword = "", ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(" ") };
    });
}

const instructions = parseDockerfile(readFileSync(path.join(ROOT, "Dockerfile"), "utf8"));
const stages: Instruction[][] = [];
for (const instruction of instructions) {
  if (instruction.keyword === "FROM") stages.push([]);
  stages.at(-1)?.push(instruction);
}
const runtime = stages.at(-1) ?? [];
const argsOf = (stage: Instruction[], keyword: string) => stage.filter((i) => i.keyword === keyword).map((i) => i.args);

describe("Dockerfile", () => {
  test("is multi-stage: the build runs in the image, the last stage only takes its output", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const buildStage = stages.find((stage) => argsOf(stage, "RUN").some((run) => /\bnpm run build\b/.test(run)));
    expect(buildStage, "a stage runs npm run build").toBeDefined();
    expect(argsOf(buildStage ?? [], "RUN").some((run) => /\bnpm ci\b(?!.*--omit=dev)/.test(run))).toBe(true);
    expect(stages.some((stage) => argsOf(stage, "RUN").some((run) => /\bnpm ci\b.*--omit=dev/.test(run))), "production dependencies only").toBe(true);
    expect(runtime).not.toBe(buildStage);
    expect(argsOf(runtime, "RUN").some((run) => /\bnpm (ci|install|run build)\b/.test(run)), "the runtime stage installs or builds nothing").toBe(false);
    const copies = argsOf(runtime, "COPY");
    expect(copies.some((c) => /--from=\S+\s+\/app\/build\b/.test(c))).toBe(true);
    expect(copies.some((c) => /--from=\S+\s+\/app\/\.next\b/.test(c))).toBe(true);
    expect(copies.some((c) => /--from=\S+\s+\/app\/node_modules\b/.test(c))).toBe(true);
    // No sources in the runtime image.
    expect(copies.some((c) => /^(\.|server|app)\s/.test(c))).toBe(false);
  });

  test("runs the built server as a non-root user, never npm start", () => {
    const users = argsOf(runtime, "USER");
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    const cmd = [...argsOf(runtime, "CMD"), ...argsOf(runtime, "ENTRYPOINT")].join(" ");
    expect(cmd).toContain("build/server/main.js");
    expect(cmd).not.toMatch(/npm/);
  });

  test("keeps the database and the uploads on a volume", () => {
    const env = argsOf(runtime, "ENV").join(" ");
    const volumes = argsOf(runtime, "VOLUME").join(" ");
    const volume = /"?(\/[\w/-]+)"?/.exec(volumes)?.[1];
    expect(volume).toBeDefined();
    expect(env).toMatch(new RegExp(`DATABASE_URL=file:${volume}/`));
    expect(env).toMatch(new RegExp(`UPLOAD_DIR=${volume}/`));
  });

  test("has a health check that needs no curl", () => {
    const [check] = argsOf(runtime, "HEALTHCHECK");
    expect(check).toMatch(/CMD \["node", "-e", ".*\/(ready|health)/);
  });

  test(".dockerignore keeps secrets, local data and host builds out of the context", () => {
    const ignored = readFileSync(path.join(ROOT, ".dockerignore"), "utf8").split("\n").map((l) => l.trim());
    for (const entry of [".env", "node_modules", ".next", "build", "*.db", ".git"]) expect(ignored, entry).toContain(entry);
  });
});

describe("npm ci in the image", () => {
  test("every stage that runs npm ci has copied the files the install scripts run (postinstall)", () => {
    const scripts = (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    // Local files an install-time script names, e.g. "node prisma/generate-clients.mjs".
    const needed = ["preinstall", "install", "postinstall"].flatMap((hook) => [...(scripts[hook] ?? "").matchAll(/\b(?:node|tsx|bash|sh)\s+([\w./-]+)/g)].map((m) => m[1] as string));
    expect(needed.length, "postinstall runs a local script").toBeGreaterThan(0);
    for (const stage of stages) {
      const ciAt = stage.findIndex((i) => i.keyword === "RUN" && /\bnpm ci\b/.test(i.args));
      if (ciAt === -1) continue;
      const copied = stage
        .slice(0, ciAt)
        .filter((i) => i.keyword === "COPY" && !i.args.startsWith("--from"))
        .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
      for (const file of needed) {
        expect(copied.some((source) => source === "." || file === source || file.startsWith(`${source.replace(/\/$/, "")}/`)), `${file} is copied before npm ci`).toBe(true);
      }
    }
  });
});
