// Typed tRPC client for the Mini App. Only the router's TYPE crosses over
// from the server; on the wire it is plain JSON (no transformer) to
// /api/trpc, batched so the first screen costs one request.
import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client";
import type { QueryClient } from "@tanstack/react-query";
import { createTRPCContext, createTRPCOptionsProxy } from "@trpc/tanstack-react-query";
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/api/root";
import { takePrefetchedNotes } from "./boot-data";

export type Outputs = inferRouterOutputs<AppRouter>;
export type Note = Outputs["notes"]["list"][number];
export type ApiUser = Outputs["session"]["me"]["user"];

export const { TRPCProvider, useTRPC } = createTRPCContext<AppRouter>();

/** How this page proves who it is: Telegram's signed initData, or the /start session token. */
export type Credentials = { kind: "initData"; initData: string } | { kind: "session"; token: string };

export function authHeaders(credentials: Credentials): Record<string, string> {
  return credentials.kind === "initData" ? { Authorization: `tma ${credentials.initData}` } : { "X-Session-Token": credentials.token };
}

export type TrpcClient = ReturnType<typeof makeTrpcClient>;

export function makeTrpcClient(credentials: Credentials) {
  return createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url: "/api/trpc", headers: () => authHeaders(credentials) })],
  });
}

/**
 * Seeds the notes query with the request the boot script already started
 * (made with these same credentials); falls back to the ordinary call.
 */
export function primeNotes(queryClient: QueryClient, client: TrpcClient, credentials: Credentials): void {
  const [name, value] = Object.entries(authHeaders(credentials))[0] ?? [];
  const options = createTRPCOptionsProxy<AppRouter>({ client, queryClient }).notes.list.queryOptions();
  void queryClient.prefetchQuery({
    ...options,
    queryFn: async () => (await takePrefetchedNotes(`${name}: ${value}`)) ?? client.notes.list.query(),
  });
}

/** tRPC error code of a failed call, e.g. "UNAUTHORIZED"; undefined for network failures. */
export function errorCode(error: unknown): string | undefined {
  if (!(error instanceof TRPCClientError)) return undefined;
  const data: unknown = error.data;
  if (typeof data === "object" && data !== null && "code" in data && typeof data.code === "string") return data.code;
  return undefined;
}
