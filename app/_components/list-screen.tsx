"use client";
import { useLayoutEffect } from "react";
import { endPrepaint } from "../_lib/boot-data";
import { errorCode, type Note } from "../_lib/trpc";
import { useMainButton } from "../_lib/use-telegram-controls";
import { useNotesQuery, useSavingIds } from "../_lib/use-notes";
import { EmptyState, ErrorState, LoadingState } from "./list-states";
import { NoteCard } from "./note-card";
import { useUi } from "./ui-context";

interface Props {
  userName: string | undefined;
  onNew(): void;
  onEdit(note: Note): void;
  onDelete(note: Note): void;
}

/** The boot script paints a static copy of this markup before React runs (_lib/boot/main.ts): change both. */
export function ListScreen({ userName, onNew, onEdit, onDelete }: Props) {
  const { t, native } = useUi();
  const notes = useNotesQuery();
  const saving = useSavingIds();
  useMainButton({ text: t.newNote, onClick: onNew });
  // The boot script may already show these notes as a static copy: swap it
  // for this screen in the same frame once there is something to show, or
  // when leaving the list before that (e.g. Telegram's MainButton).
  const settled = notes.data !== undefined || notes.isError;
  useLayoutEffect(() => {
    if (settled) endPrepaint();
    return endPrepaint;
  }, [settled]);

  let body;
  if (notes.data) {
    body =
      notes.data.length === 0 ? (
        <EmptyState />
      ) : (
        <ul className="notes" aria-label={t.title}>
          {notes.data.map((note) => (
            <NoteCard key={note.id} note={note} saving={saving.has(note.id)} onEdit={onEdit} onDelete={onDelete} />
          ))}
        </ul>
      );
  } else if (notes.isError) {
    const expired = errorCode(notes.error) === "UNAUTHORIZED";
    body = <ErrorState message={expired ? t.sessionExpired : t.loadError} onRetry={() => void notes.refetch()} />;
  } else {
    body = <LoadingState label={t.loading} />;
  }

  return (
    <>
      <header className="top">
        <h1>{t.title}</h1>
        <p className="subtitle">
          {userName ? t.greeting(userName) : null}
          {notes.data && notes.data.length > 0 ? ` ${t.notesCount(notes.data.length)}` : null}
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
