// Two languages, picked from Telegram's `language_code`. Russian is the
// default (the diary's audience); English for English speakers and for
// languages we do not have (a German user reads English more likely than Russian).
export type Locale = "ru" | "en";

export const RUSSIAN_FAMILY = ["ru", "uk", "be", "kk", "uz", "ky", "tg", "hy", "az", "ka"];

export function pickLocale(languageCode: string | undefined): Locale {
  if (!languageCode) return "ru";
  const base = languageCode.toLowerCase().split(/[-_]/)[0] ?? "";
  return RUSSIAN_FAMILY.includes(base) ? "ru" : "en";
}

const ru = {
  title: "Дневник",
  newNote: "Новая заметка",
  editNote: "Редактирование",
  save: "Сохранить",
  back: "Назад",
  edit: "Изменить",
  delete: "Удалить",
  noteLabel: "Текст заметки",
  placeholder: "Что сегодня было?",
  emptyTitle: "Пока ни одной заметки",
  emptyHint: "Запишите первую мысль — её увидите только вы.",
  loading: "Загружаем заметки…",
  loadError: "Не удалось загрузить заметки.",
  retry: "Повторить",
  saving: "Сохраняем…",
  notSaved: "Не сохранено",
  saveFailed: "Заметка не сохранена. Текст остался в списке — нажмите «Повторить».",
  saveFailedSession: "Заметка не сохранена: сессия истекла. Откройте дневник заново из бота — текст останется на этом устройстве.",
  deleteFailed: "Не удалось удалить заметку.",
  confirmDeleteTitle: "Удалить заметку?",
  confirmDeleteMessage: "Это действие нельзя отменить.",
  confirmDiscardTitle: "Выйти без сохранения?",
  confirmDiscardMessage: "Изменения будут потеряны.",
  discard: "Выйти",
  cancel: "Отмена",
  edited: "изменено",
  chars: (n: number, max: number) => `${n} / ${max}`,
  sessionExpired: "Сессия истекла. Откройте дневник заново из бота.",
  greeting: (name: string) => `Привет, ${name}!`,
  notesCount: (n: number) => {
    const m10 = n % 10;
    const m100 = n % 100;
    const word = m10 === 1 && m100 !== 11 ? "заметка" : m10 >= 2 && m10 <= 4 && (m100 < 12 || m100 > 14) ? "заметки" : "заметок";
    return `${n} ${word}`;
  },
};

export type Messages = typeof ru;

/** How a note's date is shown (also by the boot script's static list). */
export const NOTE_DATE_FORMAT: Intl.DateTimeFormatOptions = { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" };

const en: Messages = {
  title: "Diary",
  newNote: "New note",
  editNote: "Edit note",
  save: "Save",
  back: "Back",
  edit: "Edit",
  delete: "Delete",
  noteLabel: "Note text",
  placeholder: "What happened today?",
  emptyTitle: "No notes yet",
  emptyHint: "Write down your first thought — only you will see it.",
  loading: "Loading notes…",
  loadError: "Could not load your notes.",
  retry: "Try again",
  saving: "Saving…",
  notSaved: "Not saved",
  saveFailed: "The note was not saved. Your text is kept in the list: tap “Try again”.",
  saveFailedSession: "The note was not saved: your session has expired. Open the diary again from the bot; your text stays on this device.",
  deleteFailed: "Could not delete the note.",
  confirmDeleteTitle: "Delete this note?",
  confirmDeleteMessage: "This cannot be undone.",
  confirmDiscardTitle: "Leave without saving?",
  confirmDiscardMessage: "Your changes will be lost.",
  discard: "Leave",
  cancel: "Cancel",
  edited: "edited",
  chars: (n: number, max: number) => `${n} / ${max}`,
  sessionExpired: "Your session has expired. Open the diary again from the bot.",
  greeting: (name: string) => `Hi, ${name}!`,
  notesCount: (n: number) => `${n} ${n === 1 ? "note" : "notes"}`,
};

export const messages: Record<Locale, Messages> = { ru, en };
