// The boot script's text for the root layout's inline <script> (what it does:
// main.ts). Server only, evaluated when the page is prerendered at build time.
//
// Why `(${bootMain})(config)`: the script has to be inline (a src= script
// would add a request before the notes request can start) and should stay
// tiny, yet be code we can read, type-check and review. Serializing a typed
// function gives all three with no build step of our own (the same pattern
// as next-themes' theme script): Next compiles and minifies main.ts like any
// server module, and Function.prototype.toString hands back exactly that
// minified text. What keeps it working is that bootMain is self-contained,
// see the rules in main.ts. The wording comes from i18n.ts here, at build
// time, so the copy cannot drift from the app's.
import { PREPAINT_TAG, SESSION_TOKEN_KEY } from "../boot-data";
import { messages, NOTE_DATE_FORMAT, RUSSIAN_FAMILY, type Locale } from "../i18n";
import { bootMain, type BootConfig, type ListText } from "./main";

/**
 * The word after the count for each plural category of the locale, taken
 * from messages.notesCount; the browser picks the category with
 * Intl.PluralRules. Fails the build if the two ever disagree.
 */
function countWords(locale: Locale): ListText["count"] {
  const rules = new Intl.PluralRules(locale);
  const words: ListText["count"] = {};
  for (let n = 0; n < 200; n++) words[rules.select(n)] ??= messages[locale].notesCount(n).slice(`${n} `.length);
  for (let n = 0; n < 200; n++) {
    if (`${n} ${words[rules.select(n)]}` !== messages[locale].notesCount(n)) throw new Error(`boot script: notesCount(${n}) in "${locale}" does not follow Intl.PluralRules`);
  }
  return words;
}

function listText(locale: Locale): ListText {
  const t = messages[locale];
  // Split around a stand-in for the name; the browser joins it with the real one.
  const name = "\u0001";
  return { title: t.title, newNote: t.newNote, edit: t.edit, del: t.delete, edited: t.edited, greeting: t.greeting(name).split(name), count: countWords(locale) };
}

const config: BootConfig = {
  tag: PREPAINT_TAG,
  sessionKey: SESSION_TOKEN_KEY,
  ru: RUSSIAN_FAMILY,
  date: NOTE_DATE_FORMAT,
  text: { ru: listText("ru"), en: listText("en") },
};

// JSON inside a <script>: "<" escaped so no string can close the tag.
const configJson = JSON.stringify(config).replace(/</g, "\\u003c");

// Our own code, but a stray "</script" or "<!--" in it (a string, a
// comment kept in a dev build) would still break the page: fail instead.
const source = bootMain.toString();
if (/<\/script|<!--/i.test(source)) throw new Error("boot script: main.ts's source must not contain </script or <!--");

export const bootScript = `(${source})(${configJson})`;
