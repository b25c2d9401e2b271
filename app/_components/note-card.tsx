"use client";
import { NOTE_DATE_FORMAT } from "../_lib/i18n";
import { isTempNote } from "../_lib/use-notes";
import type { Note } from "../_lib/trpc";
import { useUi } from "./ui-context";

interface Props {
  note: Note;
  saving: boolean;
  onEdit(note: Note): void;
  onDelete(note: Note): void;
}

/** The boot script paints a static copy of this markup before React runs (_lib/boot/main.ts): change both. */
export function NoteCard({ note, saving, onEdit, onDelete }: Props) {
  const { t, locale } = useUi();
  const temp = isTempNote(note);
  const textId = `note-${note.id}-text`;
  const created = new Date(note.created_at);
  const edited = note.updated_at !== note.created_at;
  return (
    <li className="card" data-testid="note" data-pending={temp || saving || undefined} aria-busy={temp || saving}>
      <p id={textId} className="note-text">
        {note.text}
      </p>
      <div className="note-meta">
        <time dateTime={note.created_at}>{dateFormat(locale).format(created)}</time>
        {edited && !temp && <span> · {t.edited}</span>}
        {(temp || saving) && <span className="note-saving"> · {t.saving}</span>}
        <span className="note-actions">
          <button type="button" className="btn-link" disabled={temp} aria-describedby={textId} onClick={() => onEdit(note)}>
            {t.edit}
          </button>
          <button type="button" className="btn-link danger" disabled={temp} aria-describedby={textId} onClick={() => onDelete(note)}>
            {t.delete}
          </button>
        </span>
      </div>
    </li>
  );
}

const formats = new Map<string, Intl.DateTimeFormat>();
function dateFormat(locale: string): Intl.DateTimeFormat {
  let f = formats.get(locale);
  if (!f) formats.set(locale, (f = new Intl.DateTimeFormat(locale, NOTE_DATE_FORMAT)));
  return f;
}
