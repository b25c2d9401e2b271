"use client";
// Notes as the screen sees them: the list query with the user's drafts laid
// over it (drafts.ts), writes that keep the text until the server has it,
// and delete with an optimistic update. The delete's rollback is targeted
// (undo only this change) rather than restoring a snapshot, so two
// overlapping changes cannot undo each other.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRef, useSyncExternalStore } from "react";
import { newDraftKey, type Draft, type DraftFailure, type DraftStore, type ListItem } from "./drafts";
import { errorCode, useTRPC, useTRPCClient, type Note } from "./trpc";

const byNewest = (a: Note, b: Note) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : b.id - a.id);

export function useNotesQuery() {
  const trpc = useTRPC();
  return useQuery(trpc.notes.list.queryOptions());
}

const NO_DRAFTS: readonly Draft[] = [];

export function useDrafts(store: DraftStore): readonly Draft[] {
  return useSyncExternalStore(store.subscribe, store.all, () => NO_DRAFTS);
}

export type Failure = { what: "save"; failure: DraftFailure } | { what: "delete" };

export function useNoteWrites(drafts: DraftStore, onFailure: (failure: Failure) => void) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const qc = useQueryClient();
  const key = trpc.notes.list.queryKey();
  const set = (fn: (notes: Note[]) => Note[]) => qc.setQueryData(key, (old) => (old ? fn(old) : old));
  /** Drafts with a request on the way: never two at once for one draft (a create would be made twice). */
  const sending = useRef(new Set<string>());

  /** A create whose answer was lost may have gone through: the note it made, if any. */
  const alreadySaved = async (draft: Draft) => {
    const notes = await qc.fetchQuery({ ...trpc.notes.list.queryOptions(), staleTime: 0 });
    return notes.find((n) => n.id > draft.afterId && n.text === draft.text.trim());
  };

  const send = async (draftKey: string): Promise<void> => {
    const draft = drafts.get(draftKey);
    if (!draft || sending.current.has(draftKey)) return;
    sending.current.add(draftKey);
    drafts.patch(draftKey, { state: "saving", sent: true, failure: undefined });
    let note: Note;
    try {
      if (draft.noteId !== undefined) note = await client.notes.update.mutate({ id: draft.noteId, text: draft.text });
      else note = (draft.sent ? await alreadySaved(draft) : undefined) ?? (await client.notes.create.mutate({ text: draft.text }));
    } catch (error) {
      sending.current.delete(draftKey);
      const code = errorCode(error);
      // The note was deleted elsewhere: the text is kept, and a retry makes it a new note.
      const gone = code === "NOT_FOUND" && draft.noteId !== undefined;
      const failure: DraftFailure = code === "UNAUTHORIZED" ? "session" : "other";
      drafts.patch(draftKey, { state: "failed", failure, ...(gone ? { noteId: undefined } : {}) });
      onFailure({ what: "save", failure });
      return;
    }
    sending.current.delete(draftKey);
    set((notes) => [note, ...notes.filter((n) => n.id !== note.id)].sort(byNewest));
    void qc.invalidateQueries({ queryKey: key });
    const now = drafts.get(draftKey);
    if (now && now.text !== draft.text) {
      // Saved again while this was on the way: the newer text goes to the note just saved.
      drafts.put({ ...now, noteId: note.id });
      void send(draftKey);
    } else if (now) {
      drafts.remove(draftKey);
    }
  };

  /** Saves the editor's text for a card (undefined: a new note). */
  const save = (item: ListItem | undefined, text: string) => {
    if (item?.draft) {
      drafts.put({ ...item.draft, text, state: "saving" });
      void send(item.draft.key);
      return;
    }
    if (item && text === item.note.text) return;
    const draftKey = newDraftKey();
    const afterId = Math.max(0, ...(qc.getQueryData(key) ?? []).map((n) => n.id));
    drafts.put({ key: draftKey, noteId: item?.note.id, text, savedAt: new Date().toISOString(), afterId, sent: false, state: "saving" });
    void send(draftKey);
  };

  const retry = (draftKey: string) => void send(draftKey);

  const remove = useMutation(
    trpc.notes.delete.mutationOptions({
      onMutate: async ({ id }) => {
        await qc.cancelQueries({ queryKey: key });
        const before = qc.getQueryData(key)?.find((n) => n.id === id);
        set((notes) => notes.filter((n) => n.id !== id));
        return { before };
      },
      // Deleting a note also ends what was still unsaved in it.
      onSuccess: (_data, { id }) => drafts.all().forEach((d) => d.noteId === id && drafts.remove(d.key)),
      onError: (_err, _vars, ctx) => {
        const before = ctx?.before;
        if (before) set((notes) => [...notes.filter((n) => n.id !== before.id), before].sort(byNewest));
        onFailure({ what: "delete" });
      },
      onSettled: () => {
        // Refetch once the last overlapping delete settles, so a refetch never
        // lands between an optimistic change and its server answer.
        if (qc.isMutating({ mutationKey: trpc.notes.delete.mutationKey() }) <= 1) void qc.invalidateQueries({ queryKey: key });
      },
    }),
  );

  /** Deletes a card: the note on the server, or a new note's draft that never got there. */
  const del = (item: ListItem) => {
    if (item.note.id > 0) remove.mutate({ id: item.note.id });
    else if (item.draft) drafts.remove(item.draft.key);
  };

  return { save, retry, del };
}
