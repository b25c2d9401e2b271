"use client";
// The diary itself: a list screen and an editor screen. Saving returns to
// the list at once; the text stays there as a draft until the server has
// it, and after a failure with a retry (drafts.ts).
import { useCallback, useEffect, useState } from "react";
import { DraftStore, type ListItem } from "../_lib/drafts";
import { useDrafts, useNoteWrites, type Failure } from "../_lib/use-notes";
import { EditorScreen } from "./editor-screen";
import { ListScreen } from "./list-screen";
import { useUi } from "./ui-context";

type View = { screen: "list" } | { screen: "editor"; item: ListItem | undefined };

export function NotesApp({ userId, userName }: { userId: number | undefined; userName: string | undefined }) {
  const { t, haptic, confirm } = useUi();
  const [view, setView] = useState<View>({ screen: "list" });
  const [toast, setToast] = useState<string | null>(null);
  // One Telegram account's drafts are not shown to another on the same device.
  const [store] = useState(() => new DraftStore(`diary.drafts.${userId ?? "unknown"}`));
  const drafts = useDrafts(store);

  const onFailure = useCallback(
    (failure: Failure) => {
      haptic("error");
      if (failure.what === "delete") setToast(t.deleteFailed);
      else setToast(failure.failure === "session" ? t.saveFailedSession : t.saveFailed);
    },
    [haptic, t],
  );
  const { save, retry, del } = useNoteWrites(store, onFailure);

  useEffect(() => {
    if (!toast) return;
    const timer = setTimeout(() => setToast(null), 6000);
    return () => clearTimeout(timer);
  }, [toast]);

  const onSave = (text: string) => {
    save(view.screen === "editor" ? view.item : undefined, text);
    haptic("success");
    setView({ screen: "list" });
  };

  const onDelete = async (item: ListItem) => {
    haptic("tap");
    if (!(await confirm({ title: t.confirmDeleteTitle, message: t.confirmDeleteMessage, ok: t.delete }))) return;
    del(item);
    haptic("success");
  };

  return (
    <div className="app">
      {view.screen === "list" ? (
        <ListScreen
          userName={userName}
          drafts={drafts}
          onNew={() => {
            haptic("tap");
            setView({ screen: "editor", item: undefined });
          }}
          onEdit={(item) => {
            haptic("tap");
            setView({ screen: "editor", item });
          }}
          onDelete={(item) => void onDelete(item)}
          onRetry={(draftKey) => {
            haptic("tap");
            setToast(null);
            retry(draftKey);
          }}
        />
      ) : (
        <EditorScreen key={view.item?.key ?? "new"} note={view.item?.note} onSave={onSave} onClose={() => setView({ screen: "list" })} />
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
