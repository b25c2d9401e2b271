// Socket.IO on the service's one HTTP server (SPEC §3): apps join a user's
// chat and receive its `new_message` events. Rooms are per user id.
import type { Server as HttpServer } from "node:http";
import { Server, type Socket } from "socket.io";
import type { Logger } from "../logger.js";
import type { RealtimePort } from "../ports.js";
import { toWire, type ChatMessage, type ChatMessageWire } from "../support/types.js";
import { parseUserId } from "../support/validation.js";

export interface ServerToClientEvents {
  joined: (payload: { user_id: string }) => void;
  left: (payload: { user_id: string }) => void;
  new_message: (payload: ChatMessageWire) => void;
  error: (payload: { message: string }) => void;
}

export interface ClientToServerEvents {
  join_chat: (payload: unknown) => void;
  leave_chat: (payload: unknown) => void;
}

export type RealtimeServer = Server<ClientToServerEvents, ServerToClientEvents>;

export interface RealtimeHubOptions {
  httpServer: HttpServer;
  logger: Logger;
  /** when set, the handshake must carry it (auth.token or ?api_key=) */
  authorize?: (credential: string | undefined) => boolean;
}

const roomOf = (userId: string) => `user:${userId}`;

export class RealtimeHub implements RealtimePort {
  readonly io: RealtimeServer;

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
    socket.on("error", (error) => logger.debug({ err: error }, "socket error"));
  }
}
