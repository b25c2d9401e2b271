"use client";
// In-app confirmation for when Telegram's popup is not available (a browser,
// an old client). A native <dialog> gives focus trapping, Esc and inertness
// of the page for free.
import { useEffect, useRef } from "react";
import type { ConfirmText } from "../_lib/telegram";

interface Props {
  text: ConfirmText;
  cancelLabel: string;
  onClose(ok: boolean): void;
}

export function ConfirmDialog({ text, cancelLabel, onClose }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  return (
    <dialog ref={ref} className="confirm" aria-labelledby="confirm-title" aria-describedby="confirm-message" onCancel={() => onClose(false)}>
      <h2 id="confirm-title">{text.title}</h2>
      <p id="confirm-message">{text.message}</p>
      <div className="confirm-actions">
        <button type="button" className="btn btn-plain" autoFocus onClick={() => onClose(false)}>
          {cancelLabel}
        </button>
        <button type="button" className="btn btn-danger" onClick={() => onClose(true)}>
          {text.ok}
        </button>
      </div>
    </dialog>
  );
}
