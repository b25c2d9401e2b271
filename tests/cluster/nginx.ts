// nginx in front of the cluster's instances, from the SHIPPED
// deploy/nginx.conf. The rendering changes only what differs between
// production and a test on loopback: the instances' addresses (the
// `server appN:5000` lines between the BEGIN/END instances markers), the
// listen address, and where logs, the pid and request temp files go (inside
// the test's folder, so it runs without root and without /var/lib/nginx).
// Everything that decides behaviour (affinity, headers, timeouts, limits)
// is the shipped file's own; a change that moves the markers or the listen
// line fails here loudly instead of testing something else.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
export const SHIPPED_NGINX_CONF = path.resolve(import.meta.dirname, "..", "..", "deploy", "nginx.conf");

const BEGIN = /^\s*# ---- BEGIN instances\b.*$/m;
const END = /^\s*# ---- END instances\b.*$/m;
const SERVER_LINE = /^([ \t]*)server[ \t]+app\d+:\d+([ \t][^;\n]*)?;[ \t]*$/gm;
const LISTEN_LINE = /^([ \t]*)listen[ \t]+80;[ \t]*$/m;

/** deploy/nginx.conf with `instances` (host:port) as the upstream servers, listening on 127.0.0.1:`port`. */
export function renderNginxConf(shipped: string, instances: string[], port: number, dir: string): string {
  const begin = BEGIN.exec(shipped);
  const end = END.exec(shipped);
  if (!begin || !end || end.index < begin.index) throw new Error("deploy/nginx.conf: the '# ---- BEGIN instances' / '# ---- END instances' markers are missing");
  const head = shipped.slice(0, begin.index);
  const tail = shipped.slice(end.index);
  let upstreams = 0;
  // In each upstream block, the first server line becomes the test's instances and the others go.
  const block = shipped.slice(begin.index, end.index).replace(/upstream\s+\w+\s*\{[^}]*\}/g, (upstream) => {
    let first = true;
    const rewritten = upstream.replace(SERVER_LINE, (_line: string, indent: string, params: string | undefined) => {
      if (!first) return "";
      first = false;
      return instances.map((address) => `${indent}server ${address}${params ?? ""};`).join("\n");
    });
    if (!first) upstreams += 1;
    return rewritten;
  });
  if (upstreams < 2) throw new Error(`deploy/nginx.conf: expected the server lines of two upstream blocks between the markers, found ${upstreams}`);
  if (!LISTEN_LINE.test(tail)) throw new Error("deploy/nginx.conf: no `listen 80;` line after the instances block");
  const withListen = tail.replace(LISTEN_LINE, (_line, indent: string) => `${indent}listen 127.0.0.1:${port};`);
  const paths = [
    `access_log ${path.join(dir, "access.log")};`,
    ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((kind) => `${kind}_temp_path ${path.join(dir, "temp", kind)};`),
  ].map((line) => `\t${line}\n`);
  const http = /^http\s*\{\s*$/m;
  if (!http.test(head)) throw new Error("deploy/nginx.conf: no `http {` line before the instances block");
  return head.replace(http, (line) => `${line}\n${paths.join("")}`) + block + withListen;
}

export interface Nginx {
  url: string;
  conf: string;
  /** the error log so far (for a failing test's message) */
  errors(): string;
  stop(): Promise<void>;
}

const inCi = () => Boolean(process.env.CI) && process.env.CI !== "false" && process.env.CI !== "0";

/**
 * The nginx binary, or null (outside CI only) when nginx is not installed:
 * like the engine tests (tests/engines/engines.ts), a cluster test can never
 * pass in CI by not running, and is skipped with a line saying why elsewhere.
 */
export function findNginx(): string | null {
  const found = spawnSync("sh", ["-c", "command -v nginx || ls /usr/sbin/nginx 2>/dev/null"], { encoding: "utf8" }).stdout.trim().split("\n")[0];
  if (found) return found;
  const how = "install Debian's nginx (apt-get install nginx; .ci/run does)";
  if (inCi()) throw new Error(`nginx is not installed, so the cluster tests cannot run; in CI they must: ${how}`);
  console.warn(`[cluster] nginx is not installed: skipping the cluster tests; ${how}`);
  return null;
}

function nginxBinary(): string {
  const found = findNginx();
  if (!found) throw new Error("nginx is not installed");
  return found;
}

export async function startNginx(dir: string, instances: string[], port: number): Promise<Nginx> {
  mkdirSync(path.join(dir, "temp"), { recursive: true });
  const conf = path.join(dir, "nginx.conf");
  writeFileSync(conf, renderNginxConf(readFileSync(SHIPPED_NGINX_CONF, "utf8"), instances, port, dir));
  const errorLog = path.join(dir, "error.log");
  // As root, nginx's workers would switch to "nobody", who cannot write the
  // test's temp folder; the shipped file sets no user, so the test names one.
  const user = process.getuid?.() === 0 ? "user root; " : "";
  const globals = `daemon off; pid ${path.join(dir, "nginx.pid")}; error_log ${errorLog} warn; ${user}`;
  const binary = nginxBinary();
  const test = spawnSync(binary, ["-t", "-q", "-p", dir, "-e", errorLog, "-c", conf, "-g", globals], { encoding: "utf8" });
  if (test.status !== 0) throw new Error(`nginx -t refused the rendered deploy/nginx.conf:\n${test.stderr}`);
  const child: ChildProcess = spawn(binary, ["-p", dir, "-e", errorLog, "-c", conf, "-g", globals], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const errors = () => {
    let log = "";
    try {
      log = readFileSync(errorLog, "utf8");
    } catch {
      // not written yet
    }
    return stderr + log;
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}:\n${errors()}`);
    // Any HTTP answer means nginx listens (an instance may still be starting).
    const listening = await fetch(`${url}/metrics`).then(
      (res) => res.status === 404,
      () => false,
    );
    if (listening) break;
    if (Date.now() > deadline) throw new Error(`nginx did not listen on ${url} within 10 s:\n${errors()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    conf,
    errors,
    async stop() {
      if (child.exitCode === null) child.kill("SIGQUIT");
      await exited;
    },
  };
}
