// What README.md and .env.example tell an operator about the rate limits
// and USER_HASH_SECRET is what the service does: the documented defaults
// are the defaults, and the documented ways to compute user_hash give the
// hash the service accepts.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseEnv } from "node:util";
import { describe, expect, test } from "vitest";
import { parseConfig } from "../../server/config/env.js";
import { RATE_LIMIT_VARIABLES } from "../../server/config/rate-limits.js";
import { createUserIdentity } from "../../server/http/user-identity.js";

const root = path.resolve(import.meta.dirname, "..", "..");
const readme = readFileSync(path.join(root, "README.md"), "utf8");
const envExample = parseEnv(readFileSync(path.join(root, ".env.example"), "utf8"));
const defaults = parseConfig({}, root).rateLimits;

describe("rate limit defaults", () => {
  test.each(RATE_LIMIT_VARIABLES.map((v) => v.name))("%s: README's and .env.example's default is the real one", (name) => {
    const row = new RegExp(`^\\| \`${name}\` \\| \`([^\`]+)\` \\|`, "m").exec(readme);
    expect(row, `README has no table row for ${name}`).not.toBeNull();
    const documented = row?.[1] ?? "";
    expect(parseConfig({ [name]: documented }, root).rateLimits).toEqual(defaults);
    expect(envExample[name]).toBe(documented);
  });

  test("RATE_LIMITS is documented, and .env.example's value changes nothing", () => {
    expect(readme).toMatch(/^\| `RATE_LIMITS` \| `on` \|/m);
    expect(parseConfig({ RATE_LIMITS: envExample.RATE_LIMITS }, root).rateLimits).toEqual(defaults);
  });
});

describe("computing user_hash as the README says", () => {
  const secret = "readme-secret-0123456789abcdef";
  const userId = "user 42/ü";
  const block = /```bash\n# Node\n([^\n]+)\n# shell\n([^\n]+)\n```/.exec(readme);
  const identity = createUserIdentity(secret);
  const run = (line: string) => execFileSync("bash", ["-c", line], { env: { ...process.env, USER_ID: userId, USER_HASH_SECRET: secret }, encoding: "utf8" }).trim();

  test("the README has both lines", () => {
    expect(block).not.toBeNull();
  });

  test.each([
    ["Node", 1],
    ["shell (openssl)", 2],
  ])("the %s line prints a hash the service accepts", (_name, index) => {
    const hash = run(block?.[index] ?? "false");
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(() => identity.verify(userId, hash)).not.toThrow();
    expect(() => identity.verify(`${userId}x`, hash)).toThrow(/does not match/);
  });
});
