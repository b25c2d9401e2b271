"use client";
import { useCallback, useEffect, useMemo, useState, type ReactNode } from "react";
import { messages, type Locale } from "../_lib/i18n";
import { can, haptic as tgHaptic, nativeConfirm, type ConfirmText, type Haptic, type LaunchContext } from "../_lib/telegram";
import { ConfirmDialog } from "./confirm-dialog";
import { UiContext, type Ui } from "./ui-context";

interface Pending {
  text: ConfirmText;
  resolve(ok: boolean): void;
}

export function UiProvider({ locale, tg, children }: { locale: Locale; tg: LaunchContext | undefined; children: ReactNode }) {
  const [pending, setPending] = useState<Pending | null>(null);
  const t = messages[locale];
  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);

  const confirm = useCallback(
    (text: ConfirmText) => {
      if (tg && can(tg, "web_app_open_popup")) return nativeConfirm(text);
      return new Promise<boolean>((resolve) => setPending({ text, resolve }));
    },
    [tg],
  );
  const haptic = useCallback((kind: Haptic) => tg && tgHaptic(tg, kind), [tg]);

  const ui = useMemo<Ui>(() => ({ locale, t, tg, native: tg?.native ?? false, haptic, confirm }), [locale, t, tg, haptic, confirm]);

  return (
    <UiContext.Provider value={ui}>
      {children}
      {pending && (
        <ConfirmDialog
          text={pending.text}
          cancelLabel={t.cancel}
          onClose={(ok) => {
            pending.resolve(ok);
            setPending(null);
          }}
        />
      )}
    </UiContext.Provider>
  );
}
