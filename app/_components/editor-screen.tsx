"use client";
import { useId, useState, type FormEvent, type KeyboardEvent } from "react";
import { can } from "../_lib/telegram";
import type { Note } from "../_lib/trpc";
import { useBackButton, useClosingConfirmation, useMainButton } from "../_lib/use-telegram-controls";
import { useUi } from "./ui-context";

/** Same limit as the API (SPEC §5: 1..4000 characters). */
export const NOTE_MAX = 4000;

interface Props {
  note: Note | undefined;
  onSave(text: string): void;
  onClose(): void;
}

export function EditorScreen({ note, onSave, onClose }: Props) {
  const { t, native, tg, confirm } = useUi();
  const [text, setText] = useState(note?.text ?? "");
  const fieldId = useId();
  const trimmed = text.trim();
  const dirty = trimmed !== (note?.text ?? "").trim();
  const valid = trimmed.length > 0 && text.length <= NOTE_MAX;

  const save = () => {
    if (valid) onSave(trimmed);
  };
  const back = async () => {
    if (!dirty || (await confirm({ title: t.confirmDiscardTitle, message: t.confirmDiscardMessage, ok: t.discard }))) onClose();
  };

  useMainButton({ text: t.save, enabled: valid, onClick: save });
  useBackButton(() => void back());
  useClosingConfirmation(dirty);
  // Telegram's BackButton replaces ours only when the client can show it.
  const nativeBack = tg !== undefined && can(tg, "web_app_setup_back_button");

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    save();
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      save();
    }
  };

  return (
    <form className="editor" onSubmit={onSubmit}>
      <header className="top top-row">
        {!nativeBack && (
          <button type="button" className="btn-link back" onClick={() => void back()}>
            ‹ {t.back}
          </button>
        )}
        {/* A new note that has only been saved as a draft is still a new note. */}
        <h1>{note && note.id > 0 ? t.editNote : t.newNote}</h1>
      </header>
      <main className="content editor-body">
        <label htmlFor={fieldId} className="field-label">
          {t.noteLabel}
        </label>
        <textarea
          id={fieldId}
          className="field"
          value={text}
          maxLength={NOTE_MAX}
          placeholder={t.placeholder}
          autoFocus
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKeyDown}
          aria-describedby={`${fieldId}-count`}
        />
        <p id={`${fieldId}-count`} className="counter">
          {t.chars(text.length, NOTE_MAX)}
        </p>
      </main>
      {!native && (
        <footer className="action-bar">
          <button type="submit" className="btn btn-primary" disabled={!valid}>
            {t.save}
          </button>
        </footer>
      )}
    </form>
  );
}
