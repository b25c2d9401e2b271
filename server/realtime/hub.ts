// Socket.IO on the service's one HTTP server (SPEC §3, §7): apps join a
// user's chat and receive its `new_message`, `message_updated`,
// `message_deleted` and `read` events, and report what the user has read
// (`mark_read`). Rooms are per user id.
import type { Server as HttpServer } from "node:http";
import { Server, type Socket } from "socket.io";
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
  markRead(input: MarkRead): ReadState;
}

export type RealtimeServer = Server<ClientToServerEvents, ServerToClientEvents>;

export interface RealtimeHubOptions {
  httpServer: HttpServer;
  logger: Logger;
  /** when set, the handshake must carry it (auth.token or ?api_key=) */
  authorize?: (credential: string | undefined) => boolean;
}

const toReadWire = (state: ReadState): ReadWire => ({ user_id: state.userId, up_to_id: state.upToId, unread: state.unread });

const roomOf = (userId: string) => `user:${userId}`;

export class RealtimeHub implements RealtimePort {
  readonly io: RealtimeServer;
  private readMarker: ReadMarker | null = null;

  constructor({ httpServer, logger, authorize }: RealtimeHubOptions) {
    this.io = new Server<ClientToServerEvents, ServerToClientEvents>(httpServer, {
      // The mobile app is not a browser page of ours; any origin may connect,
      // API_KEY (when set) is what guards the socket.
      cors: { origin: true },
      serveClient: false,
      // Other upgrades (Next's dev HMR socket) belong to other handlers.
      destroyUpgrade: false,
      maxHttpBufferSize: 64 * 1024,
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
      this.io.close(() => resolve());
    });
  }

  private onConnection(socket: Socket<ClientToServerEvents, ServerToClientEvents>, logger: Logger): void {
    const handle = (event: "join_chat" | "leave_chat", payload: unknown) => {
      const raw = typeof payload === "object" && payload !== null ? (payload as Record<string, unknown>).user_id : undefined;
      const parsed = parseUserId(raw);
      if (!parsed.ok) {
        socket.emit("error", { message: `${event}: ${parsed.error}` });
        return;
      }
      if (event === "join_chat") {
        void socket.join(roomOf(parsed.value));
        socket.emit("joined", { user_id: parsed.value });
      } else {
        void socket.leave(roomOf(parsed.value));
        socket.emit("left", { user_id: parsed.value });
      }
    };
    socket.on("join_chat", (payload) => handle("join_chat", payload));
    socket.on("leave_chat", (payload) => handle("leave_chat", payload));
    socket.on("mark_read", (payload, ack) => {
      const answer = typeof ack === "function" ? ack : undefined;
      const fail = (message: string) => {
        socket.emit("error", { message: `mark_read: ${message}` });
        answer?.({ success: false, error: message });
      };
      const input = parseMarkRead(payload);
      if (!input.ok) return fail(input.error);
      let state: ReadState;
      try {
        if (!this.readMarker) throw new Error("no read marker is wired into the realtime hub");
        state = this.readMarker.markRead(input.value);
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
