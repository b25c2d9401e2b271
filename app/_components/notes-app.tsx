"use client";
// The diary itself: a list screen and an editor screen, with the writes
// going through optimistic mutations.
import { useCallback, useEffect, useState } from "react";
import type { Note } from "../_lib/trpc";
import { useNoteMutations, type Failure } from "../_lib/use-notes";
import { EditorScreen } from "./editor-screen";
import { ListScreen } from "./list-screen";
import { useUi } from "./ui-context";

type View = { screen: "list" } | { screen: "editor"; note: Note | undefined };

export function NotesApp({ userName }: { userName: string | undefined }) {
  const { t, haptic, confirm } = useUi();
  const [view, setView] = useState<View>({ screen: "list" });
  const [toast, setToast] = useState<string | null>(null);

  const onFailure = useCallback(
    (what: Failure) => {
      haptic("error");
      setToast(what === "save" ? t.saveFailed : t.deleteFailed);
    },
    [haptic, t],
  );
  const { create, update, remove } = useNoteMutations(onFailure);

  useEffect(() => {
    if (!toast) return;
    const timer = setTimeout(() => setToast(null), 5000);
    return () => clearTimeout(timer);
  }, [toast]);

  const save = (text: string) => {
    const note = view.screen === "editor" ? view.note : undefined;
    if (!note) create.mutate({ text });
    else if (text !== note.text) update.mutate({ id: note.id, text });
    haptic("success");
    setView({ screen: "list" });
  };

  const del = async (note: Note) => {
    haptic("tap");
    if (!(await confirm({ title: t.confirmDeleteTitle, message: t.confirmDeleteMessage, ok: t.delete }))) return;
    remove.mutate({ id: note.id });
    haptic("success");
  };

  return (
    <div className="app">
      {view.screen === "list" ? (
        <ListScreen
          userName={userName}
          onNew={() => {
            haptic("tap");
            setView({ screen: "editor", note: undefined });
          }}
          onEdit={(note) => {
            haptic("tap");
            setView({ screen: "editor", note });
          }}
          onDelete={(note) => void del(note)}
        />
      ) : (
        <EditorScreen key={view.note?.id ?? "new"} note={view.note} onSave={save} onClose={() => setView({ screen: "list" })} />
      )}
      <div className="toast-region" aria-live="assertive">
        {toast && (
          <div className="toast" role="alert">
            {toast}
            <button type="button" className="btn-link" aria-label={t.cancel} onClick={() => setToast(null)}>
              ✕
            </button>
          </div>
        )}
      </div>
    </div>
  );
}
