// Socket.IO on the service's one HTTP server (SPEC §3, §7): apps join a
// user's chat and receive its `new_message`, `message_updated`,
// `message_deleted` and `read` events, and report what the user has read
// (`mark_read`). Rooms are per user id.
import type { Server as HttpServer } from "node:http";
import { Server, type ServerOptions, type Socket } from "socket.io";
import { isAppError } from "../errors.js";
import type { RequestLimiter } from "../http/rate-limit.js";
import type { UserIdentity } from "../http/user-identity.js";
import type { Logger } from "../logger.js";
import type { ReadState, RealtimePort } from "../ports.js";
import { toWire, type ChatMessage, type ChatMessageWire } from "../support/types.js";
import { parseMarkRead, type MarkRead } from "../support/read-input.js";
import { parseUserId } from "../support/validation.js";

export interface ServerToClientEvents {
  joined: (payload: { user_id: string }) => void;
  left: (payload: { user_id: string }) => void;
  new_message: (payload: ChatMessageWire) => void;
  message_updated: (payload: ChatMessageWire) => void;
  message_deleted: (payload: { id: number; user_id: string }) => void;
  read: (payload: ReadWire) => void;
  error: (payload: { message: string }) => void;
}

export interface ReadWire {
  user_id: string;
  up_to_id: number;
  unread: number;
}

/** The answer to a mark_read, through the client's acknowledgement callback when it passes one. */
export type MarkReadAck = (answer: { success: true; unread: number } | { success: false; error: string }) => void;

export interface ClientToServerEvents {
  join_chat: (payload: unknown) => void;
  leave_chat: (payload: unknown) => void;
  mark_read: (payload: unknown, ack?: MarkReadAck) => void;
}

/** What the hub needs from the read-state rules; the service emits `read` itself, through emitRead. */
export interface ReadMarker {
  markRead(input: MarkRead): Promise<ReadState>;
}

export type RealtimeServer = Server<ClientToServerEvents, ServerToClientEvents>;

export interface RealtimeHubOptions {
  httpServer: HttpServer;
  logger: Logger;
  /** when set, the handshake must carry it (auth.token or ?api_key=) */
  authorize?: (credential: string | undefined) => boolean;
  /** join_chat's user_hash check (USER_HASH_SECRET); none: user ids are taken on trust */
  identity?: UserIdentity;
  /** join_chat's limits per client address and per connection */
  limiter?: RequestLimiter;
  /**
   * Where rooms live across instances: in cluster mode (SPEC §8) the Redis
   * streams adapter, `createAdapter(redis)` from
   * @socket.io/redis-streams-adapter, so an emit on one instance reaches the
   * user's sockets on every instance. None: this process's memory (solo).
   */
  adapter?: ServerOptions["adapter"];
}

const toReadWire = (state: ReadState): ReadWire => ({ user_id: state.userId, up_to_id: state.upToId, unread: state.unread });

const roomOf = (userId: string) => `user:${userId}`;

/** The user_hash an event payload carries (SPEC §2: `{user_id, user_hash}`), if any. */
function userHashOf(payload: unknown): string | undefined {
  const hash = typeof payload === "object" && payload !== null ? (payload as Record<string, unknown>).user_hash : undefined;
  return typeof hash === "string" ? hash : undefined;
}

export class RealtimeHub implements RealtimePort {
  readonly io: RealtimeServer;
  private readMarker: ReadMarker | null = null;

  private readonly identity: UserIdentity | undefined;
  private readonly limiter: RequestLimiter | undefined;

  constructor({ httpServer, logger, authorize, identity, limiter, adapter }: RealtimeHubOptions) {
    this.identity = identity;
    this.limiter = limiter;
    this.io = new Server<ClientToServerEvents, ServerToClientEvents>(httpServer, {
      // The mobile app is not a browser page of ours; any origin may connect,
      // API_KEY (when set) is what guards the socket.
      cors: { origin: true },
      serveClient: false,
      // Other upgrades (Next's dev HMR socket) belong to other handlers.
      destroyUpgrade: false,
      maxHttpBufferSize: 64 * 1024,
      ...(adapter ? { adapter } : {}),
    });
    if (authorize) {
      this.io.use((socket, next) => {
        const auth = socket.handshake.auth as Record<string, unknown> | undefined;
        const fromAuth = typeof auth?.token === "string" ? auth.token : undefined;
        const fromQuery = typeof socket.handshake.query.api_key === "string" ? socket.handshake.query.api_key : undefined;
        if (authorize(fromAuth ?? fromQuery)) next();
        else next(new Error("unauthorized: pass the API key as auth.token or ?api_key="));
      });
    }
    this.io.on("connection", (socket) => this.onConnection(socket, logger));
  }

  emitToUser(message: ChatMessage): void {
    this.io.to(roomOf(message.userId)).emit("new_message", toWire(message));
  }

  /**
   * How many sockets are in the user's room (on every instance: fetchSockets
   * asks the adapter). Asked right after an emit, it says whether a device
   * got the message live.
   */
  async socketsOf(userId: string): Promise<number> {
    return (await this.io.in(roomOf(userId)).fetchSockets()).length;
  }

  emitUpdated(message: ChatMessage): void {
    this.io.to(roomOf(message.userId)).emit("message_updated", toWire(message));
  }

  emitDeleted(userId: string, messageId: number): void {
    this.io.to(roomOf(userId)).emit("message_deleted", { id: messageId, user_id: userId });
  }

  emitRead(state: ReadState): void {
    this.io.to(roomOf(state.userId)).emit("read", toReadWire(state));
  }

  /** The hub is built before the services (they emit through it); mark_read is answered once this is set. */
  useReadMarker(marker: ReadMarker): void {
    this.readMarker = marker;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      void this.io.close(() => resolve());
    });
  }

  private onConnection(socket: Socket<ClientToServerEvents, ServerToClientEvents>, logger: Logger): void {
    const handle = async (event: "join_chat" | "leave_chat", payload: unknown) => {
      const fields = typeof payload === "object" && payload !== null ? (payload as Record<string, unknown>) : {};
      if (event === "join_chat") {
        // Every attempt counts, bad ones too: walking through user ids (or
        // guessing hashes) is what these limits stop.
        await this.limiter?.admitIp("join", socket.request);
        await this.limiter?.admitSocket("join", socket.id);
      }
      const parsed = parseUserId(fields.user_id);
      if (!parsed.ok) {
        socket.emit("error", { message: `${event}: ${parsed.error}` });
        return;
      }
      if (event === "join_chat") {
        this.identity?.verify(parsed.value, userHashOf(payload));
        await socket.join(roomOf(parsed.value));
        socket.emit("joined", { user_id: parsed.value });
      } else {
        await socket.leave(roomOf(parsed.value));
        socket.emit("left", { user_id: parsed.value });
      }
    };
    // One event at a time per socket, so a leave sent right after a join is
    // never overtaken by it while the join waits for its limit.
    let queue = Promise.resolve();
    const enqueue = (event: "join_chat" | "leave_chat", payload: unknown) => {
      queue = queue.then(() =>
        handle(event, payload).catch((error: unknown) => {
          if (!isAppError(error)) logger.error({ err: error, event }, "socket event failed");
          const retry = isAppError(error) && error.details.retryAfterSeconds !== undefined ? ` (retry in ${Math.ceil(error.details.retryAfterSeconds)} s)` : "";
          socket.emit("error", { message: `${event}: ${isAppError(error) ? error.message : "internal error"}${retry}` });
        }),
      );
    };
    socket.on("join_chat", (payload) => enqueue("join_chat", payload));
    socket.on("leave_chat", (payload) => enqueue("leave_chat", payload));
    socket.on("mark_read", async (payload, ack) => {
      const answer = typeof ack === "function" ? ack : undefined;
      const fail = (message: string) => {
        socket.emit("error", { message: `mark_read: ${message}` });
        answer?.({ success: false, error: message });
      };
      const input = parseMarkRead(payload);
      if (!input.ok) return fail(input.error);
      let state: ReadState;
      try {
        this.identity?.verify(input.value.userId, userHashOf(payload));
      } catch (error) {
        return fail(isAppError(error) ? error.message : "user_hash is not valid");
      }
      try {
        if (!this.readMarker) throw new Error("no read marker is wired into the realtime hub");
        state = await this.readMarker.markRead(input.value);
      } catch (error) {
        logger.error({ err: error }, "mark_read failed");
        return fail("could not save the read state; try again");
      }
      // The service told the user's room; a socket that never joined it learns the outcome too.
      if (!socket.rooms.has(roomOf(state.userId))) socket.emit("read", toReadWire(state));
      answer?.({ success: true, unread: state.unread });
    });
    socket.on("error", (error) => logger.debug({ err: error }, "socket error"));
  }
}
