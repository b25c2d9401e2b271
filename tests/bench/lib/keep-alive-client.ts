// A minimal HTTP/1.1 keep-alive client over one TCP socket, one request in
// flight at a time. Node's own http.Agent costs tens of microseconds per
// request on the client side; on a 2-core machine that overhead would cap
// the floor server first and squeeze every ratio towards 1. Both servers
// under test answer with Content-Length, which is all this parser reads.
import { connect, type Socket } from "node:net";

export interface RawResponse {
  status: number;
  body: Buffer;
}

const HEADER_END = Buffer.from("\r\n\r\n");

export class KeepAliveConnection {
  private socket: Socket | null = null;
  private buffer: Buffer = Buffer.alloc(0);
  private pending: { resolve: (r: RawResponse) => void; reject: (e: Error) => void } | null = null;
  private closeAfter = false;

  constructor(
    readonly host: string,
    readonly port: number,
  ) {}

  async request(bytes: Buffer, timeoutMs = 15_000): Promise<RawResponse> {
    if (!this.socket) await this.open();
    const socket = this.socket as Socket;
    return new Promise<RawResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = null;
        this.destroy();
        reject(new Error(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending = {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      socket.write(bytes);
    });
  }

  destroy(): void {
    this.socket?.destroy();
    this.socket = null;
    this.buffer = Buffer.alloc(0);
  }

  private open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.host, port: this.port });
      socket.setNoDelay(true);
      socket.once("connect", () => {
        socket.off("error", reject);
        this.socket = socket;
        this.buffer = Buffer.alloc(0);
        this.closeAfter = false;
        resolve();
      });
      socket.once("error", reject);
      socket.on("data", (chunk: Buffer) => this.onData(chunk));
      // The server may close an idle keep-alive socket between cells: the
      // next request simply reconnects.
      socket.on("close", () => {
        if (this.socket === socket) this.socket = null;
        const pending = this.pending;
        this.pending = null;
        pending?.reject(new Error("connection closed before the answer"));
      });
      socket.on("error", () => undefined);
    });
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const end = this.buffer.indexOf(HEADER_END);
    if (end === -1) return;
    const head = this.buffer.toString("latin1", 0, end);
    const status = Number(head.slice(9, 12));
    const lengthMatch = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!lengthMatch) {
      this.fail(new Error(`answer without Content-Length (status ${status})`));
      return;
    }
    const length = Number(lengthMatch[1]);
    const total = end + 4 + length;
    if (this.buffer.length < total) return;
    const body = this.buffer.subarray(end + 4, total);
    this.closeAfter = /\r\nconnection:\s*close/i.test(head);
    this.buffer = this.buffer.length > total ? this.buffer.subarray(total) : Buffer.alloc(0);
    const pending = this.pending;
    this.pending = null;
    if (this.closeAfter) this.destroy();
    pending?.resolve({ status, body });
  }

  private fail(error: Error): void {
    const pending = this.pending;
    this.pending = null;
    this.destroy();
    pending?.reject(error);
  }
}

export interface RequestSpec {
  method: "GET" | "POST";
  path: string;
  body?: string;
  headers?: Record<string, string>;
}

export function encodeRequest(host: string, port: number, spec: RequestSpec): Buffer {
  const body = spec.body === undefined ? null : Buffer.from(spec.body, "utf8");
  let head = `${spec.method} ${spec.path} HTTP/1.1\r\nHost: ${host}:${port}\r\n`;
  for (const [name, value] of Object.entries(spec.headers ?? {})) head += `${name}: ${value}\r\n`;
  if (body) head += `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n`;
  head += "\r\n";
  return body ? Buffer.concat([Buffer.from(head, "latin1"), body]) : Buffer.from(head, "latin1");
}
