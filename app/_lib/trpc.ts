// Typed tRPC client for the Mini App. Only the router's TYPE crosses over
// from the server; on the wire it is plain JSON (no transformer) to
// /api/trpc, batched so the first screen costs one request.
import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client";
import type { QueryClient } from "@tanstack/react-query";
import { createTRPCContext, createTRPCOptionsProxy } from "@trpc/tanstack-react-query";
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/api/root";
import { takePrefetchedNotes } from "./boot-data";
import type { Credentials } from "./credentials";

export type Outputs = inferRouterOutputs<AppRouter>;
export type Note = Outputs["notes"]["list"][number];
export type ApiUser = Outputs["session"]["me"]["user"];

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

export type TrpcClient = ReturnType<typeof makeTrpcClient>;

/**
 * Every call carries credentials.headers(); a batch the server refuses with
 * 401 while initData was sent is sent once more with the session token
 * (credentials.ts). A batch holds only protected calls (session.start goes
 * on its own), so a refusal of the credential refuses the whole batch: 401,
 * never a mixed 207.
 */
export function makeTrpcClient(credentials: Credentials) {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: "/api/trpc",
        headers: () => credentials.headers(),
        fetch: async (url, init) => {
          const res = await fetch(url, init);
          if (res.status !== 401 || !(await credentials.fallBack())) return res;
          const headers = new Headers(init?.headers);
          headers.delete("Authorization");
          for (const [name, value] of Object.entries(credentials.headers())) headers.set(name, value);
          return fetch(url, { ...init, headers });
        },
      }),
    ],
  });
}

/**
 * Seeds the notes query with the request the boot script already started
 * (made with these same credentials); falls back to the ordinary call.
 */
export function primeNotes(queryClient: QueryClient, client: TrpcClient, credentials: Credentials): Promise<void> {
  const header = credentials.headerLine();
  const options = createTRPCOptionsProxy<AppRouter>({ client, queryClient }).notes.list.queryOptions();
  return queryClient.prefetchQuery({
    ...options,
    queryFn: async () => (await takePrefetchedNotes(header)) ?? client.notes.list.query(),
  });
}

/** tRPC error code of a failed call, e.g. "UNAUTHORIZED"; undefined for network failures. */
export function errorCode(error: unknown): string | undefined {
  if (!(error instanceof TRPCClientError)) return undefined;
  const data: unknown = error.data;
  if (typeof data === "object" && data !== null && "code" in data && typeof data.code === "string") return data.code;
  return undefined;
}
