// Commands the bench sends to the stand-in process, and its client side.
import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import type { Update } from "grammy/types";
import type { GroupLimit } from "../../fixtures/telegram-stand-in.js";

export type StandInCommand =
  | { cmd: "setDelay"; ms: number }
  | { cmd: "setGroupLimit"; limit: GroupLimit | null }
  | { cmd: "stats"; chatId: number }
  | { cmd: "replies"; chatId: number; replyTo: number; count: number; prefix: string }
  | { cmd: "forget" };

export type StandInReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export interface StandInStats {
  tooManyRequests: number;
  groupLimited: number;
  /** arrival times (ms since epoch) of accepted sendMessage calls into the chat */
  sendOk: number[];
  sendRefused: number;
}

export class StandInProcess {
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: StandInReply) => void>();

  private constructor(
    private readonly child: ChildProcess,
    readonly apiRoot: string,
    readonly token: string,
    readonly botId: number,
  ) {
    child.on("message", (raw: unknown) => {
      const reply = raw as StandInReply;
      this.waiting.get(reply.id)?.(reply);
      this.waiting.delete(reply.id);
    });
  }

  static start(): Promise<StandInProcess> {
    const file = path.join(import.meta.dirname, "..", "stand-in-process.ts");
    const child = fork(file, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    return new Promise((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`the stand-in process exited (${code})`)));
      child.once("message", (raw: unknown) => {
        const reply = raw as StandInReply;
        if (!reply.ok) return reject(new Error(reply.error));
        const { apiRoot, token, botId } = reply.result as { apiRoot: string; token: string; botId: number };
        child.removeAllListeners("exit");
        resolve(new StandInProcess(child, apiRoot, token, botId));
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private call<T>(command: StandInCommand): Promise<T> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (reply) => (reply.ok ? resolve(reply.result as T) : reject(new Error(reply.error))));
      this.child.send({ ...command, id });
    });
  }

  setDelay(ms: number): Promise<void> {
    return this.call({ cmd: "setDelay", ms });
  }

  setGroupLimit(limit: GroupLimit | null): Promise<void> {
    return this.call({ cmd: "setGroupLimit", limit });
  }

  stats(chatId: number): Promise<StandInStats> {
    return this.call({ cmd: "stats", chatId });
  }

  /** Agent replies in the group to `replyTo`, as the Updates Telegram would deliver. */
  replies(chatId: number, replyTo: number, count: number, prefix: string): Promise<Update[]> {
    return this.call({ cmd: "replies", chatId, replyTo, count, prefix });
  }

  forget(): Promise<void> {
    return this.call({ cmd: "forget" });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null) return resolve();
      const timer = setTimeout(() => this.child.kill("SIGKILL"), 5_000);
      this.child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      this.child.disconnect();
    });
  }
}
