"use client";
import { NOTE_DATE_FORMAT } from "../_lib/i18n";
import type { ListItem } from "../_lib/drafts";
import { useUi } from "./ui-context";

interface Props {
  item: ListItem;
  onEdit(item: ListItem): void;
  onDelete(item: ListItem): void;
  onRetry(draftKey: string): void;
}

/** The boot script paints a static copy of this markup before React runs (_lib/boot/main.ts): change both. */
export function NoteCard({ item, onEdit, onDelete, onRetry }: Props) {
  const { t, locale } = useUi();
  const { note, draft } = item;
  const saving = draft?.state === "saving";
  const failed = draft?.state === "failed";
  // A new note the server has not answered for yet has nothing to edit or delete there.
  const inFlight = saving && note.id < 0;
  const textId = `note-${item.key}-text`;
  const created = new Date(note.created_at);
  const edited = note.updated_at !== note.created_at;
  return (
    <li className="card" data-testid="note" data-pending={saving || undefined} data-failed={failed || undefined} aria-busy={saving}>
      <p id={textId} className="note-text">
        {note.text}
      </p>
      <div className="note-meta">
        <time dateTime={note.created_at}>{dateFormat(locale).format(created)}</time>
        {edited && !draft && <span> · {t.edited}</span>}
        {saving && <span className="note-saving"> · {t.saving}</span>}
        {failed && <span className="note-failed">{t.notSaved}</span>}
        <span className="note-actions">
          {failed && (
            <button type="button" className="btn-link strong" aria-describedby={textId} onClick={() => onRetry(draft.key)}>
              {t.retry}
            </button>
          )}
          <button type="button" className="btn-link" disabled={inFlight} aria-describedby={textId} onClick={() => onEdit(item)}>
            {t.edit}
          </button>
          <button type="button" className="btn-link danger" disabled={inFlight} aria-describedby={textId} onClick={() => onDelete(item)}>
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
