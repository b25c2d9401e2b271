// deploy/nginx.conf as the cluster tests render it (tests/cluster/nginx.ts):
// only the instances, the listen address and the paths change; and its body
// limit lets through every form the service itself accepts. What the file
// does with real traffic is tests/cluster's job.
import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { MAX_PHOTOS } from "../../server/http/multipart.js";
import { MAX_PHOTO_BYTES } from "../../server/storage/uploads.js";
import { renderNginxConf, SHIPPED_NGINX_CONF } from "../cluster/nginx.js";

const shipped = readFileSync(SHIPPED_NGINX_CONF, "utf8");
const upstream = (conf: string, name: string) => new RegExp(`upstream ${name} \\{([^}]*)\\}`).exec(conf)?.[1] ?? "";

test("rendering replaces the server lines of both upstreams, the listen port and the paths, and nothing else", () => {
  const conf = renderNginxConf(shipped, ["127.0.0.1:4001", "127.0.0.1:4002", "127.0.0.1:4003"], 8123, "/tmp/lb");
  for (const name of ["support_app", "support_socket"]) {
    const servers = upstream(conf, name).match(/^\s*server .*$/gm)?.map((line) => line.trim());
    expect(servers).toEqual(["127.0.0.1:4001", "127.0.0.1:4002", "127.0.0.1:4003"].map((a) => `server ${a} max_fails=3 fail_timeout=10s;`));
  }
  expect(conf).not.toMatch(/app\d:5000/);
  expect(conf).toMatch(/^\s*listen 127\.0\.0\.1:8123;$/m);
  expect(conf).not.toMatch(/listen 80;/);
  expect(conf).toContain("client_body_temp_path /tmp/lb/temp/client_body;");
  // Every other line of the shipped file is still there, in order.
  const kept = (text: string) => text.split("\n").filter((line) => !/^\s*(server app\d|listen )/.test(line) && line.trim() !== "");
  const rendered = kept(conf);
  let at = 0;
  for (const line of kept(shipped)) {
    at = rendered.indexOf(line, at);
    expect(at, `line missing after rendering: ${line}`).toBeGreaterThanOrEqual(0);
  }
});

test("a shipped file without the instance markers is refused, not half-rendered", () => {
  expect(() => renderNginxConf(shipped.replace(/# ---- BEGIN instances.*/, ""), ["127.0.0.1:1"], 1, "/tmp/x")).toThrow(/markers/);
  expect(() => renderNginxConf(shipped.replace(/listen 80;/, "listen 8080;"), ["127.0.0.1:1"], 1, "/tmp/x")).toThrow(/listen 80/);
});

test("Socket.IO goes to an upstream with client affinity; the rest to one without", () => {
  expect(upstream(shipped, "support_socket")).toMatch(/^\s*(hash \$remote_addr consistent|ip_hash);/m);
  expect(upstream(shipped, "support_app")).not.toMatch(/hash/);
  expect(shipped).toMatch(/location \/socket\.io\/ \{[^}]*proxy_pass http:\/\/support_socket;/);
});

test("the body limit lets through the largest form the service accepts", () => {
  const value = /client_max_body_size (\d+)([km]?);/.exec(shipped);
  expect(value).not.toBeNull();
  const unit = { "": 1, k: 1024, m: 1024 * 1024 }[(value?.[2] ?? "") as "" | "k" | "m"];
  expect(Number(value?.[1]) * unit).toBeGreaterThan(MAX_PHOTOS * MAX_PHOTO_BYTES);
});

test("the cluster compose file mounts this config", () => {
  expect(readFileSync(SHIPPED_NGINX_CONF.replace(/nginx\.conf$/, "compose.cluster.yaml"), "utf8")).toContain("./nginx.conf:/etc/nginx/nginx.conf:ro");
});
