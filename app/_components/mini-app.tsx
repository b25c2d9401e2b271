"use client";
// Entry of the client app. Launch parameters exist only in the browser (in
// the URL hash Telegram opens us with), so nothing is decided on the server:
// the prerendered HTML is a skeleton and the app boots after mount.
import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { messages, pickLocale, type Locale } from "../_lib/i18n";
import { bootTelegram, readLaunchContext, type LaunchContext } from "../_lib/telegram";
import { Credentials, launchSessionToken } from "../_lib/credentials";
import { errorCode, useTRPC } from "../_lib/trpc";
import { ApiProvider } from "./api-provider";
import { ErrorState, LoadingState } from "./list-states";
import { NotesApp } from "./notes-app";
import { OutsideTelegram } from "./outside-telegram";
import { UiProvider } from "./ui-provider";

type Boot =
  | { kind: "telegram"; tg: LaunchContext; credentials: Credentials }
  | { kind: "session"; credentials: Credentials }
  | { kind: "outside"; locale: Locale };

function resolveBoot(): Boot {
  const tg = readLaunchContext();
  // The /start button carries ?session=<token>: a second credential inside
  // Telegram (credentials.ts), the only one in a plain browser.
  const token = launchSessionToken();
  if (tg) return { kind: "telegram", tg, credentials: new Credentials({ initData: tg.rawInitData, userId: tg.user?.id, token }) };
  if (token) return { kind: "session", credentials: new Credentials({ token }) };
  return { kind: "outside", locale: pickLocale(navigator.language) };
}

export function MiniApp() {
  const [boot, setBoot] = useState<Boot | null>(null);
  useEffect(() => setBoot(resolveBoot()), []);
  const tg = boot?.kind === "telegram" ? boot.tg : undefined;
  useEffect(() => (tg ? bootTelegram(tg) : undefined), [tg]);

  if (!boot) return <Shell />;
  if (boot.kind === "outside") return <OutsideTelegram locale={boot.locale} />;
  const user = boot.kind === "telegram" ? boot.tg.user : undefined;
  return (
    <ApiProvider credentials={boot.credentials}>
      {boot.kind === "telegram" ? (
        <UiProvider locale={pickLocale(user?.languageCode)} tg={boot.tg}>
          <NotesApp userId={user?.id} userName={user?.firstName} />
        </UiProvider>
      ) : (
        <SessionGate />
      )}
    </ApiProvider>
  );
}

/** With only a session token we learn the user (and language) from the server. */
function SessionGate() {
  const trpc = useTRPC();
  const me = useQuery(trpc.session.me.queryOptions());
  // Same tick as session.me, so both ride in one batched request.
  useQuery(trpc.notes.list.queryOptions());
  if (me.isPending) return <Shell />;
  if (me.isError) {
    const locale = pickLocale(navigator.language);
    if (errorCode(me.error) === "UNAUTHORIZED") return <OutsideTelegram locale={locale} expired />;
    return (
      <UiProvider locale={locale} tg={undefined}>
        <main className="content">
          <ErrorState message={messages[locale].loadError} onRetry={() => void me.refetch()} />
        </main>
      </UiProvider>
    );
  }
  const user = me.data.user;
  return (
    <UiProvider locale={pickLocale(user.language_code ?? undefined)} tg={undefined}>
      <NotesApp userId={user.id} userName={user.first_name} />
    </UiProvider>
  );
}

/** Matches the list screen's layout so the first paint does not jump. */
function Shell() {
  return (
    <div className="app">
      <header className="top">
        <div className="skeleton-title" aria-hidden="true" />
      </header>
      <main className="content">
        <LoadingState />
      </main>
    </div>
  );
}
