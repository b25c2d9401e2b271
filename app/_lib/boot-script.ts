// The one inline script in <head>, run before any bundle is downloaded:
// 1. applies Telegram's theme from the launch hash (no white flash in a dark
//    client; theme.ts repeats this on theme_changed, keep them in step);
// 2. starts fetching notes.list with the same credentials the app will use,
//    so the request overlaps the ~160 KB of framework JavaScript being
//    parsed instead of waiting for hydration. The app takes the answer once
//    (boot-data.ts); on any failure it simply makes the normal tRPC call;
// 3. when launched from Telegram (initData in the hash), paints that answer
//    as a static copy of the list screen the moment it arrives. On a slow
//    phone React needs another 0.5–1 s to parse, hydrate and render
//    (issue 5: notes visible ≤ 1 s on a 4× slower CPU). The copy uses the
//    same markup and classes as ListScreen/NoteCard (keep them in step;
//    tests/e2e/first-paint.spec.ts compares the two pixel for pixel), text
//    only through textContent (never HTML), and its buttons are
//    aria-disabled until ListScreen swaps it out in one frame (endPrepaint). A launch with only
//    a session token gets no copy: its language and name come from the
//    server (session.me), so the copy could not match.
// Text nodes are split where React splits them (greeting | count, " · " |
// "edited"): text shaped in one run lands on slightly different subpixels.
// Written in ES5 on purpose: it is shipped as is, unbundled. Imported only
// by the root layout (a server component): the strings below are taken from
// i18n.ts at build time, so the copy cannot drift from the app's wording.
import { PREPAINT_TAG } from "./boot-data";
import { messages, NOTE_DATE_FORMAT, RUSSIAN_FAMILY, type Locale } from "./i18n";

/** Stands for the user's first name in the greeting template. */
const NAME = "\u0001";

/**
 * The word after the count for each plural category of the locale, taken
 * from messages.notesCount; the browser picks the category with
 * Intl.PluralRules. Fails the build if the two ever disagree.
 */
function countWords(locale: Locale): Partial<Record<Intl.LDMLPluralRule, string>> {
  const rules = new Intl.PluralRules(locale);
  const words: Partial<Record<Intl.LDMLPluralRule, string>> = {};
  for (let n = 0; n < 200; n++) words[rules.select(n)] ??= messages[locale].notesCount(n).slice(`${n} `.length);
  for (let n = 0; n < 200; n++) {
    if (`${n} ${words[rules.select(n)]}` !== messages[locale].notesCount(n)) throw new Error(`boot script: notesCount(${n}) in "${locale}" does not follow Intl.PluralRules`);
  }
  return words;
}

function listText(locale: Locale) {
  const t = messages[locale];
  return { title: t.title, newNote: t.newNote, edit: t.edit, del: t.delete, edited: t.edited, greeting: t.greeting(NAME), count: countWords(locale) };
}

const config = {
  name: NAME,
  ru: RUSSIAN_FAMILY,
  date: NOTE_DATE_FORMAT,
  text: { ru: listText("ru"), en: listText("en") },
};

// JSON inside a <script>: "<" escaped so no string can close the tag.
const configJson = JSON.stringify(config).replace(/</g, "\\u003c");

export const bootScript = `(function(){var C=${configJson},w=window,D=document;try{
var d=D.documentElement,h=new URLSearchParams(location.hash.slice(1)),k="diary.theme",t=h.get("tgWebAppThemeParams");
if(t){sessionStorage.setItem(k,t)}else{t=sessionStorage.getItem(k)}
if(t){var o=JSON.parse(t);
for(var n in o){var v=o[n];if(/^[a-z_]+$/.test(n)&&typeof v=="string"&&/^#[0-9a-f]{3,8}$/i.test(v))d.style.setProperty("--tg-theme-"+n.replace(/_/g,"-"),v)}
var b=o.bg_color;if(typeof b=="string"&&/^#[0-9a-f]{6}$/i.test(b)){var x=parseInt(b.slice(1),16);d.dataset.scheme=(0.2126*(x>>16&255)+0.7152*(x>>8&255)+0.0722*(x&255))<128?"dark":"light"}}
}catch(e){}try{
var i=h.get("tgWebAppData"),s=new URLSearchParams(location.search).get("session"),a=i?["Authorization","tma "+i]:s?["X-Session-Token",s]:null;
if(a&&w.fetch){var H={};H[a[0]]=a[1];
var p=w.__diaryNotes={header:a[0]+": "+a[1],data:fetch("/api/trpc/notes.list?batch=1&input=%7B%7D",{headers:H}).then(function(r){return r.ok?r.json():null}).catch(function(){return null})};
if(i)p.data.then(function(j){var l=j&&j[0]&&j[0].result&&j[0].result.data;if(l&&l.length){if(D.body)paint(l,i);else D.addEventListener("DOMContentLoaded",function(){paint(l,i)})}})}
}catch(e){}
function el(tag,cls,text,parent){var e=D.createElement(tag);if(cls)e.className=cls;if(text)e.textContent=text;if(parent)parent.appendChild(e);return e}
function btn(cls,text,parent,describedBy){var e=el("button",cls,text,parent);e.type="button";e.setAttribute("aria-disabled","true");if(describedBy)e.setAttribute("aria-describedby",describedBy)}
function paint(l,i){try{
if(w.__diaryLive||!D.body)return;
var u=null;try{u=JSON.parse(new URLSearchParams(i).get("user"))}catch(e){}
if(!u||typeof u.id!="number")u={};
var c=typeof u.language_code=="string"?u.language_code:"",loc=!c||C.ru.indexOf(c.toLowerCase().split(/[-_]/)[0])>=0?"ru":"en",T=C.text[loc],
name=typeof u.first_name=="string"?u.first_name:"",P=w.TelegramWebviewProxy,E=w.external,
nat=!!(P&&typeof P.postEvent=="function")||!!(E&&typeof E.notify=="function");
try{nat=nat||w.self!==w.top}catch(e){nat=true}
var root=el("${PREPAINT_TAG}","app"),hd=el("header","top",0,root),f=new Intl.DateTimeFormat(loc,C.date);
el("h1",0,T.title,hd);
el("p","subtitle",name?T.greeting.split(C.name).join(name):"",hd).appendChild(D.createTextNode(" "+l.length+" "+T.count[new Intl.PluralRules(loc).select(l.length)]));
var ul=el("ul","notes",0,el("main","content",0,root));ul.setAttribute("aria-label",T.title);
for(var k=0;k<l.length;k++){var N=l[k],id="prepaint-note-"+k,li=el("li","card",0,ul);
li.setAttribute("data-testid","note");li.setAttribute("aria-busy","false");
el("p","note-text",N.text,li).id=id;
var m=el("div","note-meta",0,li);el("time",0,f.format(new Date(N.created_at)),m).setAttribute("datetime",N.created_at);
if(N.updated_at!==N.created_at)el("span",0," \\u00b7 ",m).appendChild(D.createTextNode(T.edited));
var acts=el("span","note-actions",0,m);btn("btn-link",T.edit,acts,id);btn("btn-link danger",T.del,acts,id)}
if(!nat)btn("btn btn-primary",T.newNote,el("footer","action-bar",0,root));
d.lang=loc;D.body.insertBefore(root,D.body.firstChild)
}catch(e){}}
})()`;
