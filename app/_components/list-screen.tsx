"use client";
import { useLayoutEffect } from "react";
import { endPrepaint } from "../_lib/boot-data";
import { withDrafts, type Draft, type ListItem } from "../_lib/drafts";
import { errorCode } from "../_lib/trpc";
import { useMainButton } from "../_lib/use-telegram-controls";
import { useNotesQuery } from "../_lib/use-notes";
import { EmptyState, ErrorState, LoadingState } from "./list-states";
import { NoteCard } from "./note-card";
import { useUi } from "./ui-context";

interface Props {
  userName: string | undefined;
  drafts: readonly Draft[];
  onNew(): void;
  onEdit(item: ListItem): void;
  onDelete(item: ListItem): void;
  onRetry(draftKey: string): void;
}

/** The boot script paints a static copy of this markup before React runs (_lib/boot/main.ts): change both. */
export function ListScreen({ userName, drafts, onNew, onEdit, onDelete, onRetry }: Props) {
  const { t, native } = useUi();
  const notes = useNotesQuery();
  useMainButton({ text: t.newNote, onClick: onNew });
  // The boot script may already show these notes as a static copy: swap it
  // for this screen in the same frame once there is something to show, or
  // when leaving the list before that (e.g. Telegram's MainButton).
  const settled = notes.data !== undefined || notes.isError;
  useLayoutEffect(() => {
    if (settled) endPrepaint();
    return endPrepaint;
  }, [settled]);

  // Unsaved drafts show even when the list cannot load: they are on this device.
  const items = notes.data || notes.isError ? withDrafts(notes.data ?? [], drafts) : [];
  const list = items.length > 0 && (
    <ul className="notes" aria-label={t.title}>
      {items.map((item) => (
        <NoteCard key={item.key} item={item} onEdit={onEdit} onDelete={onDelete} onRetry={onRetry} />
      ))}
    </ul>
  );
  let body;
  if (notes.isError && !notes.data) {
    const expired = errorCode(notes.error) === "UNAUTHORIZED";
    body = (
      <>
        {list}
        <ErrorState message={expired ? t.sessionExpired : t.loadError} onRetry={() => void notes.refetch()} />
      </>
    );
  } else if (notes.data) {
    body = list || <EmptyState />;
  } else {
    body = <LoadingState label={t.loading} />;
  }

  return (
    <>
      <header className="top">
        <h1>{t.title}</h1>
        <p className="subtitle">
          {userName ? t.greeting(userName) : null}
          {items.length > 0 ? ` ${t.notesCount(items.length)}` : null}
        </p>
      </header>
      <main className="content">{body}</main>
      {!native && (
        <footer className="action-bar">
          <button type="button" className="btn btn-primary" onClick={onNew}>
            {t.newNote}
          </button>
        </footer>
      )}
    </>
  );
}
