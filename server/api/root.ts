// The Mini App API. Clients import only the type:
//   import type { AppRouter } from "@/server/api/root";
import { notesRouter } from "./routers/notes.js";
import { sessionRouter } from "./routers/session.js";
import { createCallerFactory, createTRPCRouter } from "./trpc.js";

export const appRouter = createTRPCRouter({
  session: sessionRouter,
  notes: notesRouter,
});

export type AppRouter = typeof appRouter;

/** Server-side caller, e.g. `createCaller(createContextInner({...}))` in tests. */
export const createCaller = createCallerFactory(appRouter);
