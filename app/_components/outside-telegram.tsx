// Shown in a plain browser without launch parameters or a valid session:
// the diary is private, so the only way in is through the bot.
import type { Locale } from "../_lib/i18n";

const text = {
  ru: {
    title: "Дневник открывается в Telegram",
    expired: "Ссылка устарела или недействительна.",
    lead: "Записи в дневнике личные, поэтому он работает только внутри Telegram:",
    steps: ["Откройте бота дневника в Telegram.", "Отправьте команду /start.", "Нажмите кнопку «Открыть приложение» — или кнопку меню рядом с полем ввода."],
  },
  en: {
    title: "The diary opens in Telegram",
    expired: "This link has expired or is not valid.",
    lead: "Diary notes are private, so the app works only inside Telegram:",
    steps: ["Open the diary bot in Telegram.", "Send the /start command.", "Tap «Открыть приложение» (Open app) — or the menu button next to the message field."],
  },
} as const;

export function OutsideTelegram({ locale, expired = false }: { locale: Locale; expired?: boolean }) {
  const t = text[locale];
  return (
    <main className="outside" aria-labelledby="outside-title">
      <div className="outside-icon" aria-hidden="true">
        ✎
      </div>
      <h1 id="outside-title">{t.title}</h1>
      {expired && <p className="outside-expired">{t.expired}</p>}
      <p>{t.lead}</p>
      <ol>
        {t.steps.map((step) => (
          <li key={step}>{step}</li>
        ))}
      </ol>
    </main>
  );
}
