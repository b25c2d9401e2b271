// FCM_SERVICE_ACCOUNT_PATH as the operator meets it: every bad file stops
// start-up with one line that names the variable (SPEC §1).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../server/config/env.js";
import { createLogger } from "../../server/logger.js";
import { createPush } from "../../server/push/fcm-push.js";
import { writeFakeServiceAccount } from "../fixtures/fcm-stand-in.js";

const dir = mkdtempSync(path.join(tmpdir(), "push-config-"));
const account = writeFakeServiceAccount({ dir, projectId: "config-test-project" });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

function configError(env: Record<string, string>, cwd = dir): ConfigError {
  try {
    parseConfig(env, cwd);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("parseConfig accepted the configuration");
}

describe("FCM_SERVICE_ACCOUNT_PATH", () => {
  it("turns push off when unset or blank", () => {
    expect(parseConfig({}, dir).fcmServiceAccount).toBeUndefined();
    expect(parseConfig({ FCM_SERVICE_ACCOUNT_PATH: "  " }, dir).fcmServiceAccount).toBeUndefined();
  });

  it("reads a service account key, relative to the working directory", () => {
    const config = parseConfig({ FCM_SERVICE_ACCOUNT_PATH: path.basename(account.path) }, dir);
    expect(config.fcmServiceAccount).toMatchObject({
      projectId: "config-test-project",
      clientEmail: account.clientEmail,
      privateKey: account.privateKey,
    });
    expect(config.fcmServiceAccountPath).toBe(path.basename(account.path));
  });

  it("rejects a file that cannot be read", () => {
    const missing = configError({ FCM_SERVICE_ACCOUNT_PATH: "./nope/firebase.json" });
    expect(missing.variable).toBe("FCM_SERVICE_ACCOUNT_PATH");
    expect(missing.message).toMatch(/^FCM_SERVICE_ACCOUNT_PATH: cannot read .*nope\/firebase\.json \(ENOENT\)$/);

    const folder = configError({ FCM_SERVICE_ACCOUNT_PATH: dir });
    expect(folder.message).toMatch(/^FCM_SERVICE_ACCOUNT_PATH: cannot read .*\(EISDIR\)$/);
  });

  it("rejects a file that is not JSON", () => {
    const error = configError({ FCM_SERVICE_ACCOUNT_PATH: write("not-json.json", "project_id = nope\n") });
    expect(error.variable).toBe("FCM_SERVICE_ACCOUNT_PATH");
    expect(error.message).toMatch(/^FCM_SERVICE_ACCOUNT_PATH: .*not-json\.json is not JSON/);
  });

  it("rejects JSON that is not a service account key, without echoing the key", () => {
    for (const content of [
      { type: "authorized_user", client_id: "x", refresh_token: "y" },
      { project_id: "p", client_email: "e@p.iam.gserviceaccount.com" },
      { project_id: "p", private_key: account.privateKey },
      [1, 2, 3],
    ]) {
      const error = configError({ FCM_SERVICE_ACCOUNT_PATH: write("other.json", JSON.stringify(content)) });
      expect(error.variable).toBe("FCM_SERVICE_ACCOUNT_PATH");
      expect(error.message).toMatch(/^FCM_SERVICE_ACCOUNT_PATH: .*other\.json is not a Firebase service account key/);
      expect(error.message).not.toContain("PRIVATE KEY");
      expect(error.message.split("\n")).toHaveLength(1);
    }
  });

  it("stops createPush with a ConfigError when the private key does not parse", () => {
    // env.ts only checks that private_key mentions "PRIVATE KEY"; cert() parses it.
    const broken = write(
      "broken-key.json",
      JSON.stringify({ project_id: "p", client_email: "e@p.iam.gserviceaccount.com", private_key: "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n" }),
    );
    const config = parseConfig({ FCM_SERVICE_ACCOUNT_PATH: broken }, dir);
    const logger = createLogger({ level: "silent", secrets: [] });
    let thrown: unknown;
    try {
      createPush({ config, logger });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).variable).toBe("FCM_SERVICE_ACCOUNT_PATH");
    expect((thrown as ConfigError).message).toMatch(/^FCM_SERVICE_ACCOUNT_PATH: .*broken-key\.json has a private_key that is not a valid PEM private key$/);
  });
});
