// Requests Node's parser refuses get the API's JSON error shape.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, test } from "vitest";
import { answerClientError } from "../../server/http/client-error.js";
import { rawRequest } from "../fixtures/raw-http.js";

let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer((_req, res) => res.end("{}"));
  server.on("clientError", answerClientError);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test.each([
  ["a malformed request line", "NOT HTTP AT ALL\r\n\r\n", 400],
  ["a bogus Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400],
  ["headers over the limit", `GET / HTTP/1.1\r\nHost: x\r\nX-Long: ${"h".repeat(20_000)}\r\n\r\n`, 431],
])("%s is answered as JSON", async (_name, raw, status) => {
  const result = await rawRequest(port, Buffer.from(raw, "latin1"));
  expect(result.responses).toHaveLength(1);
  const res = result.responses[0];
  expect(res?.status).toBe(status);
  expect(res?.headers["content-type"]).toMatch(/^application\/json/);
  expect(JSON.parse(res?.body.toString("utf8") ?? "")).toMatchObject({ success: false, error: expect.any(String) });
});
