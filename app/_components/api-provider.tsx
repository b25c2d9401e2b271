"use client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import type { Credentials } from "../_lib/credentials";
import { errorCode, makeTrpcClient, primeNotes, TRPCProvider } from "../_lib/trpc";

/** Answers that another try cannot change. */
const FINAL = new Set(["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "BAD_REQUEST"]);

function makeQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 30_000,
        // A webview gains and loses focus constantly (popups, keyboard): no refetch storms.
        refetchOnWindowFocus: false,
        retry: (count, error) => count < 2 && !FINAL.has(errorCode(error) ?? ""),
      },
      // Creating a note is not idempotent: never resend on our own.
      mutations: { retry: false },
    },
  });
}

export function ApiProvider({ credentials, children }: { credentials: Credentials; children: ReactNode }) {
  const [{ queryClient, trpcClient }] = useState(() => {
    const clients = { queryClient: makeQueryClient(), trpcClient: makeTrpcClient(credentials) };
    // Once the first screen has its notes, get the token that stands in when initData expires.
    void primeNotes(clients.queryClient, clients.trpcClient, credentials).then(() => credentials.ensureToken());
    return clients;
  });
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  );
}
